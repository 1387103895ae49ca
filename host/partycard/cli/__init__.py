"""Command-line shell of partycard: argument parsing and exit codes only, no logic.

Each sub-command lives in its own module in this package and exposes
``register(subparsers) -> None``; the module's parser sets ``func`` to a callable that takes the
parsed arguments and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from partycard import __version__
from partycard.errors import PartycardError


def _command_modules() -> list[str]:
    """Every sub-command module of this package (each defines ``register``), sorted by name."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))

log = logging.getLogger("partycard")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="partycard",
        description="Reader link, chip reading, verification and forwarding for the party card.",
    )
    parser.add_argument("--version", action="version", version=f"partycard {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: wire traffic)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _command_modules():
        importlib.import_module(f"partycard.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``partycard`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except PartycardError as exc:
        print(f"partycard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`partycard ... | head`): not an error of ours. Point
        # stdout at /dev/null so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code
