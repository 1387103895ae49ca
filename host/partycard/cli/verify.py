"""CLI layer: ``partycard verify DUMP_DIR``; must not hold verification logic or print personal data.

Must not decide anything itself: it loads the dump, the trust configuration and the denylist, calls
``verify_document`` and maps the verdict onto the exit code (0 valid, 1 invalid, 3 incomplete,
2 usage error or unreadable input). It never prints personal data (names, card or ID numbers).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from partycard.cli._argtypes import aa_challenge
from partycard.errors import ConfigError, ParseError, PartycardError
from partycard.verify import AAExchange, Verdict, load_denylist, policy_by_version, verify_document
from partycard.verify.policy import PARTY_2025
from partycard.verify.trust import TrustStore

log = logging.getLogger(__name__)

EXIT = {"valid": 0, "invalid": 1, "incomplete": 3}
#: Dump file names (as the reading side writes them) → the names verify_document expects.
_EXTRA_FILES = ("EF.CardAccess", "EF.COM", "EF.SOD")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify a card dump (passive authentication, trust, AA/CA, card status)",
        description="Verify a card dump directory offline. Exit: 0 valid, 1 invalid, 3 incomplete, 2 error.",
    )
    p.add_argument(
        "dump_dir",
        metavar="DUMP_DIR",
        type=Path,
        help="EF.SOD.bin, DG1.bin ... DG16.bin, optional aa.json and ca.json",
    )
    p.add_argument(
        "--trust",
        action="append",
        type=Path,
        required=True,
        metavar="PATH",
        help="CSCA certificates (PEM/DER file, directory or ICAO master list; repeatable); "
        "certificates that are not self-signed (link, DS) are offered to path building",
    )
    p.add_argument(
        "--crl", action="append", type=Path, default=[], metavar="PATH", help="CRL file (repeatable)"
    )
    p.add_argument("--denylist", type=Path, metavar="PATH", help="card status list (docs/denylist-format.md)")
    p.add_argument(
        "--challenge",
        type=aa_challenge,
        metavar="HEX",
        help="the AA nonce this verifier issued; aa.json must answer exactly this challenge",
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--at", metavar="ISO-TIME", help="validation time (default: now; no offset = UTC)")
    p.add_argument(
        "--policy", default=PARTY_2025.version, help=f"policy version (default {PARTY_2025.version})"
    )
    p.set_defaults(func=run)


def _time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--at: not an ISO 8601 time: {text!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def read_dump(directory: Path) -> tuple[dict[str, bytes], AAExchange | None, bool | None]:
    """Files of a dump directory, its AA exchange (aa.json) and CA outcome (ca.json, optional)."""
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    files: dict[str, bytes] = {}
    for name in (*_EXTRA_FILES, *(f"DG{n}" for n in range(1, 17))):
        path = directory / f"{name}.bin"
        if path.exists():
            try:
                files[name] = path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    aa = None
    aa_doc = _json(directory / "aa.json")
    if aa_doc is not None:
        try:
            aa = AAExchange(bytes.fromhex(aa_doc["challenge"]), bytes.fromhex(aa_doc["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError('aa.json must be {"challenge": hex, "signature": hex}') from exc
    ca_doc = _json(directory / "ca.json")
    ca_ran = None
    if ca_doc is not None:
        if not isinstance(ca_doc.get("ran"), bool):
            raise ConfigError('ca.json must hold {"ran": true|false, ...}')
        ca_ran = ca_doc["ran"]
    return files, aa, ca_ran


def _json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path.name} is not readable JSON") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path.name} must be a JSON object")
    return doc


def card_number(files: dict[str, bytes]) -> str | None:
    """DG13's card number for a party card, else DG1's document number; None when unparseable
    (the status check then reports status.no_card_number). The LDS parsers are imported lazily."""
    try:
        if "DG13" in files:
            from partycard.card.lds.dg13 import parse_dg13

            return parse_dg13(files["DG13"]).card_number
        if "DG1" in files:
            from partycard.card.lds.dg1 import parse_dg1

            return parse_dg1(files["DG1"]).document_number
    except (ImportError, ParseError) as exc:
        log.info("card number not available: %s", type(exc).__name__)
    return None


def _print(verdict: Verdict) -> None:
    from partycard.kiosk.panel import shown

    # The issuer and the details quote the document's own bytes: shown, never acted on.
    print(
        f"verdict: {verdict.status}  (policy {verdict.policy_version}; issuer {shown(verdict.issuer or 'unknown')})"
    )
    for c in verdict.checks:
        reason = f"  {c.reason}" if c.reason else ""
        detail = f"  — {shown(c.detail)}" if c.detail else ""
        print(f"  {c.status:<13} {c.name:<14}{reason}{detail}")


def run(args: argparse.Namespace) -> int:
    try:
        policy = policy_by_version(args.policy)
        at = _time(args.at)
        files, aa, ca_ran = read_dump(args.dump_dir)
        trust = TrustStore.from_paths(args.trust, args.crl)
        denylist = load_denylist(args.denylist) if args.denylist else None
        expected = args.challenge
    except PartycardError as exc:
        print(f"partycard verify: {exc}", file=sys.stderr)
        return 2
    verdict = verify_document(
        files,
        trust,
        policy=policy,
        denylist=denylist,
        card_number=card_number(files),
        aa=aa,
        ca_ran=ca_ran,
        at=at,
        expected_challenge=expected,
        # A dump is files: this verifier saw neither the AA challenge issued nor CA run.
        witnessed=False,
    )
    if args.json:
        print(json.dumps(verdict.to_json(), ensure_ascii=False, indent=1))
    else:
        _print(verdict)
    return EXIT[verdict.status]
