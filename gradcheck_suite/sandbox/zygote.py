"""The zygote: imports torch once, then forks a fresh worker for each exercise on request.

Started by the grader as ``python -I zygote.py CONTROL_FD`` with a scrubbed environment. It never
runs student code itself. Requests arrive on a SOCK_SEQPACKET control socket as JSON, with the
worker's channel and its stdout/stderr files passed as file descriptors:

    {"op": "spawn", "config": {...}}  + fds (channel, stdout, stderr)  ->  {"spawned": pid}
    {"op": "kill", "pid": pid}                                         ->  {"killed": pid, "status": ...}

and it reports on its own ``{"exited": pid, "status": ...}`` when a worker ends. When the grader
goes away (the control socket closes), the zygote kills every worker tree and exits.
"""

from __future__ import annotations

import io
import json
import os
import select
import socket
import sys
import traceback
from pathlib import Path

if __name__ == "__main__":  # run as a script under -I: the package is found from this file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402 - after the path is set

from gradcheck_suite.sandbox import confinement, processes, worker  # noqa: E402
from gradcheck_suite.student.guards import OpTrace  # noqa: E402

POLL_SECONDS = 0.05


def _warm_up() -> None:
    """Import what every worker would otherwise import lazily, once: torch.func for vmap, and
    what the first dispatch mode (the workers' operator trace) sets up."""
    torch.set_num_threads(1)
    try:
        torch.func.vmap(torch.sin)(torch.zeros(2, 2))
        with OpTrace():
            torch.sin(torch.zeros(2))
    except Exception:  # noqa: BLE001 - only a warm-up
        pass


def _spawn(config: dict, fds: list[int], control: socket.socket, roots: processes.CgroupRoots) -> tuple[int, list]:
    channel_fd, out_fd, err_fd = fds
    cgroups = roots.make(config["exercise"], int(config["limits"]["processes"]))
    config["cgroups"] = [str(p) for p in cgroups]
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            control.close()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            for fd in (devnull, out_fd, err_fd):
                os.close(fd)
            assert isinstance(sys.stdout, io.TextIOWrapper) and isinstance(sys.stderr, io.TextIOWrapper)
            sys.stdout.reconfigure(line_buffering=True)
            sys.stderr.reconfigure(line_buffering=True)
            confinement.confine(config)
            worker.serve(socket.socket(fileno=channel_fd), config)
        except BaseException:  # noqa: BLE001 - the worker must never return into the zygote's loop
            traceback.print_exc()
            code = 70
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    for fd in fds:
        os.close(fd)
    return pid, cgroups


def main(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    subreaper = processes.become_subreaper()
    roots = processes.CgroupRoots.discover()
    _warm_up()
    workers: dict[int, list] = {}
    statuses: dict[int, int] = {}

    def send(message: dict) -> None:
        control.send(json.dumps(message).encode())

    levels = roots.levels() + (["orphans re-parented to the grader's zygote"] if subreaper else [])
    send({"ready": os.getpid(), "levels": levels})
    try:
        while True:
            ready, _, _ = select.select([control], [], [], POLL_SECONDS)
            if ready:
                data, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
                if not data:
                    break
                request = json.loads(data)
                if request["op"] == "spawn":
                    pid, cgroups = _spawn(request["config"], fds, control, roots)
                    workers[pid] = cgroups
                    send({"spawned": pid})
                elif request["op"] == "kill":
                    pid = request["pid"]
                    cgroups = workers.pop(pid, [])
                    statuses.update(processes.kill_tree(pid, cgroups, set(workers)))
                    send({"killed": pid, "status": statuses.pop(pid, None)})
            for pid, status in processes.reap().items():
                if pid in workers:
                    send({"exited": pid, "status": status})
                    statuses[pid] = status
    finally:
        for pid, cgroups in list(workers.items()):
            processes.kill_tree(pid, cgroups, set())


if __name__ == "__main__":
    main(int(sys.argv[1]))
