"""This process's memory from /proc (Linux), for the benchmarks that print it phase by phase: RSS now,
its peak (VmHWM) and the anonymous part, in MiB; and a reset of the peak, so each phase gets its own."""
from __future__ import annotations


def status() -> tuple[int, int, int]:
    """(VmRSS, VmHWM, RssAnon) in MiB."""
    vals = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM", "RssAnon")):
                k, v = line.split(":")
                vals[k] = int(v.split()[0]) // 1024
    return vals["VmRSS"], vals["VmHWM"], vals["RssAnon"]


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
