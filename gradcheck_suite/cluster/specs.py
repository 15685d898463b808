"""Text that starts grading workers elsewhere: a Slurm job script and a Kubernetes DaskCluster spec.

`gradcheck-suite cluster-spec --slurm|--kubernetes` prints them. The Slurm script starts
`dask worker` processes (one thread each: one sandbox grades one submission at a time) that join a
scheduler already running; `sbatch` it as often as jobs are wanted (dask-jobqueue's SLURMCluster
writes a script of the same shape). The Kubernetes spec is a `DaskCluster` resource of the Dask
operator (dask-kubernetes): `kubectl apply -f` it, or `KubeCluster(custom_cluster_spec=...)`. Neither
tool is needed to write them; the tests check the text.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import yaml

from .security import TlsFiles

__all__ = ["TLS_MOUNT", "WorkerSpec", "kubernetes_spec", "slurm_script"]

TLS_MOUNT = "/etc/gradcheck-suite/tls"  # where the Kubernetes spec mounts its TLS secret (ca.pem, cert.pem, key.pem)


@dataclass(frozen=True)
class WorkerSpec:
    """What every generated worker gets."""

    processes: int = 2  # worker processes per Slurm job or Kubernetes pod: one per core
    memory: str = "4GiB"  # per worker process: the sandbox bounds each submission below it
    threads: int = 1  # per worker process: a sandbox grades one submission at a time


def _worker_arguments(spec: WorkerSpec, tls: TlsFiles) -> list[str]:
    arguments = ["--nworkers", str(spec.processes), "--nthreads", str(spec.threads),
                 "--memory-limit", spec.memory, "--no-dashboard"]
    if tls.given:
        arguments += ["--tls-ca-file", str(tls.ca_file), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    return arguments


def slurm_script(scheduler: str, spec: WorkerSpec = WorkerSpec(), tls: TlsFiles = TlsFiles(),
                 walltime: str = "02:00:00", partition: str | None = None, python: str = "python3") -> str:
    """An sbatch script: one job of `spec.processes` worker processes joining `scheduler`."""
    memory_gib = _gib(spec.memory) * spec.processes + 1  # the workers, and room for their sandboxes' zygotes
    lines = ["#!/usr/bin/env bash", "#SBATCH --job-name=gradcheck-workers", "#SBATCH --nodes=1",
             "#SBATCH --ntasks=1", f"#SBATCH --cpus-per-task={spec.processes * spec.threads}",
             f"#SBATCH --mem={memory_gib}G", f"#SBATCH --time={walltime}",
             "#SBATCH --output=gradcheck-workers-%j.out"]
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    command = [python, "-m", "distributed.cli.dask_worker", scheduler, *_worker_arguments(spec, tls),
               "--name", "gradcheck-$SLURM_JOB_ID", "--death-timeout", "120"]
    lines += ["", "# one thread per worker process; torch's own threads would only compete with the other workers",
              "export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1",
              "# workers reach the sandbox's full level only as root; otherwise namespaces (user namespaces",
              "# allowed) or processes: every submission's JSON says which (--require-isolation refuses less)",
              " ".join(shlex.quote(part) if "$" not in part else f'"{part}"' for part in command), ""]
    return "\n".join(lines)


def _gib(memory: str) -> int:
    units = {"GiB": 1, "GB": 1, "G": 1, "MiB": 1 / 1024, "MB": 1 / 1024, "M": 1 / 1024}
    for unit, scale in units.items():
        if memory.endswith(unit) and memory[: -len(unit)].replace(".", "", 1).isdigit():
            return max(1, round(float(memory[: -len(unit)]) * scale))
    raise ValueError(f"memory {memory!r}: expected a size such as 4GiB or 512MiB")


def kubernetes_spec(image: str, spec: WorkerSpec = WorkerSpec(), replicas: int = 2, name: str = "gradcheck",
                    tls_secret: str | None = None, privileged: bool = False) -> str:
    """A DaskCluster resource (kubernetes.dask.org/v1): a scheduler and `replicas` worker pods of
    `spec.processes` worker processes each, all from `image` (gradcheck-suite[cluster] installed).
    `tls_secret`: a Secret holding ca.pem, cert.pem and key.pem, mounted at TLS_MOUNT and used by
    the scheduler and the workers (the scheduler then listens on tls://). `privileged`: what a
    container needs for the sandbox's full level on most runtimes; without it, the workers run as
    root and reach the level the runtime allows, which each submission's JSON reports."""
    tls = TlsFiles(f"{TLS_MOUNT}/ca.pem", f"{TLS_MOUNT}/cert.pem", f"{TLS_MOUNT}/key.pem") if tls_secret else TlsFiles()
    scheme = "tls" if tls_secret else "tcp"
    scheduler_address = f"{scheme}://{name}-scheduler:8786"
    security: dict = {"runAsUser": 0}
    if privileged:
        security["privileged"] = True
    volumes = [{"name": "tls", "secret": {"secretName": tls_secret}}] if tls_secret else []
    mounts = [{"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True}] if tls_secret else []
    tls_arguments = ["--tls-ca-file", str(tls.ca_file), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)] \
        if tls_secret else []
    worker = {"name": "worker", "image": image, "imagePullPolicy": "IfNotPresent",
              "args": ["dask", "worker", scheduler_address, "--name", "$(DASK_WORKER_NAME)",
                       *_worker_arguments(spec, tls)],
              "env": [{"name": "OMP_NUM_THREADS", "value": "1"}],
              "resources": {"limits": {"cpu": str(spec.processes * spec.threads),
                                       "memory": f"{_gib(spec.memory) * spec.processes + 1}Gi"}},
              "securityContext": security, "volumeMounts": mounts}
    scheduler = {"name": "scheduler", "image": image, "imagePullPolicy": "IfNotPresent",
                 "args": ["dask", "scheduler", "--protocol", scheme, *tls_arguments],
                 "ports": [{"name": "tcp-comm", "containerPort": 8786, "protocol": "TCP"},
                           {"name": "http-dashboard", "containerPort": 8787, "protocol": "TCP"}],
                 "readinessProbe": {"tcpSocket": {"port": "tcp-comm"}, "initialDelaySeconds": 5,
                                    "periodSeconds": 10},
                 "volumeMounts": mounts}
    resource = {
        "apiVersion": "kubernetes.dask.org/v1", "kind": "DaskCluster", "metadata": {"name": name},
        "spec": {
            "worker": {"replicas": replicas, "spec": {"containers": [worker], "volumes": volumes}},
            "scheduler": {
                "spec": {"containers": [scheduler], "volumes": volumes},
                "service": {"type": "ClusterIP",
                            "selector": {"dask.org/cluster-name": name, "dask.org/component": "scheduler"},
                            "ports": [{"name": "tcp-comm", "protocol": "TCP", "port": 8786,
                                       "targetPort": "tcp-comm"}]},
            },
        },
    }
    header = (f"# gradcheck-suite workers on Kubernetes (the Dask operator): kubectl apply -f this file, then\n"
              f"# gradcheck-suite batch ROOT --out DIR --scheduler {scheduler_address} "
              f"{'--tls-ca-file ... --tls-cert ... --tls-key ... ' if tls_secret else ''}from a pod of the cluster\n"
              + ("" if tls_secret else "# (tcp:// is accepted only on a loopback address: forward the port with\n"
                 f"# kubectl port-forward svc/{name}-scheduler 8786 and use tcp://127.0.0.1:8786, or pass --tls-secret)\n"))
    return header + yaml.dump(resource, Dumper=_PlainDumper, sort_keys=False)


class _PlainDumper(yaml.SafeDumper):
    """Writes a repeated value out again rather than as a YAML anchor and alias (&id001, *id001)."""

    def ignore_aliases(self, data) -> bool:
        return True
