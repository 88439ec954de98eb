"""Shared test helpers: waiting on conditions (never fixed sleeps) and running the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from engine.config import Config

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> T:
    """Return the first truthy value of ``predicate()``; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60, check: bool = False,
        ) -> subprocess.CompletedProcess[str]:
    """Run `watchkeeper ARGS` as a real process with the test's environment."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                            env=full_env, timeout=timeout, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"watchkeeper {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def start_instance(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[Any]:
    """Start `watchkeeper run --headless` as a real background process."""
    full_env = {**os.environ, **(env or {})}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "engine", "run", "--headless", *args], env=full_env,
                            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def skip_unless_required(reason: str, variable: str = "WATCHKEEPER_REQUIRE_GUI") -> NoReturn:
    """Skip with ``reason``, or fail when ``variable`` is 1 (CI requires the test to run)."""
    import pytest

    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason} ({variable}=1)")
    pytest.skip(reason)


def stop_instance(proc: subprocess.Popen[Any]) -> None:
    """Terminate a started process and reap it (killed when it does not stop within 30 s)."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def parse_config(raw: dict[str, Any], env: dict[str, str] | None = None, source: Path | None = None) -> Config:
    """engine.config.parse_config with the registered channels' sections, as a composed config
    holds them ([telegram], [toast]); checks are only shape-checked, as there."""
    from engine import config
    from engine.compose import config_sections
    from engine.units import CHANNELS

    return config.parse_config(raw, env, source, sections=config_sections(CHANNELS))


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """engine.config.load_config with the registered channels' sections (see parse_config)."""
    from engine import config
    from engine.compose import config_sections
    from engine.units import CHANNELS

    return config.load_config(path, env, sections=config_sections(CHANNELS))
