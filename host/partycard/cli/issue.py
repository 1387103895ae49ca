"""CLI shell: ``partycard issue`` — personalise a card image; argument parsing only, no logic."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from partycard.cli.pki import parse_now
from partycard.errors import ConfigError
from partycard.issue.curves import PACE_CURVES
from partycard.issue.image import CardImage
from partycard.issue.issuer import issue_card, issue_from_dump


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc


def _issue(args: argparse.Namespace) -> int:
    image: CardImage
    if args.from_dump:
        if args.member or args.pki:
            raise ConfigError("--from-dump cannot be combined with --member or --pki")
        image = issue_from_dump(
            args.from_dump,
            aa_key=_read(args.aa_key, "AA key") if args.aa_key else None,
            ca_key=_read(args.ca_key, "CA key") if args.ca_key else None,
            can=args.can,
        )
    else:
        if not (args.member and args.pki):
            raise ConfigError("give --member and --pki (or --from-dump)")
        try:
            member = json.loads(_read(args.member, "member file").decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"member file {args.member} is not UTF-8 JSON: {exc}") from exc
        image = issue_card(
            member, args.pki, now=parse_now(args.now), signer=args.signer, pace_curve=args.curve,
            pace_aes_bits=args.aes_bits, can=args.can, aa=not args.no_aa,
            aa_key_type="rsa" if args.aa_rsa else "ec", ca=not args.no_ca, bac=not args.no_bac,
            face_image=_read(args.face, "face image") if args.face else None, hash_alg=args.hash,
        )
    image.save(args.out)
    print(f"card image ({image.profile}) written to {args.out}: {', '.join(sorted(image.files))}")
    if image.can:
        print(f"CAN: {image.can}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "issue", help="personalise a card image from a member file and a PKI, or from an ICAO dump",
        description="Member file: JSON with the DG13 fields (see protocol/card-profile.md).",
    )
    p.add_argument("--member", metavar="FILE.json", help="member record (JSON)")
    p.add_argument("--pki", metavar="DIR", help="test PKI directory (partycard pki init)")
    p.add_argument("--from-dump", metavar="DIR", help="ICAO data set: DIR/EF.COM.bin, EF.SOD.bin, DG1.bin, …")
    p.add_argument("--out", metavar="CARD", required=True, help="card image file to write (JSON)")
    p.add_argument("--can", help="the 6-digit CAN (default: random)")
    p.add_argument("--curve", choices=PACE_CURVES, default="brainpoolP256r1", help="PACE/CA/AA curve")
    p.add_argument("--aes-bits", type=int, choices=(128, 192, 256), default=128,
                   help="PACE/CA AES key length")
    p.add_argument("--signer", help="document signer: short name or issuing body (default: the first)")
    p.add_argument("--no-aa", action="store_true", help="no Active Authentication key (no DG15)")
    p.add_argument("--aa-rsa", action="store_true", help="RSA-2048 Active Authentication (ISO 9796-2)")
    p.add_argument("--no-ca", action="store_true", help="no Chip Authentication")
    p.add_argument("--no-bac", action="store_true", help="PACE only: the chip refuses BAC")
    p.add_argument("--face", metavar="JPEG", help="portrait for DG2 (default: a synthetic one)")
    p.add_argument("--hash", default="sha256", choices=("sha256", "sha384", "sha512"), help="SOD hash")
    p.add_argument("--now", help="issuing time, ISO 8601 (default: now, UTC)")
    p.add_argument("--aa-key", metavar="PEM", help="--from-dump: the chip's AA private key (PKCS#8)")
    p.add_argument("--ca-key", metavar="PEM", help="--from-dump: the chip's CA private key (PKCS#8)")
    p.set_defaults(func=_issue)
