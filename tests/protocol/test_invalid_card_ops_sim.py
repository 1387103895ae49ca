"""The refused card-op requests of invalid.jsonl against the real firmware with its card layer.

The link-stack test serves these ops without a card layer, so it only checks that they parse.
Here the reader runs as ``partycard sim`` runs it, with a virtual PN532, once with no card and once
with an active card: every record gets its named error, and no APDU of a refused request reaches
the card (SPEC.md §3.2: range errors come before state, nothing runs half-way).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from protocol.tools.check_vectors import VECTORS, load_jsonl
from protocol.tools.wire import encode_frame

from partycard.issue.image import CardImage
from partycard.link import codes
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import SimulatedReader, micropython_executable

from .test_sessions_sim import PtyLink

CARD_OPS = {"apdu", "apdu.batch", "card.wait", "card.release"}
RECORDS = [r for r in load_jsonl(VECTORS / "invalid.jsonl") if r["layer"] == "body" and r["reply_op"] in CARD_OPS]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.skipif(micropython_executable() is None, reason="MicroPython unix port not installed"),
]


def _request(op: str, body: dict[str, object], rid: int) -> bytes:
    return bytes(cbor2.dumps({0: 1, 1: 0, 2: rid, 3: op, 4: body}, canonical=True))


@pytest.fixture(scope="module")
def reader() -> Iterator[tuple[VirtualPN532, PtyLink]]:
    pn532 = VirtualPN532()
    with SimulatedReader(runtime="micropython", pn532=pn532) as sim:
        link = PtyLink(sim.port)
        try:
            link.wait_banner(lambda: sim.running)
            yield pn532, link
        finally:
            link.close()


def _check_all(pn532: VirtualPN532, link: PtyLink) -> None:
    before = pn532.stats.apdus
    for rec in RECORDS:
        reply = cbor2.loads(link.transact(bytes.fromhex(rec["bytes_hex"])))
        assert reply[1] == 3, (rec["id"], reply)
        assert reply[5]["code"] == codes.ErrorCode[rec["error"]], (rec["id"], reply[5])
        assert reply.get(2) == rec["reply_id"] and reply.get(3) == rec["reply_op"], rec["id"]
    assert pn532.stats.apdus == before, "a refused request ran an APDU on the card"


def test_card_op_records_are_refused_without_a_card(reader: tuple[VirtualPN532, PtyLink]) -> None:
    assert len(RECORDS) >= 10
    _check_all(*reader)


def test_card_op_records_are_refused_with_an_active_card_and_nothing_runs(
    reader: tuple[VirtualPN532, PtyLink], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from partycard.bench.cards import make_card

    pn532, link = reader
    pn532.insert(VirtualCard(make_card(tmp_path_factory.mktemp("card")).image))
    reply = _ask(link, "card.wait", {"timeout_ms": 5000}, 1)
    assert reply[1] == 1, reply
    _check_all(pn532, link)
    # The card is still usable: the refused requests left its session alone.
    select = bytes.fromhex("00a4040c07a0000002471001")
    reply = _ask(link, "apdu.batch", {"apdus": [select]}, 2)
    assert reply[1] == 1 and reply[4]["responses"] == [b"\x90\x00"], reply
    # An empty "continue" is no status word at all: the batch stops after its first APDU (§4).
    reply = _ask(link, "apdu.batch", {"apdus": [select, select], "continue": []}, 3)
    assert reply[1] == 1 and reply[4]["responses"] == [b"\x90\x00"], reply
    reply = _ask(link, "apdu.batch", {"apdus": [select, select]}, 4)
    assert reply[1] == 1 and reply[4]["responses"] == [b"\x90\x00"] * 2, reply


def _heavy_request(rid: int) -> bytes:
    """A ping of 2 KB of nested empty arrays: some 1,900 objects if it were decoded, more than a
    64-bit reader's heap holds; MAX_ENTRIES (SPEC.md §3.1) stops it after about 190."""
    return _request("ping", {"data": [[[] for _ in range(64)] for _ in range(30)]}, rid)


def test_a_hostile_request_while_busy_gets_one_error_and_spares_the_running_one() -> None:
    with SimulatedReader(runtime="micropython", pn532=VirtualPN532()) as sim:
        link = PtyLink(sim.port)
        try:
            link.wait_banner(lambda: sim.running)
            heavy = _heavy_request(8)
            assert len(heavy) <= codes.MAX_PAYLOAD
            os.write(link.fd, encode_frame(_request("card.wait", {"timeout_ms": 1500}, 7)))
            os.write(link.fd, encode_frame(heavy))
            replies: dict[int, dict[int, object]] = {}
            for payload in link.payloads(10.0):
                msg = cbor2.loads(payload) if payload else None
                if isinstance(msg, dict) and msg.get(1) in (1, 3):
                    # An error for a payload that could not be decoded echoes no id (SPEC.md §3.2).
                    rid = msg.get(2, 8)
                    assert isinstance(rid, int) and rid not in replies, f"a second reply for {rid}: {msg}"
                    replies[rid] = msg
                    if 7 in replies:
                        break
            assert set(replies) == {7, 8}, replies
            # The heavy one is refused: by its count (MAX_ENTRIES), or, on this 64-bit port whose
            # heap the running request shares, for want of heap before the count is reached (the
            # ~190 empty lists before it cost ~16 KB here, half that on an ESP32). Either way it
            # gets one error, and the wait ends as a wait does.
            heavy_error = replies[8][5]
            assert isinstance(heavy_error, dict)
            assert heavy_error["code"] in (codes.ErrorCode.E_LIMIT, codes.ErrorCode.E_INTERNAL), heavy_error
            wait_error = replies[7][5]
            assert isinstance(wait_error, dict) and wait_error["code"] == codes.ErrorCode.E_NO_CARD, wait_error
            reply = _ask(link, "ping", {}, 9)
            assert reply[1] == 1 and reply[2] == 9
            # Idle, the same request meets its count.
            reply = cbor2.loads(link.transact(_heavy_request(10)))
            assert reply[1] == 3 and reply[5]["code"] == codes.ErrorCode.E_LIMIT, reply
        finally:
            link.close()


@contextlib.contextmanager
def _card_session(pn532: VirtualPN532) -> Iterator[PtyLink]:
    """The firmware on MicroPython behind ``pn532``, its card found (card.wait, request id 1)."""
    with SimulatedReader(runtime="micropython", pn532=pn532) as sim:
        link = PtyLink(sim.port)
        try:
            link.wait_banner(lambda: sim.running)
            assert _ask(link, "card.wait", {"timeout_ms": 5000}, 1)[1] == 1
            yield link
        finally:
            link.close()


def _ask(link: PtyLink, op: str, body: dict[str, object], rid: int) -> dict[int, Any]:
    reply = cbor2.loads(link.transact(_request(op, body, rid)))
    assert isinstance(reply, dict)
    return reply


class _Overlong(VirtualCard):
    """Answers READ BINARY (and GET DATA) with ``lengths[i]`` bytes for the i-th one (the last
    length from then on), whatever Le asked for."""

    def __init__(self, image: CardImage, lengths: tuple[int, ...]) -> None:
        super().__init__(image)
        self.lengths = list(lengths)

    def transmit(self, apdu: bytes) -> bytes:
        if bytes(apdu)[1:2] in (b"\xb0", b"\xca"):
            n = self.lengths.pop(0) if len(self.lengths) > 1 else self.lengths[0]
            return b"\xaa" * n + b"\x90\x00"
        return super().transmit(apdu)


@pytest.mark.parametrize(
    ("lengths", "code"),
    [
        ((1000,), codes.ErrorCode.E_CARD_PROTOCOL),
        # The second runs past the end of the reader's response buffer, which holds a batch's
        # responses side by side: the same fault, not E_APDU_TOO_LARGE.
        ((1000, 1200), codes.ErrorCode.E_CARD_PROTOCOL),
        # Longer than any response the reader relays (1280 bytes): E_APDU_TOO_LARGE, wherever the
        # earlier responses left it in the buffer.
        ((500, 1300), codes.ErrorCode.E_APDU_TOO_LARGE),
        ((900, 1300), codes.ErrorCode.E_APDU_TOO_LARGE),
    ],
    ids=["over-the-budget", "past-the-buffer", "too-large-early", "too-large-late"],
)
def test_a_card_answering_beyond_le_fails_the_batch_typed(
    tmp_path_factory: pytest.TempPathFactory, lengths: tuple[int, ...], code: codes.ErrorCode
) -> None:
    """FOUND: responses longer than the batch budget reserves made the reply exceed MAX_PAYLOAD and
    the reader answered E_INTERNAL (its E_LIMIT fault in encoding the reply)."""
    from partycard.bench.cards import make_card

    pn532 = VirtualPN532(_Overlong(make_card(tmp_path_factory.mktemp("card")).image, lengths))
    with _card_session(pn532) as link:
        read = bytes.fromhex("00b0000010")
        reply = _ask(link, "apdu.batch", {"apdus": [read] * 3}, 2)
        assert reply[1] == 3 and reply[5]["code"] == code, reply
        assert reply[5]["index"] == 1
        reply = _ask(link, "apdu", {"apdu": read}, 3)
        if lengths[-1] + 2 <= 1280:  # one alone fits
            assert reply[1] == 1 and len(reply[4]["response"]) == lengths[-1] + 2
        else:
            assert reply[1] == 3 and reply[5]["code"] == codes.ErrorCode.E_APDU_TOO_LARGE, reply


# READ BINARY with a short Le of 16 (case 2S), and extended Le of 500 and 1000 (case 2E, ISO/IEC
# 7816-4 §5.1): the card below answers each with exactly the bytes it asked for.
READ_16 = bytes.fromhex("00b0000010")
READ_500_EXT = bytes.fromhex("00b000000001f4")
READ_1000_EXT = bytes.fromhex("00b000000003e8")
READ_256 = bytes.fromhex("00b0000000")
GET_DATA_NO_LE = bytes.fromhex("00ca9f7f")  # case 1: no Le


@pytest.mark.parametrize(
    ("apdus", "length", "ran"),
    [
        # 1002 + 1002 bytes and their heads would pass the reply's budget: the second is not run.
        ([READ_1000_EXT] * 2, 1000, 1),
        ([READ_500_EXT] * 4, 500, 3),
        # Short answers leave room for many more than the seven of 256-byte reads.
        ([READ_16] * 32, 16, 32),
        # Without Le a card may answer all the same (a SELECT's FCI): 256 bytes are kept for it,
        # so the eighth is not run after seven of 256, and no response is lost.
        ([READ_256] * 7 + [GET_DATA_NO_LE], 256, 7),
    ],
    ids=["two-of-1000", "four-of-500", "thirty-two-of-16", "no-le-after-seven-of-256"],
)
def test_a_batch_runs_an_apdu_only_when_the_reply_holds_what_its_le_allows(
    tmp_path_factory: pytest.TempPathFactory, apdus: list[bytes], length: int, ran: int
) -> None:
    """FOUND: the reader kept room for a short response (262 bytes) whatever Le asked for, so an
    extended-Le batch ran an APDU whose response it then could not deliver (E_CARD_PROTOCOL, the
    card's answer lost) for a card that did nothing wrong (SPEC.md §4)."""
    from partycard.bench.cards import make_card

    pn532 = VirtualPN532(_Overlong(make_card(tmp_path_factory.mktemp("card")).image, (length,)))
    with _card_session(pn532) as link:
        before = pn532.stats.apdus
        reply = _ask(link, "apdu.batch", {"apdus": apdus}, 2)
        assert reply[1] == 1, reply.get(5)
        responses = reply[4]["responses"]
        assert [len(r) for r in responses] == [length + 2] * ran
        assert pn532.stats.apdus - before == ran  # what was not delivered was not run


def test_a_card_chaining_past_what_iso_7816_allows_is_cut_off_and_the_reader_goes_on(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """FOUND: the reader drained a chained response of any length; a card that never stopped
    chaining held it until the watchdog reset it. Past 65 538 bytes (Ne 65536 and SW1 SW2, ISO/IEC
    7816-4 §5.1) it is E_CARD_PROTOCOL; a long but possible one is still E_APDU_TOO_LARGE."""
    from partycard.bench.cards import make_card

    # 65 540 bytes cross the limit in the chain's last part, 70 000 before it.
    card = _Overlong(make_card(tmp_path_factory.mktemp("card")).image, (5000, 65540, 70000, 16))
    pn532 = VirtualPN532(card)
    with _card_session(pn532) as link:
        reply = _ask(link, "apdu", {"apdu": READ_16}, 2)
        assert reply[1] == 3 and reply[5]["code"] == codes.ErrorCode.E_APDU_TOO_LARGE, reply
        for rid in (3, 5):
            reply = _ask(link, "apdu", {"apdu": READ_16}, rid)
            assert reply[1] == 3 and reply[5]["code"] == codes.ErrorCode.E_CARD_PROTOCOL, reply
            # The card session is gone; the card is found again.
            assert _ask(link, "card.wait", {"timeout_ms": 5000}, rid + 1)[1] == 1
        reply = _ask(link, "apdu", {"apdu": READ_16}, 7)
        assert reply[1] == 1 and len(reply[4]["response"]) == 18, reply


class _EndlessChain(VirtualPN532):
    """Hands over a card's response in parts that say "more" and carry nothing, for ever."""

    def _mi_chunk(self) -> bytes:
        return b"\x41\x40" if self._mi_rest else super()._mi_chunk()


def test_a_chain_of_empty_parts_is_cut_off_too(tmp_path_factory: pytest.TempPathFactory) -> None:
    """FOUND: the cut-off counted bytes only; parts with the more-data bit and no data held the
    reader for ever. Parts are counted as well (512, where a 65 538-byte response needs some 260)."""
    from partycard.bench.cards import make_card

    pn532 = _EndlessChain(VirtualCard(make_card(tmp_path_factory.mktemp("card")).image))
    with _card_session(pn532) as link:
        reply = _ask(link, "apdu", {"apdu": READ_16}, 2)
        assert reply[1] == 3 and reply[5]["code"] == codes.ErrorCode.E_CARD_PROTOCOL, reply
        assert _ask(link, "ping", {}, 3)[1] == 1
