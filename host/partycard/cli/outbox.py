"""CLI shell: ``partycard outbox status|drain|dead-letters``; argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from partycard.cli._argtypes import seconds
from partycard.errors import ConfigError

_BACKEND_ENV = "PARTYCARD_BACKEND_URL"


def register(subparsers: Any) -> None:
    """Add ``outbox status|drain|dead-letters`` to the top-level parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "outbox", help="the durable outbox of result records"
    )
    sub = parser.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--outbox", type=Path, default=None,
                        help="outbox database (default: outbox.sqlite3 in the user data directory)")
    common.add_argument("--json", action="store_true", help="machine-readable output")

    status = sub.add_parser("status", parents=[common], help="counts, capacity and the next retry")
    status.set_defaults(func=_status)

    drain = sub.add_parser("drain", parents=[common], help="deliver pending records now")
    drain.add_argument("--backend", default=os.environ.get(_BACKEND_ENV),
                       help=f"backend base URL, e.g. https://results.example (env {_BACKEND_ENV})")
    drain.add_argument("--ca-bundle", type=Path, help="PEM file of CAs to trust instead of the system store")
    drain.add_argument("--client-cert", type=Path, help="PEM client certificate")
    drain.add_argument("--client-key", type=Path, help="PEM key of --client-cert")
    drain.add_argument("--deadline", type=seconds, default=60.0,
                       help="give up after this many seconds (default 60)")
    drain.add_argument("--once", action="store_true", help="one pass over what is due instead of until empty")
    drain.set_defaults(func=_drain)

    dead = sub.add_parser("dead-letters", parents=[common], help="records the backend refused, with reasons")
    dead.add_argument("--requeue", metavar="RECORD_ID", action="append", default=[],
                      help="put this dead letter back to pending (repeatable)")
    dead.set_defaults(func=_dead_letters)


def _existing(given: Path | None) -> Path:
    """The outbox these commands look at; they never create one (a typo would show an empty,
    healthy outbox while the kiosk's fills up elsewhere)."""
    from partycard.forward.outbox import default_outbox_path

    path = given if given is not None else default_outbox_path()
    if not path.is_file():
        raise ConfigError(f"no outbox at {path}: a kiosk creates it with its first result (watch --outbox)")
    return path


def _status(args: argparse.Namespace) -> int:
    from partycard.forward.outbox import Outbox

    with Outbox(_existing(args.outbox)) as outbox:
        status = outbox.status()
    if args.json:
        print(json.dumps(status.as_dict(), sort_keys=True))
    else:
        for key, value in status.as_dict().items():
            print(f"{key:22} {value}")
        if status.full:
            print("WARNING: the outbox is FULL; new records are refused")
        elif status.near_full:
            print("WARNING: the outbox is at least 80% full")
    return 1 if status.full else 0


def _drain(args: argparse.Namespace) -> int:
    from partycard.forward.outbox import Outbox
    from partycard.forward.sender import Sender, SenderConfig

    if not args.backend:
        raise ConfigError(f"--backend URL (or {_BACKEND_ENV}) is required to drain")
    config = SenderConfig(args.backend, ca_bundle=args.ca_bundle, client_cert=args.client_cert,
                          client_key=args.client_key)
    with Outbox(_existing(args.outbox)) as outbox, Sender(outbox, config) as sender:
        result = sender.drain(until_empty=not args.once, deadline_s=args.deadline)
    summary = {"attempts": result.attempts, "sent": result.sent, "dead": result.dead,
               "retried": result.retried, "pending_left": result.pending_left}
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
        if result.errors:
            print(f"last error: {result.errors[-1]}")
    return 0 if result.pending_left == 0 else 1


def _dead_letters(args: argparse.Namespace) -> int:
    from partycard.forward.outbox import Outbox

    with Outbox(_existing(args.outbox)) as outbox:
        missing = [rid for rid in args.requeue if not outbox.requeue_dead(rid)]
        letters = outbox.dead_letters(limit=1000)
    for rid in missing:
        print(f"not a dead letter: {rid}")
    if args.json:
        print(json.dumps([d.__dict__ for d in letters], sort_keys=True))
    else:
        for d in letters:
            print(f"{d.record_id}  reader={d.reader_serial}  attempts={d.attempts}  {d.reason}")
        print(f"{len(letters)} dead letter(s)")
    return 1 if missing else 0
