"""Benchmark, the card under test: a test PKI, one party card with a 15 KB face image, the verifier.

One card serves both tap cases: the record read leaves DG2 (the photo) on the chip, the photo read
takes it. Issuing is deterministic in size (the image is 15 KiB of incompressible bytes, as a JPEG
is), so every run moves the same number of bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

import partycard
from partycard.issue import CardImage, PKIPaths, init_pki, issue_card
from partycard.kiosk.compose import DocumentVerifier
from partycard.verify import Denylist
from partycard.verify.denylist import write_denylist

FACE_IMAGE_BYTES = 15 * 1024
CAN = "123456"
EXAMPLE_MEMBER = Path(partycard.__file__).resolve().parent / "issue" / "examples" / "member.json"
#: What each tap case reads (besides EF.CardAccess, EF.COM and DG14, which every read takes):
#: the member record is DG13 with DG1 (the policy requires DG1, 9303-10 §4.7), DG15 for Active
#: Authentication, EF.SOD for both; the photo case adds DG2.
RECORD_FILES = ("DG1", "DG13", "EF.SOD", "DG15")
PHOTO_FILES = ("DG1", "DG2", "DG13", "EF.SOD", "DG15")


@dataclass(frozen=True)
class BenchCard:
    image: CardImage
    pki: PKIPaths
    verifier: DocumentVerifier


def face_image(size: int = FACE_IMAGE_BYTES, seed: int = 9303) -> bytes:
    """``size`` bytes that do not compress (a stand-in for a JPEG of that size), the same every run."""
    return random.Random(seed).randbytes(size)  # noqa: S311 - test data, not a secret


def make_card(work: Path, now: dt.datetime | None = None) -> BenchCard:
    """A fresh PKI in ``work``, one card with the photo, and a verifier trusting that PKI."""
    now = now or dt.datetime.now(dt.UTC)
    base = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    member = {k: v for k, v in base.items() if not k.startswith("_")}
    pki = init_pki(work / "pki", now=now)
    image = issue_card(member, pki, now=now, can=CAN, face_image=face_image())
    # An empty, current denylist: the status check can pass, so a good read gets "valid".
    denylist = work / "denylist.json"
    write_denylist(denylist, Denylist(generated_at=now, entries={}))
    verifier = DocumentVerifier.from_paths([pki.root_cert], [pki.crl], denylist)
    return BenchCard(image, pki, verifier)
