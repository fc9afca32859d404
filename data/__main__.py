"""python -m data backup | restore | person export | person erase (see data/cli.py)."""

import sys

from data.cli import main

sys.exit(main())
