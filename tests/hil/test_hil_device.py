"""Device ops, the PN532 and a card on a reader, through pytest-embedded's serial service.

The same tests run against a real ESP32 + PN532 (``--port /dev/ttyUSB0``) and, without a port,
against the simulated reader (tests/hil/conftest.py: the firmware on the MicroPython unix port
with a virtual PN532). On a real board they change nothing lasting: what config.set stores is put
back, and the card test needs a card on the antenna (it skips, saying so, when there is none).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from partycard.errors import DeviceError, NoCard
from partycard.link.client import ReaderClient
from partycard.link.codes import ErrorCode
from partycard.sim.pn532 import VirtualPN532

pytestmark = [pytest.mark.hil, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
LDS1_AID = bytes.fromhex("A0000002471001")  # ICAO 9303-10 §3.10.1, protocol/card-profile.md
SELECT_LDS1 = bytes.fromhex("00A4040C07") + LDS1_AID  # SELECT by DF name, no response data
NOW = dt.datetime(2025, 8, 18, 9, 0, tzinfo=dt.UTC)


def _error_code(excinfo: pytest.ExceptionInfo[DeviceError]) -> int:
    return excinfo.value.code


def test_hil_hello_lists_the_device_ops(reader_client: ReaderClient) -> None:
    ops = set(reader_client.hello().ops)
    assert {"config.get", "config.set", "selftest", "reboot", "ui", "diag"} <= ops


def test_hil_config_round_trip(reader_client: ReaderClient) -> None:
    before = reader_client.request("config.get", {})["config"]
    assert isinstance(before, dict)
    mine = {"ok": [[1, 0, 2500, 120], [1, 0, 0, 300]]}
    try:
        stored = reader_client.request("config.set", {"config": {"patterns": mine}})["config"]
        assert isinstance(stored, dict) and stored["patterns"]["ok"] == mine["ok"]
        assert reader_client.request("config.get", {})["config"] == stored
        with pytest.raises(DeviceError) as unknown:
            reader_client.request("config.set", {"config": {"volume": 11}})
        assert _error_code(unknown) == ErrorCode.E_CONFIG
        with pytest.raises(DeviceError) as bad:
            reader_client.request("config.set", {"config": {"link_baud": 12345}})
        assert _error_code(bad) == ErrorCode.E_BAD_ARGUMENT
        assert reader_client.request("config.get", {})["config"] == stored  # refusals stored nothing
    finally:
        # Put back what was there (null removes a setting the reader did not have before).
        reader_client.request("config.set", {"config": {"patterns": before.get("patterns")}})
    assert reader_client.request("config.get", {})["config"] == before


def test_hil_ui_and_diag(reader_client: ReaderClient) -> None:
    assert reader_client.request("ui", {"pattern": "ok"}) == {}
    diag = reader_client.request("diag", {})
    assert diag["ui"] == "ok"
    for key in ("frames_dropped", "errors", "uptime_ms", "heap_free"):
        assert isinstance(diag[key], int) and diag[key] >= 0, key
    with pytest.raises(DeviceError) as bad:
        reader_client.request("ui", {"pattern": "disco"})
    assert _error_code(bad) == ErrorCode.E_BAD_ARGUMENT
    assert reader_client.request("ui", {"pattern": "off"}) == {}


def test_hil_selftest(reader_client: ReaderClient, virtual_pn532: VirtualPN532 | None) -> None:
    frontend = reader_client.hello().frontend
    result = reader_client.request("selftest", {})
    assert set(result) >= {"frontend", "firmware", "rf", "ok"}
    if frontend is None:
        assert result["ok"] is False and result["frontend"] is None
        pytest.skip("the reader reports no front-end: selftest can only say so")
    assert result["ok"] is True and result["rf"] is True, result
    assert isinstance(result["frontend"], str) and result["frontend"].startswith("PN532")
    if virtual_pn532 is not None:
        fw = virtual_pn532.firmware  # IC, Ver, Rev, Support of GetFirmwareVersion (UM0701-02 §7.2.2)
        assert result["firmware"] == f"{fw[1]}.{fw[2]}"
    assert reader_client.hello().frontend is not None  # the reader is still up after the RF cycle


@pytest.fixture(scope="module")
def issued_card(tmp_path_factory: pytest.TempPathFactory) -> object:
    from partycard.issue import init_pki, issue_card
    from partycard.sim.card import VirtualCard

    member = json.loads((ROOT / "host/partycard/issue/examples/member.json").read_text("utf-8"))
    pki = init_pki(tmp_path_factory.mktemp("hil-pki"), now=NOW - dt.timedelta(days=1))
    return VirtualCard(issue_card(member, pki, now=NOW, can="123456"))


@pytest.fixture
def card_on_antenna(
    virtual_pn532: VirtualPN532 | None, issued_card: object
) -> Iterator[None]:
    if virtual_pn532 is None:
        yield  # a real board: whatever card lies on its antenna
        return
    virtual_pn532.insert(issued_card)  # type: ignore[arg-type]
    try:
        yield
    finally:
        virtual_pn532.remove()


def test_hil_card_wait_and_select_lds1(
    reader_client: ReaderClient, virtual_pn532: VirtualPN532 | None, card_on_antenna: None
) -> None:
    if reader_client.hello().frontend is None:
        pytest.skip("the reader reports no front-end (PN532 not wired or not answering)")
    try:
        card = reader_client.wait_card(3.0)
    except NoCard:
        assert virtual_pn532 is None, "the simulator's inserted card was not found"
        pytest.skip("no card on the reader's antenna: put an LDS1 card (party card, CCCD, ePassport) on it")
    assert card.type in ("A", "B") and len(card.uid) >= 4
    response = reader_client.transmit(SELECT_LDS1)
    assert response[-2:] == b"\x90\x00", response.hex()
    reader_client.release()


def test_hil_device_suite_in_subprocess(request: pytest.FixtureRequest) -> None:
    # The project's sessions run without pytest-embedded (pyproject addopts): this module's tests
    # run again in a session that loads it, against the simulator (no --port there).
    if request.config.pluginmanager.has_plugin("pytest_embedded"):
        pytest.skip("pytest-embedded is loaded in this session: the tests above ran in-process")
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-rs", "-p", "pytest_embedded", "-o", "addopts=",
        "-k", "not in_subprocess", str(Path(__file__).resolve()),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^5 passed\b", proc.stdout, re.MULTILINE), proc.stdout
