"""``partycard watch``: the kiosk loop on a reader port. Argument parsing and wiring only."""

from __future__ import annotations

import argparse
import getpass
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from partycard.card.reader import MRZKey
from partycard.cli._argtypes import positive_int, site_id
from partycard.errors import ConfigError
from partycard.verify.denylist import load_denylist


def register(sub: Any) -> None:
    """Add the ``watch`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "watch",
        help="the kiosk loop: wait for a card, read, verify, record, forward, signal, repeat",
        description="The kiosk loop. Waits for a card, reads it, verifies it against the trusted roots, "
        "CRLs and card status list, shows the verdict, commits the result to the outbox and sends it to "
        "the backend, signals on the reader and waits for the card to leave. Runs until Ctrl-C.",
    )
    p.add_argument("--port", required=True, help="reader port (/dev/ttyUSB0, or the pty `partycard sim` printed)")
    p.add_argument("--trust", action="append", type=Path, required=True, metavar="PATH",
                   help="trusted root certificates (PEM/DER file, folder or CSCA master list; repeatable)")
    p.add_argument("--crl", action="append", type=Path, default=[], metavar="PATH", help="CRL file (repeatable)")
    p.add_argument("--denylist", type=Path, metavar="PATH", help="card status list (docs/denylist-format.md)")
    p.add_argument("--backend", metavar="URL", help="result receiver base URL; without it results stay queued")
    p.add_argument("--ca-bundle", type=Path, metavar="PEM", help="CAs to trust for the backend's TLS certificate")
    p.add_argument("--client-cert", type=Path, metavar="PEM", help="client certificate (and key) for the backend")
    p.add_argument("--outbox", type=Path, metavar="PATH", help="outbox database (default: in the user data folder)")
    p.add_argument("--site", type=site_id, default=None,
                   help="site id recorded with every result (printable ASCII, no spaces; default: the host name)")
    p.add_argument("--can", help="CAN for every card (otherwise asked at the terminal when a card needs it)")
    p.add_argument("--mrz", metavar="DOC,YYMMDD,YYMMDD",
                   help="MRZ key (document number, birth date, expiry date) for BAC documents")
    p.add_argument("--taps", type=positive_int, metavar="N", help="stop after N cards (default: run until interrupted)")
    p.set_defaults(func=run)


def parse_mrz(text: str) -> MRZKey:
    """``DOC,YYMMDD,YYMMDD`` → MRZKey, with a clear error for anything else."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(parts) or not (parts[1].isdigit() and parts[2].isdigit()):
        raise ConfigError("--mrz takes DOCUMENT_NUMBER,YYMMDD,YYMMDD (birth date, expiry date)")
    return MRZKey(parts[0].upper(), parts[1], parts[2])


FLUSH_S = 5.0

#: Set while the terminal prompt blocks: a stop request (SIGTERM) must interrupt it, since nobody
#: may ever answer an unattended kiosk's prompt.
_PROMPTING = threading.Event()


def _ask_at_terminal(needs: str) -> Any:
    from partycard.kiosk.loop import Credentials

    if not sys.stdin.isatty():
        return None
    _PROMPTING.set()
    try:
        if needs == "can":
            can = getpass.getpass("CAN printed on the card (6 digits): ").strip()
            return Credentials(can=can) if can else None
        mrz = input("MRZ key DOC,YYMMDD,YYMMDD: ").strip()
        return Credentials(mrz=parse_mrz(mrz)) if mrz else None
    finally:
        _PROMPTING.clear()


def _on_sigterm(stopping: threading.Event) -> None:
    stopping.set()
    if _PROMPTING.is_set():
        raise KeyboardInterrupt  # out of the blocking prompt; the loop's own waits see the flag


def _progress(name: str, done: int, total: int) -> None:
    # Only large files get a bar: the face image is what a member waits for.
    if total < 4096:
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r  reading {name:<6} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end,
          file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Wire the reader, verifier, outbox and sender together and serve taps."""
    from partycard.forward.outbox import Outbox
    from partycard.forward.sender import Sender, SenderConfig
    from partycard.kiosk.compose import DocumentVerifier, OutboxRecorder
    from partycard.kiosk.loop import Credentials, Kiosk
    from partycard.link.client import open_reader

    creds = Credentials(can=args.can, mrz=parse_mrz(args.mrz) if args.mrz else None)
    site = args.site or socket.gethostname()
    try:
        site_id(site)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"the host name cannot be the site id ({exc}): pass --site") from None
    if args.denylist is not None:
        load_denylist(args.denylist)  # refused now, not at the first card (later, a bad one is skipped)
    verifier = DocumentVerifier.from_paths(args.trust, args.crl, args.denylist)
    # A kiosk configured so that no card can ever be valid would turn away every genuine member.
    if verifier.policy.crl_required and not args.crl:
        raise ConfigError(
            f"policy {verifier.policy.version} requires a current CRL from the card issuers' authority: "
            "pass --crl PATH (e.g. the root-ca.crl.pem of `partycard pki init`)"
        )
    if args.denylist is None and verifier.policy.is_required("card.status"):
        print(
            f"partycard watch: warning: no --denylist; policy {verifier.policy.version} needs the card "
            "status list, so verdicts will be 'incomplete', never 'valid'",
            file=sys.stderr,
            flush=True,
        )
    outbox = Outbox(args.outbox)
    sender = None
    if args.backend:
        sender = Sender(outbox, SenderConfig(args.backend, ca_bundle=args.ca_bundle, client_cert=args.client_cert))
        sender.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: _on_sigterm(stopping))
    kiosk = Kiosk(
        lambda: open_reader(args.port, timeout_s=5.0),
        verifier,
        OutboxRecorder(outbox, site_id=site, sender=sender),
        credentials=lambda _card: creds,
        ask=_ask_at_terminal,
        progress=_progress,
        show=lambda text: print(text, flush=True),
    )
    print(f"partycard watch: waiting for cards on {args.port} (Ctrl-C to stop)", flush=True)
    try:
        kiosk.run(taps=args.taps, stop=stopping.is_set)
    except KeyboardInterrupt:
        pass
    finally:
        kiosk.drop_reader()
        if sender is not None:
            sender.stop()
            # What the last taps committed gets a short chance to go out before the kiosk exits
            # (a service stop, --taps); whatever is left stays queued for the next start.
            sender.drain(until_empty=True, deadline_s=FLUSH_S)
        pending = outbox.status().pending
        outbox.close()
        print(f"partycard watch: stopped; {pending} result(s) still queued in the outbox", flush=True)
    return 0
