import sys

from tokui.cli import main

sys.exit(main())
