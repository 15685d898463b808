"""Isolation levels: what held for a session's workers, in one word, and what that word promises.

    full        the grader is root: every worker in its own PID, mount, network, IPC and UTS
                namespaces, as another user, no capabilities, no_new_privs, the seccomp filter, and
                memory and process limits on its whole process tree through cgroups
    namespaces  the same namespaces (through a user namespace when the grader is not root), no
                capabilities, no_new_privs and the filter; the worker is the grader's uid outside
                its namespaces, and memory is limited per process (RLIMIT_AS, RLIMIT_NPROC)
    processes   neither namespaces nor cgroups: worker processes with resource limits,
                no_new_privs and the filter (where libseccomp is found)

``--require-isolation LEVEL`` refuses to grade below LEVEL (see the README's threat model).
"""

from __future__ import annotations

LEVELS = ("processes", "namespaces", "full")
NAMESPACED = ("pid namespace", "mount namespace", "network namespace", "seccomp filter", "no capabilities",
              "no_new_privs")


def rank(level: str) -> int:
    return LEVELS.index(level)


def check_level(name: str) -> str:
    if name not in LEVELS:
        raise ValueError(f"unknown isolation level {name!r} (expected one of: {', '.join(LEVELS)})")
    return name


def _has(held: list[str], component: str) -> bool:
    return any(entry.startswith(component) for entry in held)


def reached(held: list[str], cgroups: dict) -> tuple[str, list[str]]:
    """The level these components reach, and what is missing for the next one up."""
    missing_ns = [c for c in NAMESPACED if not _has(held, c)]
    missing_full = missing_ns + ([] if _has(held, "user ") else ["a separate user"])
    missing_full += [f"a {kind} cgroup" for kind in ("memory", "pids") if not cgroups.get(kind)]
    if not missing_full:
        return "full", []
    if not missing_ns:
        return "namespaces", missing_full
    return "processes", missing_ns


def memory_limit(cgroups: dict, processes: int) -> str:
    """What bounds a worker's memory, in words, for the report."""
    if cgroups.get("memory"):
        return f"{cgroups['memory']} (the worker's whole process tree)"
    return f"RLIMIT_AS per process, at most {processes} processes"
