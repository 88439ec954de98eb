"""Regenerate the icon masters in assets/ from tray/icons.py.

    .venv/bin/python -m tray.make_assets [--out assets]

Writes ``watchkeeper-<state>.png`` (256 x 256) for every Health state,
``watchkeeper-severity-<severity>.png`` (the Linux/macOS toast icons, one per Severity) and ``watchkeeper.ico``
(the OK icon at 16, 24, 32, 48, 64, 128 and 256 px, each size drawn separately so the small
ones stay crisp) for Windows and the one-file exe. Run it after changing the drawing code;
tests/tray/test_icons.py fails when the committed files no longer match.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.assets import severity_icon_name
from engine.health import Health
from engine.vocabulary import Severity
from tray.icons import ICO_SIZES, asset_name, draw_icon, draw_severity_icon

MASTER_SIZE = 256
ICO_NAME = "watchkeeper.ico"
ICO_STATE = Health.OK


def generate(out: Path) -> list[Path]:
    """Write every asset into ``out``; returns the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for state in Health:
        path = out / asset_name(state)
        draw_icon(state, 0, MASTER_SIZE).save(path, optimize=True)
        written.append(path)
    for severity in Severity:
        path = out / severity_icon_name(severity)
        draw_severity_icon(severity, MASTER_SIZE).save(path, optimize=True)
        written.append(path)
    frames = [draw_icon(ICO_STATE, 0, s) for s in ICO_SIZES]
    ico = out / ICO_NAME
    frames[-1].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=frames[:-1])
    written.append(ico)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "assets")
    args = ap.parse_args(argv)
    for path in generate(args.out):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
