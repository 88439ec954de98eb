"""`python -m engine` is the headless `watchkeeper` command (`run` never shows the tray; the
`watchkeeper` console script, tray.main, does when it can). `usage` is answered lean when it can be
(engine.usage_lean), without loading every unit."""

import sys

from engine.usage_lean import answer

code = answer(sys.argv[1:])
if code is None:
    from engine.cli import main
    from engine.units import UNITS

    code = main(units=UNITS)
sys.exit(code)
