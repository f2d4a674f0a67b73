"""`python -m leadstream …`: the command line (see `leadstream.cli`)."""

from leadstream.cli import main

raise SystemExit(main())
