"""`python -m engine` is the headless `watchkeeper` command (`run` never shows the tray; the
`watchkeeper` console script, tray.main, does when it can)."""

import sys

from engine.cli import main
from engine.units import UNITS

sys.exit(main(units=UNITS))
