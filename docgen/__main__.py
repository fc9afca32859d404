"""``python -m docgen``: see :mod:`docgen.cli`."""

from docgen.cli import main

raise SystemExit(main())
