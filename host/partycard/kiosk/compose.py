"""Kiosk composition: builds the verifier and the recorder the tap loop uses from configuration.

It holds no verification or storage logic: ``verify.verify_document`` judges, ``forward`` stores and
delivers. What it adds is the choice of policy per document, the member summary, and reloading the
denylist when its file is replaced (the file is swapped atomically, so a changed mtime means a whole
new list).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from partycard.card.lds.dg1 import parse_dg1
from partycard.card.lds.dg13 import parse_dg13
from partycard.card.reader import DocumentRead
from partycard.errors import DenylistError, ParseError
from partycard.forward.outbox import Outbox
from partycard.forward.record import build_record
from partycard.forward.sender import Sender
from partycard.verify import (
    PARTY_2025,
    AAExchange,
    Denylist,
    Policy,
    TrustStore,
    load_denylist,
    verify_document,
)

log = logging.getLogger(__name__)


def member_summary(files: dict[str, bytes]) -> dict[str, str]:
    """Display and record fields: from DG13 for a party card, else from DG1's MRZ.

    A group that does not parse is left out of the summary; whether it is genuine is the verdict's
    business (a tampered group fails ``dg.hashes`` there), not this function's.
    """
    summary: dict[str, str] = {}
    if "DG13" in files:
        try:
            rec = parse_dg13(files["DG13"])
        except ParseError as exc:
            log.warning("DG13 does not parse: %s", exc)
        else:
            summary.update({
                "Document": "party membership card",
                "Name": rec.full_name,
                "Card number": rec.card_number,
                "Member id": rec.member_id,
                "Organisation": rec.party_organisation,
            })
            return summary
    if "DG1" in files:
        try:
            dg1 = parse_dg1(files["DG1"])
        except ParseError as exc:
            log.warning("DG1 does not parse: %s", exc)
        else:
            summary.update({
                "Document": f"ICAO 9303 document ({dg1.document_type})",
                "Name": f"{dg1.secondary_identifier} {dg1.primary_identifier}".strip(),
                "Card number": dg1.document_number,
            })
    return summary


def _ca_ran(read: DocumentRead) -> bool | None:
    """verify's view of CA: True proven, False attempted and not proven, None not attempted."""
    if read.ca is None:
        return None
    if read.ca.ran:
        return True
    return False if read.ca.failed else None


@dataclass
class DocumentVerifier:
    """Verifies complete reads against one trust configuration; reloads the denylist on change."""

    trust: TrustStore
    denylist_path: Path | None = None
    #: One policy for every document. It is never chosen from what the chip returns: a clone that
    #: hid DG13 would otherwise be judged by a laxer policy.
    policy: Policy = PARTY_2025
    _denylist: Denylist | None = None
    _denylist_mtime: float | None = None

    @classmethod
    def from_paths(
        cls, trust: Sequence[Path], crls: Sequence[Path] = (), denylist: Path | None = None
    ) -> DocumentVerifier:
        """Load roots, CRLs and (lazily) the denylist from files."""
        return cls(TrustStore.from_paths(list(trust), list(crls)), denylist)

    def denylist(self) -> Denylist | None:
        """The current denylist; re-read when the file was replaced since the last read.

        A replacement that is missing (a non-atomic copy in progress) or refused leaves the list
        in use as it was (docs/denylist-format.md): its age then decides, through
        ``status.list_stale``. Never raises: a kiosk must not stop over its status list."""
        if self.denylist_path is None:
            return None
        try:
            mtime = self.denylist_path.stat().st_mtime
            if mtime != self._denylist_mtime:
                self._denylist = load_denylist(self.denylist_path)
                self._denylist_mtime = mtime
        except (OSError, DenylistError) as exc:
            kept = "keeping the list in use" if self._denylist is not None else "no list in use"
            log.error("denylist %s not loaded (%s); %s", self.denylist_path, exc, kept)
        return self._denylist

    def __call__(self, read: DocumentRead, nonce: bytes) -> tuple[dict[str, Any], dict[str, str]]:
        """Judge one read; ``nonce`` is the AA challenge this kiosk issued for it."""
        summary = member_summary(read.files)
        aa = AAExchange(read.aa.challenge, read.aa.signature) if read.aa else None
        verdict = verify_document(
            read.files,
            self.trust,
            policy=self.policy,
            denylist=self.denylist(),
            card_number=summary.get("Card number"),
            aa=aa,
            ca_ran=_ca_ran(read),
            at=datetime.now(UTC),
            expected_challenge=nonce,
            withheld=frozenset(read.skipped),
        )
        return verdict.to_json(), summary


#: Lengths of result-record-v1 (forward/schema) for values that come from the card.
CARD_FIELD_MAX = 32
ISSUER_MAX = 256


def _clip(value: object, limit: int) -> str | None:
    """``value`` as the record can hold it: None for nothing, cut to ``limit`` characters with a
    final "…" (which no printed number contains, so a cut value never equals a real one)."""
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class OutboxRecorder:
    """Commits each result to the durable outbox (before the kiosk says "recorded") and wakes the sender."""

    outbox: Outbox
    site_id: str
    sender: Sender | None = None

    def __call__(
        self, verdict: dict[str, Any], member: dict[str, str], *, reader_serial: str, firmware: str
    ) -> str:
        """Build the record (no personal data beyond card number and member id) and enqueue it."""
        record = build_record(
            # What the chip says goes in clipped to the record's limits: a forged card must not be
            # able to keep its own result out of the records by writing a field too long.
            dict(verdict, issuer=_clip(verdict.get("issuer"), ISSUER_MAX)),
            reader_serial=reader_serial,
            site_id=self.site_id,
            card_number=_clip(member.get("Card number"), CARD_FIELD_MAX),
            member_id=_clip(member.get("Member id"), CARD_FIELD_MAX),
            firmware_version=firmware,
        )
        record_id = self.outbox.enqueue(record)
        if self.sender is not None:
            self.sender.notify()
        log.info("result %s committed to the outbox", record_id)
        return record_id
