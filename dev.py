#!/usr/bin/env python3
"""Bootstrap for a source checkout: the two commands of the README.

    python3 dev.py run [watchkeeper arguments]   # runs the app (installs what it needs first)
    python3 dev.py test [pytest arguments]       # runs the whole test suite (likewise)
    python3 dev.py lint                          # ruff, mypy and the import contracts (lint-imports)

Creates ``.venv`` beside this file on first use and installs the pinned dependencies
(constraints.txt) plus this package in editable mode; reinstalls when either file changes.
Needs only Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".watchkeeper-installed"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_env() -> None:
    """Create the venv and install (only when the pins changed)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any install, on any Python
        sys.exit(f"Watchkeeper needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print("dev.py: creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("dev.py: installing dependencies (pinned by constraints.txt) ...", file=sys.stderr)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test,build]"], check=True)
    _install_gtk_extra(pip)
    STAMP.write_text(want)


def _install_gtk_extra(pip: list[str]) -> None:
    """Best effort: the optional `gtk` extra (PyGObject<3.51) on Linux when its C libraries are
    present, so the tray gets pystray's gtk backend (menu, clicks). Quiet and never fatal."""
    if not sys.platform.startswith("linux"):
        return
    try:
        found = subprocess.run(["pkg-config", "--exists", "gobject-introspection-1.0", "cairo"],
                               capture_output=True).returncode == 0
    except OSError:
        found = False
    if not found:
        return
    done = subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[gtk]"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print("dev.py: optional gtk extra not installed (the tray falls back to pystray's xorg backend)",
              file=sys.stderr)


def lint() -> int:
    """ruff, mypy, then the import contracts of pyproject.toml (lint-imports); 1 when any fails.

    All three run even after a failure, so one pass shows every problem."""
    linters = [
        [str(PY), "-m", "ruff", "check", "."],
        [str(PY), "-m", "mypy", "engine", "tray"],
        [str(PY), "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()", "--no-logo"],
    ]
    failed = [cmd for cmd in linters if subprocess.call(cmd, cwd=ROOT) != 0]
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_env()
    command, rest = argv[0], argv[1:]
    if command == "run":
        cmd = [str(PY), "-m", "tray.main", *rest]  # the `watchkeeper` command (tray when possible)
    elif command == "lint":
        return lint()
    else:
        cmd = [str(PY), "-m", "pytest", *rest]
    return subprocess.call(cmd, cwd=ROOT if command != "run" else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
