#!/usr/bin/env python3
"""Tray start-up: time from launching `watchkeeper` to its icon being visible on the tray host.

Runs under a private Xvfb + trayer + D-Bus session (tests/tray/xsession.py). "Visible" means the
window the process docked into trayer is mapped and its pixels show the icon (not the empty
tray background), polled every 5 ms through the X protocol. Each run then sends SIGTERM and waits
for a clean exit.

    .venv/bin/python bench/tray_startup.py [--runs 7]

Prints the first run on a new data folder (database created) and the median of the following
runs on the same, existing data folder (the everyday case), with the target ratio (< 2 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tray.xsession import XSession, missing_tools  # noqa: E402

TARGET = 2.0


def launch_to_icon(x: XSession, env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from Popen to a painted icon of that process in the tray; stops it afterwards."""
    script = Path(sys.executable).with_name("watchkeeper")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "engine"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = t0 + timeout
        while True:
            box = x.tray_icon_box(proc.pid)
            if box is not None:
                extrema: Any = x.grab(box).getextrema()  # ((min, max) per RGB band)
                if any(high - low > 60 for low, high in extrema):  # more than a flat background
                    return time.perf_counter() - t0
            if proc.poll() is not None:
                raise SystemExit(f"watchkeeper exited with {proc.returncode} before its icon appeared")
            if time.perf_counter() > deadline:
                raise SystemExit(f"no icon after {timeout} s")
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="runs on the existing data folder (after the first)")
    args = ap.parse_args()
    missing = missing_tools()
    if missing:
        raise SystemExit(f"needs: {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp, XSession() as x:
        env = {**x.env, "WATCHKEEPER_HOME": str(Path(tmp) / "wk"), "HOME": tmp,
               "XDG_CONFIG_HOME": str(Path(tmp) / ".config")}
        env.pop("PYSTRAY_BACKEND", None)
        first = launch_to_icon(x, env)
        warm = [launch_to_icon(x, env) for _ in range(args.runs)]
        backend = "gtk" if _gtk() else "xorg"
    median = statistics.median(warm)
    print(f"backend {backend}; new data folder: {first:.3f} s")
    print(f"existing data folder: median {median:.3f} s over {args.runs} runs (min {min(warm):.3f}, "
          f"max {max(warm):.3f}); target < {TARGET:.0f} s -> ratio {median / TARGET:.2f}")


def _gtk() -> bool:
    from tray.app import gtk_importable

    return os.environ.get("PYSTRAY_BACKEND", "gtk") == "gtk" and gtk_importable()


if __name__ == "__main__":
    main()
