"""Fixtures of the process tests: real processes, always cleaned up."""

from __future__ import annotations

import subprocess

import psutil
import pytest


@pytest.fixture
def procs():
    """Processes a test started; they and what they started are killed at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            try:
                for child in psutil.Process(p.pid).children(recursive=True):
                    child.kill()
            except psutil.Error:
                pass
            p.kill()
            p.wait(10)
