"""A read-only file or folder for tests that run as root (root ignores file modes): the path
bind-mounted onto itself and remounted read-only for the block, so writes fail with EROFS.

Needs root on Linux; elsewhere the context manager skips with the reason.
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
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a file or a folder) read-only for the block."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a read-only bind mount needs root on Linux")
    bound = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True, text=True)
    if bound.returncode != 0:
        pytest.skip(f"bind mounts are not allowed here: {bound.stderr.strip()}")
    try:
        done = subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"remounting read-only is not allowed here: {done.stderr.strip()}")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
