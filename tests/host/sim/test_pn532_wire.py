"""The virtual PN532 at the byte level, from a plain socket client: UM0701-02 §6.2 dialog rules and
the golden frames of tests/vectors/pn532."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from partycard.sim.pn532 import ACK, ERROR_FRAME, NACK, VirtualPN532, build_frame, rising_edges
from partycard.sim.scripted_card import ScriptedCard

pytestmark = pytest.mark.timeout(30)

GOLDEN = json.loads((Path(__file__).parents[2] / "vectors" / "pn532" / "golden_frames.json").read_text())
WAKE = b"\x55\x55" + bytes(14)


def golden(name: str) -> bytes:
    for f in GOLDEN["frames"]:
        if f["name"] == name:
            return bytes.fromhex(f["hex"])
    raise KeyError(name)


class Client:
    def __init__(self, path: str) -> None:
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(0.05)

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def read(self, want: int, timeout_s: float = 1.0) -> bytes:
        out = b""
        end = time.monotonic() + timeout_s
        while len(out) < want and time.monotonic() < end:
            try:
                chunk = self.s.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                break
            out += chunk
        return out

    def quiet(self, wait_s: float = 0.1) -> bytes:
        return self.read(1 << 20, wait_s)

    def command(self, pd: bytes) -> bytes:
        """Send one command; return ACK + the complete response frame (or what came in 1 s)."""
        self.send(build_frame(b"\xd4" + pd))
        out = b""
        end = time.monotonic() + 1.0
        while time.monotonic() < end and not _complete(out):
            try:
                chunk = self.s.recv(4096)
            except TimeoutError:
                continue
            out += chunk
        return out


def _complete(data: bytes) -> bool:
    """ACK followed by one whole information or error frame."""
    f = data[6:]
    if data[:6] != ACK or len(f) < 5:
        return False
    if f[3] == 0xFF and f[4] == 0xFF:
        return len(f) >= 8 and len(f) >= 8 + (f[5] << 8 | f[6]) + 2
    return len(f) >= 5 + f[3] + 2


@pytest.fixture
def chip(tmp_path: Path) -> Iterator[VirtualPN532]:
    pn = VirtualPN532(ScriptedCard({b"\x00\xa4\x04\x00\x00": b"\x90\x00"}))
    pn.start(str(tmp_path / "pn.sock"))
    yield pn
    pn.stop()


@pytest.fixture
def client(chip: VirtualPN532) -> Iterator[Client]:
    assert chip.socket_path is not None
    c = Client(chip.socket_path)
    yield c
    c.s.close()


def wake_and_configure(c: Client) -> None:
    c.send(WAKE)
    c.send(golden("SAMConfiguration command"))
    assert c.read(15) == ACK + golden("SAMConfiguration response")


def test_rising_edges_of_wake_bytes() -> None:
    # 0x55 on an 8N1 line: start 0, 1 0 1 0 1 0 1 0, stop 1 -> five rising edges (§6.3.2.3)
    assert rising_edges(0x55) == 5
    assert rising_edges(0x00) == 1
    assert rising_edges(0xFF) == 1


def test_golden_dialog_after_wake(client: Client) -> None:
    wake_and_configure(client)
    client.send(golden("GetFirmwareVersion command"))
    assert client.read(19) == ACK + golden("GetFirmwareVersion response")
    client.send(golden("RFConfiguration field off command"))
    assert client.read(15) == ACK + golden("RFConfiguration response")
    client.send(golden("InDeselect all command"))
    assert client.read(16) == ACK + golden("InDeselect response")


def test_asleep_until_wake_and_sam_first(chip: VirtualPN532, client: Client) -> None:
    client.send(golden("GetFirmwareVersion command"))  # LowVbat: lost
    assert client.quiet() == b""
    client.send(b"\x55")
    client.send(golden("GetFirmwareVersion command"))  # awake, but SAMConfiguration must come first
    assert client.quiet() == b""
    wake_and_configure(client)
    assert chip.stats.wakeups == 1 and chip.stats.ignored >= 1


def test_list_without_card_returns_golden_no_card(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    chip.remove()
    client.command(b"\x32\x05\x02\x01\x01")  # bounded MxRtyPassiveActivation
    client.command(b"\x32\x01\x01")
    client.send(golden("InListPassiveTarget 1 x 106A command"))
    assert client.read(16) == ACK + golden("InListPassiveTarget no card")


def test_infinite_retries_wait_until_aborted_by_ack(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    chip.remove()
    client.command(b"\x32\x01\x01")
    client.send(golden("InListPassiveTarget 1 x 106A command"))
    assert client.read(6, 2.0) == ACK
    assert client.quiet(0.3) == b""  # default MxRtyPassiveActivation 0xFF: no answer
    client.send(ACK)  # abort (§6.2.1.3)
    time.sleep(0.05)
    chip.insert(ScriptedCard())
    assert client.quiet(0.2) == b""  # the aborted command does not answer later
    assert chip.stats.aborts == 1


def test_infinite_retries_answer_when_a_card_arrives(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    chip.remove()
    client.command(b"\x12\x14")  # AutoRATS
    client.command(b"\x32\x01\x01")
    client.send(golden("InListPassiveTarget 1 x 106A command"))
    assert client.read(6, 2.0) == ACK
    assert client.quiet(0.2) == b""
    chip.insert(ScriptedCard())
    want = build_frame(bytes.fromhex("d54b01 01 0004 20 04 08123456 0578807002"))
    assert client.read(len(want), 2.0) == want


def test_nack_repeats_last_response(client: Client) -> None:
    wake_and_configure(client)
    client.send(NACK)
    assert client.read(9) == golden("SAMConfiguration response")


def test_unknown_command_gets_syntax_error_frame(client: Client) -> None:
    wake_and_configure(client)
    assert client.command(b"\xee\x01") == ACK + ERROR_FRAME
    assert client.command(b"\x32") == ACK + ERROR_FRAME  # RFConfiguration without its item


def test_bad_checksums_are_ignored_silently(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    bad = bytearray(golden("GetFirmwareVersion command"))
    bad[-2] ^= 1
    client.send(bytes(bad))
    assert client.quiet() == b""
    assert chip.stats.bad_frames == 1
    client.send(b"\x00\x00\x00\x13\x37" + golden("GetFirmwareVersion command"))  # noise + long preamble
    assert client.read(19) == ACK + golden("GetFirmwareVersion response")


def _activate(client: Client) -> None:
    client.command(b"\x12\x14")
    client.command(b"\x32\x05\x02\x01\x01")
    client.command(b"\x32\x01\x01")
    assert client.command(b"\x4a\x01\x00")[6:].startswith(b"\x00\x00\xff")


def test_extended_response_frame_for_258_bytes(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    data = bytes(i & 0xFF for i in range(256)) + b"\x90\x00"
    chip.insert(ScriptedCard(lambda _apdu: data))
    _activate(client)
    got = client.command(b"\x40\x01\x00\xb0\x00\x00\x00")
    assert got[:6] == ACK
    frame = got[6:]
    assert frame[:5] == b"\x00\x00\xff\xff\xff"  # extended: LEN = 1 + 2 + 258 = 261 (§6.2.1.2)
    assert (frame[5] << 8 | frame[6]) == 261
    assert frame == build_frame(b"\xd5\x41\x00" + data)


def test_mi_chaining_both_ways(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    long_resp = bytes(i % 251 for i in range(998)) + b"\x90\x00"
    card = ScriptedCard(lambda _apdu: long_resp)
    chip.insert(card)
    _activate(client)
    cmd = b"\x00\xd6\x00\x00\x00\x01\x2c" + bytes(300)  # 307-byte extended-length APDU
    assert client.command(b"\x40\x41" + cmd[:262]) == ACK + build_frame(b"\xd5\x41\x00")
    got = client.command(b"\x40\x01" + cmd[262:])
    assert card.received == [cmd]
    out = b""
    while True:
        frame = got[6:]
        assert got[:6] == ACK and frame[5 if frame[3] != 0xFF else 8] == 0xD5
        body = frame[8:-2] if frame[3] == 0xFF and frame[4] == 0xFF else frame[5:-2]
        status = body[2]
        out += body[3:]
        if not status & 0x40:
            break
        got = client.command(b"\x40\x01")
    assert out == long_resp


def test_card_removed_answers_status_01(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    _activate(client)
    chip.remove()
    assert client.command(b"\x40\x01\x00\xa4\x04\x00\x00") == ACK + build_frame(b"\xd5\x41\x01")
    assert client.command(b"\x00\x06") == ACK + build_frame(b"\xd5\x01\x01")


def test_baud_switch_after_host_ack(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    assert client.command(b"\x10\x07") == ACK + build_frame(b"\xd5\x11")
    assert chip.baud == 115200
    client.send(ACK)
    time.sleep(0.05)
    assert chip.baud == 921600 and chip.timing.baud == 921600


def test_split_spurious_and_coalesced_writes_carry_the_same_frames(
    chip: VirtualPN532, client: Client
) -> None:
    wake_and_configure(client)
    chip.faults.split = True
    chip.faults.spurious = 1
    client.send(golden("GetFirmwareVersion command"))
    got = client.read(19 + 7, 2.0)  # 7 noise bytes first
    assert got.endswith(ACK + golden("GetFirmwareVersion response")) and len(got) == 19 + 7
    chip.faults.split = False
    chip.faults.coalesce = True
    client.send(golden("GetFirmwareVersion command"))
    assert client.read(19) == ACK + golden("GetFirmwareVersion response")


def test_corrupted_response_then_nack_gives_the_good_one(chip: VirtualPN532, client: Client) -> None:
    wake_and_configure(client)
    chip.faults.bad_dcs = 1
    client.send(golden("GetFirmwareVersion command"))
    first = client.read(19)
    assert first[:6] == ACK and first[6:] != golden("GetFirmwareVersion response")
    client.send(NACK)
    assert client.read(13) == golden("GetFirmwareVersion response")


def test_no_amble_mode_drops_preamble_and_postamble(client: Client) -> None:
    wake_and_configure(client)
    client.command(b"\x12\x40")  # SetParameters fNoAMBLE
    client.send(golden("GetFirmwareVersion command"))
    assert client.read(17) == ACK + golden("GetFirmwareVersion response")[1:-1]
