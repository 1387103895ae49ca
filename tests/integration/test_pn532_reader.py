"""End to end: host reader client -> pty -> firmware (MicroPython) -> virtual PN532 -> card.

The whole firmware is loaded from source here, and on the unix port the bytecode lives in the
heap (on the ESP32 it is frozen in flash), so these runs use a 256 KiB heap; the card layer's
64 KiB behaviour is covered by test_pn532_firmware.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from partycard.errors import CardRemoved, DeviceError, NoCard
from partycard.link.client import ReaderClient, open_reader
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import SimulatedReader, micropython_executable
from partycard.sim.scripted_card import ScriptedCard

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

READ = bytes.fromhex("00b0000000")


def card_answering(n: int) -> ScriptedCard:
    data = bytes(i & 0xFF for i in range(n)) + b"\x90\x00"
    return ScriptedCard(lambda _apdu: data)


@pytest.fixture
def pn532() -> VirtualPN532:
    return VirtualPN532(None)


@pytest.fixture
def reader(pn532: VirtualPN532) -> Iterator[ReaderClient]:
    if micropython_executable() is None:
        pytest.skip("MicroPython unix port not installed")
    with SimulatedReader(pn532=pn532, heap="256k") as sim, open_reader(sim.port) as client:
        yield client


def _event_ops(client: ReaderClient, wait_s: float = 0.3) -> list[str]:
    ops = []
    while (ev := client.next_event(wait_s)) is not None:
        ops.append(ev.op)
    return ops


def test_hello_names_the_front_end_and_card_ops(reader: ReaderClient) -> None:
    info = reader.hello()
    assert info.frontend == "PN532 v1.6"
    assert {"card.wait", "apdu", "apdu.batch", "card.release"} <= set(info.ops)


def test_card_session_through_the_whole_chain(pn532: VirtualPN532, reader: ReaderClient) -> None:
    with pytest.raises(NoCard):
        reader.wait_card(0.3)
    pn532.insert(card_answering(20))
    info = reader.wait_card(2.0)
    assert (info.type, info.uid, info.ats) == ("A", bytes.fromhex("08123456"), bytes.fromhex("0578807002"))
    assert reader.transmit(READ) == bytes(range(20)) + b"\x90\x00"
    assert reader.transmit_batch([READ] * 3) == [bytes(range(20)) + b"\x90\x00"] * 3
    reader.release()
    pn532.remove()
    assert _event_ops(reader) == ["card.present", "card.removed"]


def test_extended_frame_and_mi_chained_responses(pn532: VirtualPN532, reader: ReaderClient) -> None:
    pn532.insert(card_answering(256))
    reader.wait_card(2.0)
    assert reader.transmit(READ) == bytes(i & 0xFF for i in range(256)) + b"\x90\x00"
    pn532.insert(card_answering(998))
    with pytest.raises(CardRemoved):  # another card: the activated one is gone
        reader.transmit(READ)
    reader.wait_card(2.0)
    assert reader.transmit(READ) == bytes(i & 0xFF for i in range(998)) + b"\x90\x00"


def test_removal_mid_session_then_next_card(pn532: VirtualPN532, reader: ReaderClient) -> None:
    card = card_answering(4)
    pn532.insert(card)
    reader.wait_card(2.0)
    pn532.faults.remove_at_exchange = 2
    assert reader.transmit(READ).endswith(b"\x90\x00")
    assert reader.transmit(READ).endswith(b"\x90\x00")
    with pytest.raises(CardRemoved):
        reader.transmit(READ)
    assert len(card.received) == 2  # nothing of the third reached the card
    with pytest.raises(DeviceError) as info:
        reader.transmit(READ)
    assert info.value.code == 0x44  # E_NOT_ACTIVE
    pn532.insert(card_answering(1))
    reader.wait_card(2.0)
    assert reader.transmit(READ) == b"\x00\x90\x00"


def test_oversize_apdu_is_refused(pn532: VirtualPN532, reader: ReaderClient) -> None:
    pn532.insert(card_answering(0))
    reader.wait_card(2.0)
    with pytest.raises(DeviceError) as info:
        reader.transmit(b"\x00\xd6\x00\x00\x00\x01\x04" + bytes(258))
    assert info.value.code == 0x43  # E_APDU_TOO_LARGE
    assert reader.transmit(READ) == b"\x90\x00"
