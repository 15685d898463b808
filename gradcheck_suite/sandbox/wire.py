"""The data-only message format between the grader and a worker.

A message is ``MAGIC | header length (4 bytes) | JSON header | raw tensor bytes``. The header is
plain JSON (no pickle anywhere); tensors inside it are ``{"$tensor": i}`` references to entries of
its ``tensors`` list, each a dtype name, a shape and a device. The receiver checks the header (its
size, the dtypes against a fixed list, every shape and the total byte count against its cap)
before it allocates anything, then builds each tensor from the bytes with ``torch.frombuffer``:
what comes back is always an exact ``torch.Tensor``, whatever the sender was.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import select
import struct
import time

import torch

MAGIC = b"GCS1"
MAX_HEADER = 1 << 20
MAX_DIMS = 8
COALESCE = 1 << 20  # messages up to this size go out in one write
DTYPES = {
    "float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {v: k for k, v in DTYPES.items()}
_ITEM_SIZES = {dtype: torch.empty((), dtype=dtype).element_size() for dtype in DTYPES.values()}


class WireError(Exception):
    """The other side sent something that is not a well-formed message within the limits."""


class TooLarge(WireError):
    """A message whose tensors hold more bytes than the receiver allows (checked on the header)."""


class ChannelClosed(WireError):
    """The other side closed the channel (for a worker: it exited or was killed)."""


class Timeout(WireError):
    """No complete message arrived before the deadline."""


def encode(message: dict) -> bytes:
    chunks = encode_chunks(message)  # (held: its last entry keeps alive the tensors the others point into)
    return b"".join(bytes(chunk) for chunk in chunks[:-1])


def encode_chunks(message: dict) -> list:
    """The message as chunks to write one after the other: the header first, then each tensor's
    memory as it lies (no copy), so that a receiver can refuse an oversized message on its header."""
    tensors: list[torch.Tensor] = []

    def walk(value):
        if isinstance(value, torch.Tensor):
            tensors.append(value)
            return {"$tensor": len(tensors) - 1}
        if isinstance(value, dict):
            return {str(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else repr(value)
        raise TypeError(f"cannot send a {type(value).__name__}")

    body = walk(message)
    plain = [_plain(t) for t in tensors]
    header = {"body": body, "tensors": [
        {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "device": "cpu" if t.is_cpu else t.device.type}
        for t in tensors
    ]}
    raw = json.dumps(header, separators=(",", ":")).encode()
    chunks: list = [MAGIC + struct.pack(">I", len(raw)) + raw]
    chunks += [memoryview((ctypes.c_char * (t.numel() * t.element_size())).from_address(t.data_ptr())).cast("B")
               for t in plain if t.numel()]
    chunks.append(plain)  # keeps the tensors alive while their memory is written
    return chunks


_BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}  # a dtype's bits, as integers


def same_message(one, other) -> bool:
    """Whether encode(one) and encode(other) write the same bytes, told without writing them: a
    request an answer was computed ahead for against the one a check makes (Worker.call). True
    only for the same bytes; it may say False for messages that happen to encode alike (keys in
    another order, 1 against "1" as a key), which costs the caller a round trip, never a verdict."""
    if one is other and type(one) is not float:  # (the same float object may be a NaN: still the same bytes)
        return True
    kind = type(one)
    if isinstance(one, torch.Tensor):
        return isinstance(other, torch.Tensor) and _same_tensor(one, other)
    if isinstance(one, dict):
        return isinstance(other, dict) and len(one) == len(other) and list(one) == list(other) \
            and all(type(key) is str and same_message(value, other[key]) for key, value in one.items())
    if isinstance(one, (list, tuple)):
        return isinstance(other, (list, tuple)) and len(one) == len(other) \
            and all(same_message(a, b) for a, b in zip(one, other))
    if kind is not type(other):
        return False
    if kind is float:  # repr tells apart -0.0 and 0.0, which == does not; every NaN goes as 'nan'
        return repr(one) == repr(other)
    if one is None or kind in (bool, int, str):
        return bool(one == other)
    return False  # not something encode() sends


def _same_tensor(one: torch.Tensor, other: torch.Tensor) -> bool:
    """Same dtype, shape, device type and bits (a NaN as any NaN with the same payload, -0.0 apart from 0.0)."""
    if one.dtype != other.dtype or one.shape != other.shape or one.device.type != other.device.type \
            or one.dtype not in _NAMES:
        return False
    if type(one) is not torch.Tensor or type(other) is not torch.Tensor:
        one, other = _plain(one), _plain(other)
    bits = _BITS[_ITEM_SIZES[one.dtype]]
    return bool(torch.equal(one.detach().view(bits), other.detach().view(bits)))


def _plain(tensor: torch.Tensor) -> torch.Tensor:
    """A contiguous CPU torch.Tensor with the same values (drops any subclass)."""
    if type(tensor) is torch.Tensor and tensor.is_cpu and tensor.dtype in _NAMES and tensor.is_contiguous():
        return tensor  # the common case, as it is (its memory is read; requires_grad does not matter)
    t = torch.Tensor._make_subclass(torch.Tensor, tensor.detach()) if type(tensor) is not torch.Tensor else tensor
    t = t.detach()
    t = (t if t.device.type == "cpu" else t.to("cpu")).contiguous()
    if t.dtype not in _NAMES:
        raise TypeError(f"cannot send a tensor of dtype {t.dtype}")
    return t


class Reader:
    """Reads messages from a file descriptor, each within a deadline and a byte cap. The fd is made
    non-blocking, so that neither side ever blocks past a deadline in a read or a write."""

    def __init__(self, fd: int, max_bytes: int):
        os.set_blocking(fd, False)
        self.fd = fd
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._start = 0  # where the bytes not yet handed out begin in _buffer (dropped once, not per read)

    def _wait(self, deadline: float | None) -> None:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            raise Timeout("no reply before the time limit")

    def _read(self, count: int, deadline: float | None) -> bytes:
        while len(self._buffer) - self._start < count:
            self._wait(deadline)
            try:
                chunk = os.read(self.fd, max(1 << 16, min(1 << 24, count - len(self._buffer) + self._start)))
            except BlockingIOError:
                continue
            except ConnectionResetError:  # it died with requests of ours unread (sent ahead): the same end
                raise ChannelClosed("the worker closed its channel") from None
            if not chunk:
                raise ChannelClosed("the worker closed its channel")
            if self._start:
                del self._buffer[:self._start]
                self._start = 0
            self._buffer += chunk
        with memoryview(self._buffer) as view:
            data = bytes(view[self._start:self._start + count])
        self._taken(count)
        return data

    def _taken(self, count: int) -> None:
        self._start += count
        if self._start == len(self._buffer):
            self._buffer.clear()
            self._start = 0

    def _read_into(self, target: bytearray, deadline: float | None) -> None:
        """Fill `target` (allocated once, at the size the checked header gave) from the buffer and the fd."""
        view = memoryview(target)
        have = min(len(self._buffer) - self._start, len(target))
        with memoryview(self._buffer) as buffered:
            view[:have] = buffered[self._start:self._start + have]
        self._taken(have)
        while have < len(target):
            self._wait(deadline)
            try:
                count = os.readv(self.fd, [view[have:have + (1 << 24)]])
            except BlockingIOError:
                continue
            except ConnectionResetError:
                raise ChannelClosed("the worker closed its channel") from None
            if not count:
                raise ChannelClosed("the worker closed its channel")
            have += count

    def read(self, deadline: float | None = None, max_bytes: int | None = None) -> dict:
        """One message; `max_bytes` (at most the reader's own cap) bounds its tensors' bytes, checked on
        the header before anything is allocated."""
        cap = self.max_bytes if max_bytes is None else min(self.max_bytes, max_bytes)
        if self._read(4, deadline) != MAGIC:
            raise WireError("a message did not start with the expected marker")
        (length,) = struct.unpack(">I", self._read(4, deadline))
        if length > MAX_HEADER:
            raise WireError(f"a message header of {length} bytes (the limit is {MAX_HEADER})")
        try:
            header = json.loads(self._read(length, deadline))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WireError(f"a message header is not JSON: {exc}") from None
        specs = _check_header(header, cap)
        tensors = []
        for dtype, shape, device, nbytes in specs:
            raw = bytearray(nbytes)
            self._read_into(raw, deadline)
            if nbytes:
                tensor = torch.frombuffer(raw, dtype=dtype).reshape(shape)
            else:
                tensor = torch.empty(shape, dtype=dtype)
            tensors.append(tensor if device == "cpu" else _to_device(tensor, device))
        return _resolve(header["body"], tensors)


def _check_header(header, max_bytes: int) -> list[tuple[torch.dtype, tuple[int, ...], str, int]]:
    if not isinstance(header, dict) or set(header) != {"body", "tensors"} or not isinstance(header["tensors"], list):
        raise WireError("a message header has the wrong structure")
    specs, total = [], 0
    for entry in header["tensors"]:
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "device"}:
            raise WireError("a tensor entry has the wrong structure")
        dtype = DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        shape = entry["shape"]
        if dtype is None:
            raise WireError(f"a tensor of unsupported dtype {entry['dtype']!r}")
        if not (isinstance(shape, list) and len(shape) <= MAX_DIMS
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40 for s in shape)):
            raise WireError(f"a tensor with an invalid shape {shape!r}")
        if entry["device"] not in ("cpu", "cuda"):
            raise WireError(f"a tensor on an unsupported device {entry['device']!r}")
        nbytes = math.prod(shape) * _ITEM_SIZES[dtype]
        total += nbytes
        if total > max_bytes:
            raise TooLarge(f"a message of more than {max_bytes} bytes of tensors")
        specs.append((dtype, tuple(shape), entry["device"], nbytes))
    return specs


def _to_device(tensor: torch.Tensor, device: str) -> torch.Tensor:
    return tensor.to(device) if device == "cuda" and torch.cuda.is_available() else tensor


def _resolve(value, tensors: list[torch.Tensor]):
    if isinstance(value, dict):
        if set(value) == {"$tensor"}:
            index = value["$tensor"]
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(tensors):
                raise WireError("a tensor reference out of range")
            return tensors[index]
        return {k: _resolve(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, tensors) for v in value]
    return value


def send(fd: int, message: dict, deadline: float | None = None) -> None:
    """Write one message; Timeout when the other side stops reading before the deadline (the fd is
    non-blocking, see Reader)."""
    chunks = encode_chunks(message)
    pieces = chunks[:-1]
    if sum(len(piece) for piece in pieces) <= COALESCE:  # one write: each write wakes the other side
        pieces = [b"".join(bytes(piece) for piece in pieces)]
    for chunk in pieces:
        data = memoryview(chunk)
        while data:
            try:
                written = os.write(fd, data[:1 << 20])
            except BlockingIOError:
                written = 0
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed("the worker closed its channel") from None
            data = data[written:]
            if data:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                _, ready, _ = select.select([], [fd], [], wait)
                if not ready:
                    raise Timeout("the worker stopped reading its requests")
