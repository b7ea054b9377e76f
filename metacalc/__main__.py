import sys

from metacalc.cli import main

sys.exit(main())
