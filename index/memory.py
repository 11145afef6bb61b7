"""This process's resident memory, for benchmarks and the worker processes' reports."""

from __future__ import annotations

import resource
from pathlib import Path


def rss_mb() -> tuple[float, float]:
    """Return (current, peak) resident memory of this process in MiB.

    Read from ``/proc/self/status``: the peak is ``VmHWM`` (this process image only), because
    ``ru_maxrss`` would also count the memory of a parent at the time it forked a benchmark's
    child process. Without ``/proc`` both figures fall back to ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    fields = {x.split(":")[0]: int(x.split()[1]) / 1024 for x in lines if x.startswith("Vm")}
    peak = fields.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return fields.get("VmRSS", peak), peak


def peak_mb() -> float:
    """Return this process's peak resident memory in MiB (see :func:`rss_mb`)."""
    return rss_mb()[1]
