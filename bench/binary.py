#!/usr/bin/env python3
"""The one-file binary: size, cold and warm time from launch to the first heartbeat row.

    .venv/bin/python bench/binary.py [--binary dist/watchkeeper] [--build] [--cold 3] [--warm 10]

--build runs `pyinstaller --noconfirm --clean pyinstaller.spec` first (into dist/). Cold runs
drop the page cache before each launch (`sync; echo 3 > /proc/sys/vm/drop_caches`, needs root);
when that is not permitted the cold figure is skipped and the reason printed. Every run uses a
fresh WATCHKEEPER_HOME (so each run also creates and migrates its database) and is stopped with
SIGTERM (the bootloader forwards it to the Python child).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB, TARGET_COLD_S = 40.0, 3.0


def build() -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    str(ROOT / "pyinstaller.spec")], cwd=ROOT, check=True)
    return ROOT / "dist" / ("watchkeeper.exe" if sys.platform == "win32" else "watchkeeper")


def drop_caches() -> str | None:
    """Drop the page cache; the reason when that is not possible."""
    if not sys.platform.startswith("linux"):
        return "dropping the page cache is Linux-only here"
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        return f"cannot drop caches ({exc.strerror or exc}); run as root"
    return None


def time_to_heartbeat(binary: Path, timeout: float = 120.0) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = home / "data" / "watchkeeper.db"
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["WATCHKEEPER_HOME"] = str(home)
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(binary), "run", "--headless"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if db.exists():
                    try:
                        with contextlib.closing(sqlite3.connect(db, timeout=1)) as conn:
                            if conn.execute("SELECT 1 FROM daemon_state LIMIT 1").fetchone():
                                return time.perf_counter() - t0
                    except sqlite3.OperationalError:
                        pass
                if proc.poll() is not None:
                    raise SystemExit(f"{binary} exited with {proc.returncode}")
                if time.perf_counter() - t0 > timeout:
                    raise SystemExit(f"no heartbeat within {timeout:.0f} s")
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, n={len(times)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", type=Path, default=ROOT / "dist" / "watchkeeper")
    ap.add_argument("--build", action="store_true", help="build it first with pyinstaller.spec")
    ap.add_argument("--cold", type=int, default=3, help="cold runs (page cache dropped before each)")
    ap.add_argument("--warm", type=int, default=10, help="warm runs (after one warm-up run)")
    args = ap.parse_args()
    binary = build() if args.build else args.binary
    if not binary.is_file():
        raise SystemExit(f"no binary at {binary}; pass --build or --binary PATH")

    size_mb = binary.stat().st_size / 2**20
    print(f"binary: {binary}")
    print(f"size: {size_mb:.1f} MiB ({binary.stat().st_size:,} bytes); target <= {TARGET_MB:.0f} MB "
          f"-> ratio {size_mb / TARGET_MB:.2f}")

    cold: list[float] = []
    reason = None
    for _ in range(args.cold):
        reason = drop_caches()
        if reason:
            break
        cold.append(time_to_heartbeat(binary))
    if cold:
        med = statistics.median(cold)
        print(f"cold launch -> first heartbeat: {summary(cold)}; target < {TARGET_COLD_S:.0f} s "
              f"-> ratio {med / TARGET_COLD_S:.2f}")
    else:
        print(f"cold launch -> first heartbeat: skipped: {reason}")

    time_to_heartbeat(binary)  # warm-up
    warm = [time_to_heartbeat(binary) for _ in range(args.warm)]
    print(f"warm launch -> first heartbeat: {summary(warm)}")


if __name__ == "__main__":
    main()
