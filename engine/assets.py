"""Find bundled resources (icons) in a source checkout, an installed package or a PyInstaller
one-file build (``sys._MEIPASS``) through one resolver."""

from __future__ import annotations

import sys
from pathlib import Path


def assets_dir() -> Path:
    """The folder holding assets/ contents for this way of running."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def asset_path(name: str) -> Path:
    """The path of one asset (it may not exist: callers decide how to degrade)."""
    return assets_dir() / name


def severity_icon_name(severity: str) -> str:
    """File name of the toast icon for a severity (``info``, ``warning``, ``critical``), in assets/."""
    return f"watchkeeper-severity-{severity}.png"
