"""What every benchmark prints about the machine it ran on."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_line() -> str:
    """'2 cores (nproc), <CPU model>' from /proc/cpuinfo."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (nproc), {model}"
