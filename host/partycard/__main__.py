"""``python -m partycard`` runs the command-line interface."""

from partycard.cli import main

raise SystemExit(main())
