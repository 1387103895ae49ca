"""The reader's start-up over pytest-embedded: expect the banner as text, then speak the link.

pytest-embedded reads the port in a background thread and feeds pexpect; that is right for the
text banner and wrong for binary frames, so after the banner the thread is stopped and the host
library takes over the same pyserial object (SPEC.md §1, §6). The banner comes at start-up, so
the test restarts the reader: a board with a USB-UART bridge (DevKitC) through RTS, which its
auto-reset circuit wires to EN, as esptool's hard reset does; one with native USB-CDC (S3) does
not see RTS, and needs its RST button pressed within the 15 s the banner is awaited.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from partycard.link.client import ReaderClient
from partycard.link.codes import PROTOCOL_VERSION
from partycard.sim.runner import SimulatedReader
from partycard.transport.serial import SerialTransport

pytestmark = [pytest.mark.hil, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


def _plugin_active(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("pytest_embedded")


def test_hil_banner_then_hello(request: pytest.FixtureRequest) -> None:
    if not _plugin_active(request.config):
        pytest.skip("pytest-embedded is not loaded here; test_hil_suite_in_subprocess runs this test with it")
    simulated_reader: SimulatedReader | None = request.getfixturevalue("simulated_reader")
    dut = request.getfixturevalue("dut")
    if simulated_reader is not None:
        # pyserial flushes input when it opens the port, so the banner printed before that is gone.
        simulated_reader.restart()
    else:
        # EN low through RTS with DTR (IO0) released, then high again: a normal boot, not the ROM
        # loader. Opening the port does not do it: DTR and RTS asserted together hold EN high.
        ser = dut.serial.proc
        ser.dtr = False
        ser.rts = True
        time.sleep(0.1)
        ser.rts = False
    match = dut.expect(rb"partycard-reader (\S+) serial=(\S+)", timeout=15)
    banner_serial = match.group(2).decode()
    dut.serial.stop_redirect_thread()
    client = ReaderClient(SerialTransport.from_serial(dut.serial.proc))
    info = client.connect(5.0)
    assert info.protocol == PROTOCOL_VERSION
    assert info.serial == banner_serial
    assert client.ping(b"\x00hil\xff") == b"\x00hil\xff"
    expected_serial = request.config.getoption("reader_serial")
    if expected_serial:
        assert info.serial == expected_serial, "the reader on --port is not the one named by --reader-serial"


def test_hil_suite_in_subprocess(request: pytest.FixtureRequest) -> None:
    if _plugin_active(request.config):
        pytest.skip("pytest-embedded is loaded in this session: test_hil_banner_then_hello ran in-process")
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-p", "pytest_embedded", "-o", "addopts=",
        f"{Path(__file__).resolve()}::test_hil_banner_then_hello",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^1 passed\b", proc.stdout, re.MULTILINE), proc.stdout
