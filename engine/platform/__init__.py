"""OS-specific leaves behind one interface. Only this package touches OS APIs; Windows code
lives in windows.py and imports its modules inside functions, so importing the engine never
breaks on Linux or macOS."""

from __future__ import annotations

import sys

IS_WINDOWS = sys.platform == "win32"

if IS_WINDOWS:  # pragma: no cover - exercised on Windows only
    from engine.platform import windows as current
else:
    from engine.platform import posix as current  # type: ignore[no-redef]

__all__ = ["IS_WINDOWS", "current"]
