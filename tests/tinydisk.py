"""A real small disk for disk-full tests: a tmpfs mounted for the test, and a filler file that
sets its free space precisely (delete the filler and the space is back).

Mounting needs root on Linux; elsewhere the fixture skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tiny_disk(where: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` MiB mounted at ``where`` for the block (skips when not possible)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tiny tmpfs needs root on Linux (mount -t tmpfs)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path, leave_bytes: int, name: str = "filler") -> Path:
    """Grow a filler file in ``folder`` until about ``leave_bytes`` are free; its path."""
    path = folder / name
    free = shutil.disk_usage(folder).free
    with open(path, "ab") as fh:
        todo = max(0, free - leave_bytes)
        block = b"\0" * (1 << 20)
        while todo > 0:
            n = min(todo, len(block))
            try:
                fh.write(block[:n])
                fh.flush()
            except OSError:
                break
            todo -= n
    return path
