"""How many forward runs may be kept for a later check (checks.kept): what a run holds is what the
student's forward saved, which only the size of the process shows."""

from __future__ import annotations

import os


def resident_bytes() -> int | None:
    """This process's resident memory (None where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class RunKeeper:
    """Counts the runs kept: at most `most`, and, with `growth`, only while the process has grown by
    less than that many bytes since the keeper was made (where its size cannot be read, none)."""

    def __init__(self, most: int, growth: float | None = None):
        self.most, self.growth = most, growth
        self.kept = 0
        self._start = resident_bytes() if growth is not None else None

    def take(self) -> bool:
        """Whether one more run may be kept; counted if so."""
        if self.kept >= self.most:
            return False
        if self.growth is not None:
            size = resident_bytes()
            if size is None or self._start is None or size - self._start >= self.growth:
                return False
        self.kept += 1
        return True
