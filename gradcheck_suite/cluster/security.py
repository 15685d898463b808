"""Which scheduler addresses `batch --scheduler` connects to, and how.

Dask's protocol is unauthenticated: whoever reaches the scheduler can run code on every worker
(and the tasks carry the class's secret seed and the submissions). So a plain `tcp://` address is
accepted only on the loopback (a scheduler on this machine, `tcp://127.0.0.1:8786`); anything else
must be `tls://`, with the client's certificate and the cluster's CA from --tls-ca-file,
--tls-cert and --tls-key, or from Dask's own configuration (`distributed.comm.tls.*`).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ClusterError

__all__ = ["DEFAULT_SCHEDULER", "TlsFiles", "check_address", "is_loopback", "security_for"]

DEFAULT_SCHEDULER = "tcp://127.0.0.1:8786"  # what `dask scheduler --host 127.0.0.1` listens on


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def given(self) -> bool:
        return any((self.ca_file, self.cert, self.key))


def is_loopback(host: str) -> bool:
    """A literal loopback address, or a name all of whose addresses are loopback ones."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in found)


def check_address(address: str, tls: TlsFiles = TlsFiles()) -> str:
    """The scheduler's address with its scheme (tcp:// when none is written); ClusterError, saying
    what to do instead, for an address that would send the class over the network in the clear."""
    full = address if "://" in address else f"tcp://{address}"
    parts = urlsplit(full)
    scheme, host = parts.scheme, parts.hostname
    if scheme not in ("tcp", "tls") or not host:
        raise ClusterError(f"--scheduler {address}: expected tcp://HOST:PORT (this machine only) or "
                           f"tls://HOST:PORT, e.g. {DEFAULT_SCHEDULER}")
    if scheme == "tcp":
        if tls.given:
            raise ClusterError(f"--scheduler {address}: --tls-ca-file, --tls-cert and --tls-key need a tls:// address")
        if not is_loopback(host):
            raise ClusterError(
                f"--scheduler {address}: refused: Dask's tcp:// protocol is neither authenticated nor encrypted, "
                "and anyone who reaches the scheduler can run code on its workers and read the class's secret "
                "seed and submissions. Use a loopback address (a scheduler on this machine, "
                f"{DEFAULT_SCHEDULER}), or tls://{host}:{parts.port or 8786} with --tls-ca-file, --tls-cert and "
                "--tls-key (see docs/instructors.md, 'Grading on a Dask cluster')")
    elif tls.given and not all((tls.ca_file, tls.cert, tls.key)):
        raise ClusterError(f"--scheduler {address}: give all three of --tls-ca-file, --tls-cert and --tls-key")
    return full


def security_for(address: str, tls: TlsFiles = TlsFiles()):
    """The distributed.Security object for a checked address: None for tcp://; for tls://, the files
    given, else Dask's configuration (ClusterError when that names no CA either)."""
    if not address.startswith("tls://"):
        return None
    from distributed.security import Security

    if tls.given:
        return Security(tls_ca_file=tls.ca_file, tls_client_cert=tls.cert, tls_client_key=tls.key,
                        require_encryption=True)
    security = Security(require_encryption=True)  # reads distributed.comm.tls.* from Dask's configuration
    if not getattr(security, "tls_ca_file", None):
        raise ClusterError(f"--scheduler {address}: a tls:// scheduler needs --tls-ca-file, --tls-cert and "
                           "--tls-key (or distributed.comm.tls.ca-file, .client.cert and .client.key in Dask's "
                           "configuration)")
    return security
