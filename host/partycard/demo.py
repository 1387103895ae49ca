"""``partycard demo``: the whole chain on the simulator, with cards whose right verdict is known.

Composes; holds no protocol, card or verification logic. It builds a demo PKI and issues demo
cards, loads the BSI reference ICAO data set as a document from elsewhere, starts the simulated
reader (the unmodified firmware on MicroPython, driving the virtual PN532), a local reference
receiver and an outbox, and runs the kiosk loop over a scripted sequence of taps. The run succeeds
only when every tap got its expected verdict (and reason) and every result reached the receiver.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import partycard
from partycard.backend.server import ReceiverServer
from partycard.card.reader import MRZKey
from partycard.forward.outbox import Outbox
from partycard.forward.sender import Sender, SenderConfig
from partycard.issue import (
    CardImage,
    PKIPaths,
    clone_card,
    init_pki,
    issue_card,
    issue_from_dump,
    tamper_file,
)
from partycard.kiosk.compose import DocumentVerifier, OutboxRecorder
from partycard.kiosk.loop import Credentials, Kiosk, KioskConfig, TapResult
from partycard.link.client import open_reader
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import SimulatedReader
from partycard.verify import Denylist
from partycard.verify.denylist import DenyEntry, write_denylist

log = logging.getLogger(__name__)

BSI_DUMP = Path(partycard.__file__).resolve().parent / "sim" / "data" / "bsi-reference-dataset"
EXAMPLE_MEMBER = Path(partycard.__file__).resolve().parent / "issue" / "examples" / "member.json"


@dataclass(frozen=True)
class DemoCard:
    """One scripted tap: the card, how to open it, and the verdict (and reason) it must get."""

    label: str
    image: CardImage
    credentials: Credentials
    expected: str
    expected_reasons: tuple[str, ...] = ()  # reason codes that must all appear among the failed checks


@dataclass
class TapReport:
    """How one scripted tap went."""

    card: DemoCard
    result: TapResult | None
    ok: bool
    why: str


def _member(base: dict[str, Any], n: int, name: str) -> dict[str, Any]:
    member = {k: v for k, v in base.items() if not k.startswith("_")}
    member.update(
        card_number=f"DV00123456{n:02d}",
        member_id=f"00123456{n:02d}",
        full_name=name,
        citizen_id=f"0011850123{n:02d}",
    )
    return member


def build_cards(work: Path, now: dt.datetime) -> tuple[list[DemoCard], PKIPaths, Path]:
    """Issue the demo cards; return them with the trusted PKI folder and the denylist path."""
    base = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    pki = init_pki(work / "pki", now=now)
    rogue = init_pki(work / "untrusted-pki", now=now)
    genuine = issue_card(_member(base, 1, "Nguyễn Thị Minh Khai"), pki, now=now, can="123456")
    p256 = issue_card(_member(base, 2, "Trần Văn Đức"), pki, now=now, can="234567", pace_curve="P-256")
    tampered_src = issue_card(_member(base, 3, "Lê Thị Hồng Gấm"), pki, now=now, can="345678")
    untrusted = issue_card(_member(base, 4, "Phạm Văn Đồng"), rogue, now=now, can="456789")
    lost = issue_card(_member(base, 5, "Võ Thị Sáu"), pki, now=now, can="567890")
    bsi = issue_from_dump(BSI_DUMP, aa_key=BSI_DUMP / "DG15_sk.pkcs8", ca_key=BSI_DUMP / "DG14_sk.pkcs8")
    denylist = work / "denylist.json"
    write_denylist(
        denylist,
        Denylist(generated_at=now, entries={
            "DV0012345605": DenyEntry("DV0012345605", "lost_or_missing", now.date()),
        }),
    )

    def can(image: CardImage) -> Credentials:
        return Credentials(can=image.can)

    bsi_dg1 = bsi.mrz_information or ""
    bsi_mrz = MRZKey(bsi_dg1[:9].rstrip("<"), bsi_dg1[10:16], bsi_dg1[17:23]) if bsi_dg1 else None
    cards = [
        DemoCard("genuine party card (PACE-CAN, brainpoolP256r1)", genuine, can(genuine), "valid"),
        DemoCard("genuine party card (PACE-CAN, NIST P-256)", p256, can(p256), "valid"),
        DemoCard("DG13 tampered after signing", tamper_file(tampered_src, "DG13"), can(tampered_src),
                 "invalid", ("dg.hash_mismatch",)),
        DemoCard("signed by an untrusted issuer", untrusted, can(untrusted), "invalid", ("ds.not_trusted",)),
        DemoCard("cloned chip (copied data, new chip keys)", clone_card(genuine), can(genuine),
                 "invalid", ("aa.signature_invalid", "ca.failed")),
        DemoCard("reported lost", lost, can(lost), "invalid", ("status.lost_or_missing",)),
        DemoCard("BSI reference ePassport (BAC; no published root, signer expired 2014)", bsi,
                 Credentials(mrz=bsi_mrz), "invalid", ("ds.expired", "dg.not_covered")),
    ]
    # Distinct UIDs so that each tap is a different card on the reader.
    cards = [
        DemoCard(c.label, c.image.copy(uid=bytes([0x08, 0x10 + i, 0x20 + i, 0x30 + i])), c.credentials,
                 c.expected, c.expected_reasons)
        for i, c in enumerate(cards)
    ]
    # As files too, so that a kept demo folder (--keep) can put any of them on `partycard sim --card`.
    (work / "cards").mkdir(exist_ok=True)
    for i, c in enumerate(cards, 1):
        slug = "-".join(re.findall(r"[a-z0-9]+", c.label.lower().split("(")[0]))
        c.image.save(work / "cards" / f"{i}-{slug}.json")
    return cards, pki, denylist


def judge(card: DemoCard, result: TapResult | None) -> tuple[bool, str]:
    """Whether a tap's outcome is the one the card must get."""
    if result is None or result.verdict is None:
        return False, "no verdict: " + (result.error if result and result.error else "no card seen")
    got = result.verdict["verdict"]
    reasons = [c["reason"] for c in result.verdict["checks"] if c["status"] == "failed"]
    if got != card.expected:
        return False, f"expected {card.expected}, got {got} ({', '.join(map(str, reasons))})"
    missing = [r for r in card.expected_reasons if r not in reasons]
    if missing:
        return False, f"expected reasons {', '.join(missing)}, got {', '.join(map(str, reasons))}"
    return True, got + (f" ({', '.join(card.expected_reasons)})" if card.expected_reasons else "")


def run_demo(
    *, runtime: str = "micropython", workdir: Path | None = None, show: Callable[[str], None] = print
) -> int:
    """Run the demo; 0 when every tap got its verdict and every result reached the receiver."""
    with tempfile.TemporaryDirectory(prefix="partycard-demo-") as tmp:
        work = workdir or Path(tmp)
        now = dt.datetime.now(dt.UTC)
        show("partycard demo: issuing demo cards and a demo PKI …")
        cards, pki, denylist = build_cards(work, now)
        verifier = DocumentVerifier.from_paths([pki.root_cert], [pki.crl], denylist)
        receiver = ReceiverServer(f"sqlite:///{work / 'receiver.db'}").start()
        outbox = Outbox(work / "outbox.db")
        sender = Sender(outbox, SenderConfig(backend_url=receiver.url))
        pn532 = VirtualPN532()
        current: list[DemoCard] = []
        try:
            sender.start(idle_poll_s=0.2)
            with SimulatedReader(runtime=runtime, pn532=pn532) as sim:
                show(f"simulated reader on {sim.port} (firmware on {sim.runtime})")
                kiosk = Kiosk(
                    lambda: open_reader(sim.port, timeout_s=10.0),
                    verifier,
                    OutboxRecorder(outbox, site_id="demo-office", sender=sender),
                    config=KioskConfig(card_wait_s=5.0, removal_wait_s=5.0),
                    show=show,
                    credentials=lambda _info: current[-1].credentials,
                )
                reports = [_tap(kiosk, pn532, card, current, show) for card in cards]
            delivered = _await_delivery(sender, outbox, receiver, len(cards))
        finally:
            sender.stop()
            outbox.close()
            receiver.stop()
        return _summary(reports, delivered, len(cards), show)


def _tap(
    kiosk: Kiosk, pn532: VirtualPN532, card: DemoCard, current: list[DemoCard], show: Callable[[str], None]
) -> TapReport:
    show(f"\n── tap: {card.label}")
    current.append(card)
    pn532.insert(VirtualCard(card.image))
    result = kiosk.tap()
    pn532.remove()
    kiosk.wait_removal()
    ok, why = judge(card, result)
    return TapReport(card, result, ok, why)


def _await_delivery(sender: Sender, outbox: Outbox, receiver: ReceiverServer, expected: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if outbox.status().pending == 0:
            break
        sender.notify()
        time.sleep(0.2)
    return len(receiver.store.list(None, 0, expected + 10))


def _summary(reports: list[TapReport], delivered: int, expected: int, show: Callable[[str], None]) -> int:
    show("\n── summary")
    for r in reports:
        show(f"  {'PASS' if r.ok else 'FAIL'}  {r.card.label}: {r.why}")
    show(f"  results delivered to the receiver: {delivered} of {expected}")
    good = all(r.ok for r in reports) and delivered == expected
    show("demo: every tap got its expected verdict" if good else "demo: FAILED")
    return 0 if good else 1
