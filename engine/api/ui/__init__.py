"""The dashboard's package; here: its static files (app assets and the vendored libraries) at /ui/static."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

# Beside this module in a checkout and in a PyInstaller build (pyinstaller.spec bundles it at the same path).
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/ui/static"


def mount_static(app: FastAPI) -> None:
    """Serve engine/api/ui/static/ at /ui/static (public: no session, no token; nothing secret lives there)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="ui-static")
