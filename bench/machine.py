"""What the bench scripts print about the machine and the code they measured."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def busy_cores(seconds: float = 0.5) -> float | None:
    """Cores kept busy by other processes right now (from /proc/stat; None where unavailable)."""
    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total
    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (1 - (idle1 - idle0) / max(total1 - total0, 1)) * (os.cpu_count() or 1)


def git_revision(*paths: str) -> str:
    """The commit, and whether ``paths`` (the code a bench measures) have uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *paths],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        where = " / ".join(p + "/" if (ROOT / p).is_dir() else p for p in paths)
        return rev + (f" + uncommitted changes in {where}" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
