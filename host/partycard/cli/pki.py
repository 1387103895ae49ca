"""CLI shell: ``partycard pki`` — make or change a test PKI; argument parsing only, no logic."""

from __future__ import annotations

import argparse
import datetime as dt

from partycard.errors import ConfigError
from partycard.issue.pki import ALGORITHMS, init_pki, load_pki, revoke_signer


def parse_now(text: str | None) -> dt.datetime:
    """``--now`` as an aware datetime (naive input is taken as UTC); the current time when absent."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"--now {text!r} is not an ISO 8601 date/time") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _init(args: argparse.Namespace) -> int:
    pki = init_pki(args.dir, now=parse_now(args.now), algorithm=args.algorithm)
    print(f"test PKI ({pki.algorithm}) written to {pki.directory}")
    print(f"  root CA: {pki.root_cert.name}; CRL: {pki.crl.name}")
    for signer in pki.signers.values():
        print(f"  document signer {signer.name}: {signer.issuer} ({signer.cert.name})")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    pki = load_pki(args.dir)
    revoke_signer(pki, args.signer, now=parse_now(args.now))
    print(f"document signer {args.signer} revoked; new CRL in {pki.crl}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("pki", help="make a test PKI (root CA, document signers, CRL)")
    sub = parser.add_subparsers(dest="pki_command", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create a root CA, two document signers and a CRL in DIR")
    init.add_argument("dir", metavar="DIR", help="folder for the PKI (created; root-ca.pem, root-ca.crl.pem, ds-*.pem)")
    init.add_argument("--algorithm", choices=ALGORITHMS, default="ecdsa-p256")
    init.add_argument("--now", help="issuing time, ISO 8601 (default: now, UTC)")
    init.set_defaults(func=_init)
    revoke = sub.add_parser("revoke", help="put a document signer on the CRL")
    revoke.add_argument("dir", metavar="DIR")
    revoke.add_argument("signer", metavar="SIGNER", help="short name or issuing body of the signer")
    revoke.add_argument("--now", help="revocation time, ISO 8601 (default: now, UTC)")
    revoke.set_defaults(func=_revoke)
