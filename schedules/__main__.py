"""python -m schedules plan [--year Y] [--json] | python -m schedules ledger"""

import sys

from schedules.cli import main

sys.exit(main())
