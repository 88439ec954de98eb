"""PyInstaller entry script (pyinstaller.spec): the frozen exe runs exactly the source CLI,
`python -m engine` / `watchkeeper`, after giving a windowed exe usable std streams."""

import sys

from engine.frozen import ensure_std_streams

ensure_std_streams()

from engine.cli import main  # noqa: E402

sys.exit(main())
