"""The worker: the only process where a student's code runs.

It is forked from the zygote (which has torch imported and never runs student code), confines
itself (session, cgroups, resource limits, working directory, optionally another user) before it
loads the student's file, then answers the grader's requests one at a time: forward, backward,
a batch of pure forwards for finite differences, second derivatives. Every answer is data (see
wire.py); what the student's code prints goes to capped files; nothing it returns is trusted by
the grader beyond its bytes.
"""

from __future__ import annotations

import base64
import socket
from collections import OrderedDict
from pathlib import Path

import torch

from ..errors import StudentCodeError
from ..sandbox import wire
from ..student.failures import ProtocolViolation, StudentCallError
from ..student.loading import load_student
from ..student.op import CallParams, ForwardRun, StudentOp, non_contiguous_copy
from ..student.styles import Style
from ..student.support import install_sources

MAX_RUNS = 8  # forward runs kept for later backward calls, the oldest forgotten first
# Forward runs the grader asked to keep for a later check (checks.kept), beside those: kept as long
# as the worker lives, never forgotten (the grader may count on one it was told is kept), no more
# than student.op.KEPT_RUNS, and only while the worker has grown by less than this share of its
# memory limit since it loaded the student's file: keeping never costs a correct submission its
# memory. A forward asked for beyond them is kept as any other.
KEPT_MEMORY_SHARE = 0.25
# The student's method behind each request, for messages ("Linear.forward", "affine_forward").
REQUEST_METHODS = {"forward_batch": "forward", "second_order": "backward (differentiated)"}


class Session:
    """The worker's state between requests: the student's op and its recent forward runs."""

    def __init__(self, config: dict):
        self.config = config
        self.style = Style.from_config(config["student"])
        self.op: StudentOp | None = None
        self.runs: OrderedDict[int, ForwardRun] = OrderedDict()
        self.kept: dict[int, ForwardRun] = {}
        self.next_run = 0

    def handle(self, request: dict) -> dict:
        kind = request.get("op")
        if kind == "load":
            return self.load()
        if self.op is None:
            raise ProtocolViolation("the student's file is not loaded")
        op = self.op.with_params(CallParams.from_wire(request["params"])) if request.get("params") else self.op
        if kind == "forward":
            inputs = [non_contiguous_copy(t) if strided else t
                      for t, strided in zip(request["inputs"], request["strided"])]
            run = op.forward(inputs, keep=bool(request.get("keep")))
            self.next_run += 1
            reply = {"run": self.next_run, "outputs": [out.detach() for out in run.outputs]}
            if run.kept:
                self.kept[self.next_run] = run
                reply["kept"] = True
            else:
                self.runs[self.next_run] = run
                while len(self.runs) > MAX_RUNS:
                    self.runs.popitem(last=False)
            if run.side:  # the side outputs, as data: a tensor, or a short text saying what was there
                reply["side"] = {path: value.detach() if isinstance(value, torch.Tensor) else str(value)[:100]
                                 for path, value in run.side.items()}
            return reply
        if kind == "backward":
            earlier = self.runs.get(request["run"]) or self.kept.get(request["run"])
            if earlier is None:
                raise ProtocolViolation("backward was asked for a forward run the worker no longer has")
            return {"grads": self.op.backward(earlier, request["grad_outputs"])}
        if kind == "forward_batch":
            layout = [(index, torch.Size(shape)) for index, shape in request["layout"]]
            batched = op.batched_forward(request["fixed"], layout)
            return {"outputs": batched(request["thetas"]).detach()}
        if kind == "second_order":
            return {"grads": op.second_order(request["inputs"], request["upstream"], request["directions"])}
        raise ProtocolViolation(f"unknown request {kind!r}")

    def load(self) -> dict:
        config = self.config
        path = Path(config["workdir"], config["student_file"])
        try:
            install_sources({name: base64.b64decode(text) for name, text in config.get("support", {}).items()})
            function = load_student(path, self.style)
        except StudentCodeError:
            raise
        except BaseException as exc:  # noqa: BLE001 - sys.exit, pytest.exit... at import
            raise StudentCodeError(f"importing {path.name} raised {type(exc).__name__}: {exc}"[:2000]) from None
        limit = int(config["limits"].get("memory_bytes") or 0)
        self.op = StudentOp(function, config["input_names"], config["differentiable"], path, config.get("forbid", ()),
                            audit=self.style.computes_with_torch, style=self.style,
                            keep_growth=KEPT_MEMORY_SHARE * limit if limit else None)
        return {"name": self.op.name, "levels": self.config.get("held", [])}


def serve(channel: socket.socket, config: dict) -> None:
    """Answer requests until the grader closes the channel."""
    fd = channel.fileno()
    reader = wire.Reader(fd, int(config["limits"]["message_bytes"]))
    session = Session(config)
    while True:
        try:
            request = reader.read()
        except wire.WireError:
            return
        if request.get("op") == "many":
            reply: dict = {"replies": answer_many(session, request.get("requests"), request.get("caps"))}
        else:
            reply = answer(session, request)
        if session.op is not None and session.op.notes:
            reply["notes"] = session.op.notes
        try:
            wire.send(fd, reply)
        except (TypeError, KeyError) as exc:  # something in the reply cannot be sent as data
            wire.send(fd, {"error": {"kind": "protocol", "message": f"{_phase(session, request)} returned something "
                                                                    f"that is not a plain tensor ({exc})"}})
        except wire.WireError:
            return


def answer(session: Session, request: dict) -> dict:
    """The reply to one request: its result, or the error the student's code (or the request) raised."""
    try:
        return session.handle(request)
    except StudentCodeError as exc:
        return {"error": {"kind": "load", "message": str(exc)}}
    except StudentCallError as exc:
        return {"error": {"kind": "student", "message": exc.describe(), "not_implemented": exc.not_implemented}}
    except ProtocolViolation as exc:
        return {"error": {"kind": "protocol", "message": str(exc)}}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, pytest outcomes, KeyboardInterrupt...
        return {"error": {"kind": "student", "not_implemented": False,
                          "message": f"{_phase(session, request)} raised {type(exc).__name__}: {exc}"[:2000]}}


def _phase(session: Session, request: dict) -> str:
    """How messages name the student's method behind a request ("Linear.forward")."""
    op = str(request.get("op", "?"))
    return session.style.phase(REQUEST_METHODS.get(op, op))


def answer_many(session: Session, requests, caps=None) -> list[dict]:
    """Several requests sent at once (the calls a check will make on its next trials, in the order
    it makes them), answered one after the other as if each had come alone, up to the first that
    fails or whose reply holds more bytes than its cap (the grader refuses that one on its own).
    A backward may name its run as {"$entry": k}: the run of the k-th request here."""
    if not isinstance(requests, list):
        return [{"error": {"kind": "protocol", "message": "'many' without a list of requests"}}]
    if not isinstance(caps, list) or len(caps) != len(requests):
        caps = [None] * len(requests)
    replies: list[dict] = []
    for request, cap in zip(requests, caps):
        if not isinstance(request, dict) or request.get("op") in ("many", "load"):
            replies.append({"error": {"kind": "protocol", "message": "a 'many' request holds only calls"}})
            break
        entry = request.get("run")
        if isinstance(entry, dict):
            index = entry.get("$entry")
            earlier = replies[index] if isinstance(index, int) and 0 <= index < len(replies) else {}
            request = {**request, "run": earlier.get("run", -1)}
        replies.append(answer(session, request))
        if "error" in replies[-1] or (isinstance(cap, int) and _tensor_bytes(replies[-1]) > cap):
            break
    return replies


def _tensor_bytes(value) -> int:
    """The bytes of every tensor in a reply, as the wire would send them."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_tensor_bytes(v) for v in value)
    return 0
