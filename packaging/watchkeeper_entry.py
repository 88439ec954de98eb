"""PyInstaller entry script (pyinstaller.spec): the frozen exe runs exactly the source
`watchkeeper` command (tray.main: the engine CLI, with the tray for `run` when one can be shown),
after giving a windowed exe usable std streams."""

import sys

from engine.process.frozen import ensure_std_streams

ensure_std_streams()

from tray.main import main  # noqa: E402

sys.exit(main())
