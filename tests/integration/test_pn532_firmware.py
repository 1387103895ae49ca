"""The firmware card layer (MicroPython unix port, 64 KiB heap) against the virtual PN532 over a
UNIX socket: start-up, card activation, APDU relay, extended frames, MI chaining, every fault
knob, card removal at every exchange of a session, presence events, and a 10,000-APDU soak."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from partycard.sim.pn532 import PN532Faults, VirtualPN532
from partycard.sim.scripted_card import ScriptedCard
from tests.firmware.card.simharness import FirmwareError, FirmwareSession
from tests.firmware.mp import micropython_or_skip

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

E_PN532_TIMEOUT, E_PN532_STATUS, E_PN532_FRAME, E_NO_FRONTEND, E_RF = 0x20, 0x21, 0x22, 0x23, 0x24
E_CANCELLED, E_BAD_ARGUMENT = 0x07, 0x08
E_NO_CARD, E_CARD_REMOVED, E_CARD_PROTOCOL, E_APDU_TOO_LARGE, E_NOT_ACTIVE = 0x40, 0x41, 0x42, 0x43, 0x44

SELECT = bytes.fromhex("00a4040c07a0000002471001")
READ = bytes.fromhex("00b0000000")


def answering(resp_len: int) -> Callable[[bytes], bytes]:
    data = bytes(i & 0xFF for i in range(resp_len)) + b"\x90\x00"
    return lambda _apdu: data


Factory = Callable[..., FirmwareSession]


@pytest.fixture
def session() -> Iterator[Factory]:
    opened: list[FirmwareSession] = []

    def make(card: Any = None, faults: PN532Faults | None = None, **kw: Any) -> FirmwareSession:
        s = FirmwareSession(VirtualPN532(card, faults), micropython_or_skip(), **kw)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def err(s: FirmwareSession, op: str, **kw: Any) -> FirmwareError:
    with pytest.raises(FirmwareError) as info:
        s.call(op, **kw)
    return info.value


def test_start_up_sequence_and_first_card(session: Factory) -> None:
    card = ScriptedCard({SELECT: b"\x90\x00"})
    s = session(card)
    assert s.call("start") == "PN532 v1.6"
    pn = s.pn532
    assert pn.stats.wakeups == 1 and pn.configured  # woken by 0x55, SAMConfiguration first
    assert pn.max_passive != 0xFF  # bounded passive activation retries
    assert pn.params & 0x10  # AutoRATS: the PN532 runs ISO-DEP
    info = s.call("wait", timeout_ms=1000)
    assert info == {"type": "A", "uid": "08123456", "ats": "0578807002", "atqb": None}
    assert s.call("apdu", hex=SELECT.hex()) == "9000"
    assert s.call("apdu", hex=READ.hex()) == "6d00"
    assert card.received == [SELECT, READ]
    assert s.call("events") == [["card.present", info]]


def test_no_card_is_e_no_card_and_apdu_needs_an_active_card(session: Factory) -> None:
    s = session(None)
    s.call("start")
    assert err(s, "wait", timeout_ms=300).code == E_NO_CARD
    assert err(s, "apdu", hex=READ.hex()).code == E_NOT_ACTIVE
    assert err(s, "release").code == E_NOT_ACTIVE


def test_absent_front_end_is_no_frontend_then_recovers(session: Factory) -> None:
    s = session(ScriptedCard(), PN532Faults(ignore_commands=10_000))
    assert err(s, "start").code == E_NO_FRONTEND
    s.pn532.faults.ignore_commands = 0
    assert s.call("start") == "PN532 v1.6"
    assert s.call("wait", timeout_ms=500)["uid"] == "08123456"


def test_258_byte_response_arrives_in_an_extended_frame(session: Factory) -> None:
    s = session(ScriptedCard(answering(256)))
    s.call("start")
    s.call("wait", timeout_ms=500)
    got = bytes.fromhex(s.call("apdu", hex=READ.hex()))
    assert got == bytes(i & 0xFF for i in range(256)) + b"\x90\x00"
    assert s.pn532.stats.by_command[0x40] == 1  # one InDataExchange: no chaining needed


def test_1000_byte_response_arrives_through_mi_chaining(session: Factory) -> None:
    # The reply needs one 1 KB block besides the 1280-byte receive buffer. On the unix port the
    # loaded bytecode lives in the heap too (on the ESP32 it is frozen in flash), which leaves
    # about 11 KB of a 64 KiB heap, too fragmented for that; 96 KiB stands in for the ESP32.
    s = session(ScriptedCard(answering(998)), heap="96k")
    s.call("start")
    s.call("wait", timeout_ms=500)
    got = bytes.fromhex(s.call("apdu", hex="00b00000000000"))
    assert got == bytes(i & 0xFF for i in range(998)) + b"\x90\x00"
    assert s.pn532.stats.by_command[0x40] == 4  # 262 + 262 + 262 + 214


def test_long_command_apdu_is_chained_and_oversize_is_refused(session: Factory) -> None:
    card = ScriptedCard(answering(0))
    s = session(card, heap="96k")  # the test driver's 530-character command line needs the room
    s.call("start")
    s.call("wait", timeout_ms=500)
    cmd = bytes.fromhex("00d6000000") + bytes.fromhex("0100") + bytes(i & 0xFF for i in range(257))
    assert len(cmd) == 264
    assert s.call("apdu", hex=cmd.hex()) == "9000"
    assert card.received == [cmd]
    e = err(s, "apdu", hex=(cmd + b"\x00").hex())
    assert e.code == E_APDU_TOO_LARGE and e.detail == {"limit": 264}
    assert err(s, "apdu", hex="00a4").code == E_BAD_ARGUMENT
    assert card.received == [cmd]  # nothing partial reached the card
    assert s.call("apdu", hex=SELECT.hex()) == "9000"  # and the card is still active


RECOVER = [
    ("bad_lcs", 1),
    ("bad_dcs", 1),
    ("bad_dcs", 2),
    ("response_delay_s", 0.3),
    ("split", True),
    ("spurious", 4),
    ("coalesce", True),
    ("duplicate_ack", 2),
]


@pytest.mark.parametrize(("knob", "value"), RECOVER)
def test_fault_knob_is_recovered_without_repeating_the_apdu(session: Factory, knob: str, value: Any) -> None:
    card = ScriptedCard(answering(40))
    s = session(card)
    s.call("start")
    s.call("wait", timeout_ms=500)
    setattr(s.pn532.faults, knob, value)
    assert s.call("apdu", hex=READ.hex()) == (bytes(range(40)) + b"\x90\x00").hex()
    assert card.received == [READ]  # executed exactly once
    setattr(s.pn532.faults, knob, PN532Faults().__getattribute__(knob))
    assert s.call("apdu", hex=READ.hex()).endswith("9000")
    stats = s.call("stats")
    assert stats["resends"] == 0
    if knob in ("bad_lcs", "bad_dcs"):
        assert stats["nacks"] == value and s.pn532.stats.nacks_received == value


@pytest.mark.parametrize("knob", ["lose_acks", "garble_acks"])
def test_lost_ack_waits_for_the_answer_instead_of_running_the_apdu_twice(session: Factory, knob: str) -> None:
    card = ScriptedCard(answering(40))
    s = session(card)
    s.call("start")
    s.call("wait", timeout_ms=500)
    # The answer comes after the ACK window (15 ms + the session board's slack): a resend would
    # abort the running InDataExchange, which has already carried the APDU to the card.
    s.pn532.faults.response_delay_s = 0.4
    setattr(s.pn532.faults, knob, 1)
    assert s.call("apdu", hex=READ.hex()) == (bytes(range(40)) + b"\x90\x00").hex()
    assert card.received == [READ]
    stats = s.call("stats")
    assert (stats["resends"], stats["acks_missed"], stats["timeouts"]) == (0, 1, 0)
    s.pn532.faults.response_delay_s = 0.0
    assert s.call("apdu", hex=READ.hex()).endswith("9000")
    assert card.received == [READ, READ]


# Silence after an InDataExchange frame: the frame was lost (the card saw nothing), or the ACK was
# lost and then the answer too, or the card is slower than the exchange timeout (the card ran the
# APDU). The firmware cannot tell these apart, so none of them may lead to a resend.
SILENT = [
    pytest.param({"ignore_commands": 1}, 0, id="command-frame-lost"),
    pytest.param({"lose_acks": 1, "drop_responses": 1}, 1, id="ack-and-answer-lost"),
    pytest.param({"lose_acks": 1, "response_delay_s": 5.8}, 1, id="ack-lost-card-slower-than-the-timeout"),
]


@pytest.mark.parametrize(("faults", "runs"), SILENT)
def test_unanswered_exchange_is_a_timeout_never_a_resend(session: Factory, faults: dict[str, Any], runs: int) -> None:
    card = ScriptedCard(answering(10))
    s = session(card)
    s.call("start")
    s.call("wait", timeout_ms=500)
    for knob, value in faults.items():
        setattr(s.pn532.faults, knob, value)
    assert err(s, "apdu", hex=READ.hex()).code == E_PN532_TIMEOUT
    assert card.received == [READ] * runs
    stats = s.call("stats")
    assert (stats["resends"], stats["acks_missed"], stats["timeouts"]) == (0, 1, 1)
    assert s.call("events")[-1] == ["card.removed", {"uid": "08123456"}]  # state unknown: polling again


class _SilentAtExchange(VirtualPN532):
    """Loses the ACK and the answer of the ``nth`` InDataExchange frame (counting from ``arm()``)."""

    def __init__(self, card: ScriptedCard, nth: int) -> None:
        super().__init__(card)
        self.nth, self.seen = nth, -1

    def arm(self) -> None:
        self.seen = 0

    def _on_frame(self, conn: Any, body: bytes) -> None:
        if self.seen >= 0 and len(body) >= 2 and body[1] == 0x40:
            self.seen += 1
            if self.seen == self.nth:
                self.faults.lose_acks = 1
                self.faults.drop_responses = 1
        super()._on_frame(conn, body)


def test_silent_mi_continuation_fails_the_apdu_instead_of_skipping_a_part() -> None:
    # The second frame asks for the next part of a chained answer: a resend would get the part
    # after it, and the host would receive a shorter response as a success.
    card = ScriptedCard(answering(998))
    pn532 = _SilentAtExchange(card, nth=2)
    s = FirmwareSession(pn532, micropython_or_skip(), heap="96k")
    try:
        s.call("start")
        s.call("wait", timeout_ms=500)
        pn532.arm()
        assert err(s, "apdu", hex="00b00000000000").code == E_PN532_TIMEOUT
        assert len(card.received) == 1 and pn532.seen == 2
        assert s.call("stats")["resends"] == 0
    finally:
        s.close()


FAIL = [
    ("ignore_commands", 3, E_PN532_TIMEOUT, None),
    ("bad_dcs", 3, E_PN532_FRAME, None),
    ("syntax_errors", 1, E_PN532_STATUS, 0x7F),
    ("status_errors", [0x02], E_RF, 0x02),
    ("status_errors", [0x13], E_CARD_PROTOCOL, 0x13),
    ("status_errors", [0x0E], E_PN532_STATUS, 0x0E),
    ("status_errors", [0x01], E_CARD_REMOVED, 0x01),
]


@pytest.mark.parametrize(("knob", "value", "code", "status"), FAIL)
def test_fault_knob_gives_typed_fault_then_next_card_reads(
    session: Factory, knob: str, value: Any, code: int, status: int | None
) -> None:
    card = ScriptedCard(answering(10))
    s = session(card)
    s.call("start")
    s.call("wait", timeout_ms=500)
    setattr(s.pn532.faults, knob, value)
    e = err(s, "apdu", hex=READ.hex())
    assert e.code == code, e
    if status is not None:
        assert e.detail is not None and e.detail["status"] == status
    events = s.call("events")
    assert events[-1] == ["card.removed", {"uid": "08123456"}]  # the state is unknown: back to polling
    assert err(s, "apdu", hex=READ.hex()).code == E_NOT_ACTIVE
    other = ScriptedCard(answering(3), uid=bytes.fromhex("08aabbcc"))
    s.pn532.insert(other)
    assert s.call("wait", timeout_ms=1000)["uid"] == "08aabbcc"
    assert s.call("apdu", hex=READ.hex()) == "0001029000"


def test_lost_response_while_polling_is_aborted_and_polling_goes_on(session: Factory) -> None:
    s = session(ScriptedCard())
    s.call("start")
    s.pn532.faults.drop_responses = 1
    assert s.call("wait", timeout_ms=3000)["uid"] == "08123456"
    assert s.pn532.stats.aborts >= 1 and s.call("stats")["timeouts"] == 1


def test_repeated_faults_reset_and_reinitialise_the_pn532(session: Factory) -> None:
    s = session(ScriptedCard())
    s.call("start")
    sam_before = s.pn532.stats.by_command[0x14]
    s.pn532.faults.ignore_commands = 9  # three polls in a row get no ACK, each after 3 tries
    assert s.call("wait", timeout_ms=3000)["uid"] == "08123456"
    assert s.call("stats")["reinits"] == 1
    assert s.pn532.stats.by_command[0x14] == sam_before + 1  # SAMConfiguration again


def test_card_removed_at_every_exchange_of_a_20_apdu_session(session: Factory) -> None:
    card = ScriptedCard(lambda apdu: apdu[2:4] + b"\x90\x00")
    s = session(card)
    s.call("start")
    for k in range(20):
        s.pn532.insert(card)
        s.call("wait", timeout_ms=1000)
        s.call("events")
        s.pn532.faults.remove_at_exchange = k
        delivered = []
        with pytest.raises(FirmwareError) as info:
            for i in range(20):
                delivered.append(s.call("apdu", hex=(b"\x00\xb0" + bytes((i, k))).hex()))
        assert info.value.code == E_CARD_REMOVED
        assert delivered == [(bytes((i, k)) + b"\x90\x00").hex() for i in range(k)]
        assert s.call("events") == [["card.removed", {"uid": "08123456"}]]
        assert err(s, "wait", timeout_ms=200).code == E_NO_CARD  # polling, and no card there
    s.pn532.insert(card)
    assert s.call("wait", timeout_ms=1000)["type"] == "A"


def test_batch_runs_back_to_back_and_stops_on_status(session: Factory) -> None:
    def script(apdu: bytes) -> bytes:
        return b"\x6a\x82" if apdu[3] == 3 else bytes((apdu[3],)) + b"\x90\x00"

    s = session(ScriptedCard(script))
    s.call("start")
    s.call("wait", timeout_ms=500)
    apdus = [f"00b000{i:02x}01" for i in range(6)]
    assert s.call("batch", apdus=apdus) == ["009000", "019000", "029000", "6a82"]
    assert s.call("batch", apdus=apdus, **{"continue": [0x9000, 0x6A82]}) == [
        "009000", "019000", "029000", "6a82", "049000", "059000"
    ]
    s.pn532.faults.remove_at_exchange = 2
    e = err(s, "batch", apdus=apdus)
    assert e.code == E_CARD_REMOVED and e.detail is not None and e.detail["index"] == 2


def test_presence_events_and_release(session: Factory) -> None:
    card = ScriptedCard()
    s = session(None)
    s.call("start")
    s.call("idle", ms=300)
    assert s.call("events") == []
    s.pn532.insert(card)
    s.call("idle", ms=700)
    ev = s.call("events")
    assert [e[0] for e in ev] == ["card.present"] and ev[0][1]["uid"] == "08123456"
    s.call("release")
    s.call("idle", ms=600)
    assert s.call("events") == []  # the released card stays quiet while it stays in the field
    s.pn532.remove()
    s.call("idle", ms=700)
    assert s.call("events") == [["card.removed", {"uid": "08123456"}]]  # the released card left
    s.pn532.insert(card)
    s.call("idle", ms=700)
    assert [e[0] for e in s.call("events")] == ["card.present"]
    s.pn532.remove()
    s.call("idle", ms=600)
    assert s.call("events") == [["card.removed", {"uid": "08123456"}]]


def test_cancel_stops_a_waiting_card_wait_and_the_next_wait_works(session: Factory) -> None:
    s = session(None)
    s.call("start")
    s.call("cancel_at", n=3)
    assert err(s, "wait", timeout_ms=5000).code == E_CANCELLED
    s.pn532.insert(ScriptedCard())
    assert s.call("wait", timeout_ms=1000)["uid"] == "08123456"


def test_cancel_mid_exchange_aborts_the_pn532_command(session: Factory) -> None:
    card = ScriptedCard(answering(2))
    s = session(card)
    s.call("start")
    s.call("wait", timeout_ms=1000)
    s.pn532.faults.response_delay_s = 0.6
    s.call("cancel_at", n=1)
    assert err(s, "apdu", hex=READ.hex()).code == E_CANCELLED
    assert s.pn532.stats.aborts == 1  # the host ACK cancelled InDataExchange (UM0701-02 §6.2.1.3)
    assert s.call("stats")["aborts"] == 1
    s.pn532.faults.response_delay_s = 0.0
    assert s.call("events")[-1][0] == "card.removed"  # ISO-DEP state unknown after an abort
    s.call("wait", timeout_ms=1000)
    assert s.call("apdu", hex=READ.hex()) == "00019000"


def test_type_b_card(session: Factory) -> None:
    card = ScriptedCard(answering(2), kind="B", uid=bytes.fromhex("a1b2c3d4"))
    s = session(card)
    s.call("start")
    info = s.call("wait", timeout_ms=1000)
    assert info["type"] == "B" and info["uid"] == "a1b2c3d4" and info["ats"] is None
    assert info["atqb"] == "50a1b2c3d400000000008185"
    assert s.call("apdu", hex=READ.hex()) == "00019000"


def test_pps_to_424_when_the_ats_allows_and_fast_hsu(session: Factory) -> None:
    card = ScriptedCard(answering(2), ats=bytes.fromhex("0578b37002"))  # TA(1) = 0x33: 212/424 both ways
    s = session(card, fast_baud=921600)
    s.call("start")
    assert s.pn532.baud == 921600  # SetSerialBaudRate after start-up
    s.call("wait", timeout_ms=1000)
    assert s.pn532.timing.rate_kbps == 424
    assert s.call("apdu", hex=READ.hex()) == "00019000"
    slow = ScriptedCard(answering(2), ats=bytes.fromhex("0578807002"))  # TA(1) = 0x80: 106 only
    s.pn532.insert(slow)
    assert err(s, "apdu", hex=READ.hex()).code == E_CARD_REMOVED  # a different card: old target gone
    s.call("wait", timeout_ms=1000)
    assert s.pn532.timing.rate_kbps == 106


def test_10000_apdus_on_a_64k_heap_without_heap_growth(session: Factory, record_property: Any) -> None:
    s = session(ScriptedCard(answering(256)))
    s.call("start")
    s.call("wait", timeout_ms=1000)
    r = s.call("soak", n=10_000, hex=READ.hex(), resp_len=256)
    record_property("soak", r)
    mem = [line for line in s.output if line.startswith(("GC:", "mem:", " No."))]
    record_property("mem_info", mem)
    print("soak", r, *mem, sep="\n")
    assert r["n"] == 10_000 and r["bad"] == 0, s.output
    assert r["free_after"] >= r["free_before"]  # no heap growth
    assert any(line.startswith("GC: total: 64") for line in mem)  # the 64 KiB heap was in force


def test_the_card_layer_also_runs_on_cpython() -> None:
    card = ScriptedCard(answering(256))
    with FirmwareSession(VirtualPN532(card), None) as s:
        assert s.call("start") == "PN532 v1.6"
        assert s.call("wait", timeout_ms=1000)["uid"] == "08123456"
        got = bytes.fromhex(s.call("apdu", hex=READ.hex()))
        assert got == bytes(i & 0xFF for i in range(256)) + b"\x90\x00"
        s.pn532.faults.bad_dcs = 1
        s.pn532.faults.split = True
        assert s.call("apdu", hex=READ.hex()).endswith("9000")
        s.pn532.faults.remove_at_exchange = 0
        assert err(s, "apdu", hex=READ.hex()).code == E_CARD_REMOVED
