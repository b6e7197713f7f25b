"""`python -m airlock` runs the CLI."""

from airlock.cli import main

raise SystemExit(main())
