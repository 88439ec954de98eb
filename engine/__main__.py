"""`python -m engine` is the `watchkeeper` command."""

import sys

from engine.cli import main

sys.exit(main())
