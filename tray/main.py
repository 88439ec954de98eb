"""Entry points that may show the tray: ``watchkeeper`` (console script) and ``watchkeeperw``
(no console). Both are the engine's command line (engine.cli) with the tray as the frontend of
`run` (and of no command at all) when a tray can be shown here; ``python -m engine`` is the same
command line without it (headless only).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.engine import Engine


def tray_frontend() -> Callable[[Engine], None] | None:
    """The tray's run(engine) when a tray can be shown here, else None (the instance runs headless)."""
    from tray.app import tray_runner_if_available  # pystray and Xlib only for `run`

    return tray_runner_if_available()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``watchkeeper`` console script (and of the one-file binary); ``usage`` is answered lean
    when it can be (engine.usage_lean)."""
    from engine.usage_lean import answer

    code = answer(sys.argv[1:] if argv is None else argv)
    if code is not None:
        return code
    from engine.cli import main as cli_main
    from engine.units import UNITS

    return cli_main(argv, units=UNITS, frontend=tray_frontend)


def gui_main() -> int:
    """Entry point of ``watchkeeperw`` (no console): the same as ``watchkeeper run``."""
    from engine.process.frozen import mark_no_console

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # a windowed exe has no std streams
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
            mark_no_console()
    return main(["run", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
