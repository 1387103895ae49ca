"""The device ops on the real firmware process (firmware/main.py over a raw pty): the config file
on "flash" (PARTYCARD_CONFIG_DIR), the serial it names at the next start, ui and diag, selftest
without a front-end, and reboot ending the process with the status the simulator restarts on.

Runs precompiled on the MicroPython unix port at the reader's 64 KiB heap (as deployed), and on
CPython; the host side is the independent COBS/CBOR peer of tests/firmware/test_fw_process.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.firmware.link.mpybuild import build_mpy
from tests.firmware.mp import FIRMWARE, FIRMWARE_LIB, MPSHIM, micropython_or_skip
from tests.firmware.test_fw_process import Reader

REBOOT_STATUS = 75  # firmware/lib/reader/boards/unix.py
DEVICE_OPS = {"config.get", "config.set", "selftest", "reboot", "ui", "diag"}


@pytest.fixture(scope="module")
def mpy_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mpy(tmp_path_factory.mktemp("fw-mpy"))


class Firmware:
    """Starts main.py on one runtime with its config folder; each start is a new process."""

    def __init__(self, runtime: str, mpy: Path, config_dir: Path) -> None:
        self.runtime = runtime
        self.mpy = mpy
        self.config_dir = config_dir
        self.procs: list[tuple[subprocess.Popen[bytes], int]] = []

    def start(self) -> Reader:
        env = dict(os.environ, PARTYCARD_SERIAL="ENV-0001", PARTYCARD_CONFIG_DIR=str(self.config_dir))
        for name in ("PARTYCARD_PN532_SOCKET", "PARTYCARD_BOARD"):
            env.pop(name, None)
        if self.runtime == "cpython":
            env["PYTHONPATH"] = os.pathsep.join([str(FIRMWARE_LIB), str(MPSHIM)])
            cmd = [sys.executable, "main.py"]
        else:
            env["MICROPYPATH"] = str(self.mpy)
            cmd = [micropython_or_skip(), "-X", "heapsize=64k", "main.py"]
        master, slave = os.openpty()
        tty.setraw(slave)
        proc = subprocess.Popen(cmd, cwd=FIRMWARE, env=env, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        self.procs.append((proc, master))
        return Reader(proc, master)

    def close(self) -> None:
        for proc, master in self.procs:
            try:
                os.close(master)
            except OSError:
                pass
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture(params=["micropython-mpy", "cpython"])
def firmware(request: pytest.FixtureRequest, mpy_tree: Path, tmp_path: Path) -> Iterator[Firmware]:
    fw = Firmware(request.param, mpy_tree, tmp_path)
    try:
        yield fw
    finally:
        fw.close()


def _banner_serial(reader: Reader) -> str:
    line = reader.read_until(b"\n").decode()
    assert line.startswith("partycard-reader "), line
    reader.read_until(b"\x00")
    return line.split("serial=")[1].split()[0]


def _ok(reply: dict[int, object]) -> dict[str, object]:
    assert reply[1] == 1, repr(reply)
    body = reply[4]
    assert isinstance(body, dict)
    return body


@pytest.mark.timeout(120)
def test_config_survives_a_reboot_and_names_the_serial(firmware: Firmware) -> None:
    reader = firmware.start()
    assert _banner_serial(reader) == "ENV-0001"
    hello = _ok(reader.request(1, "hello", {}))
    assert DEVICE_OPS <= set(hello["ops"])  # type: ignore[arg-type]
    assert _ok(reader.request(2, "config.get", {})) == {"config": {}}

    want = {"serial": "DOOR-7", "pn532_baud": 460800, "patterns": {"fail": [[0, 1, 800, 300]]}}
    assert _ok(reader.request(3, "config.set", {"config": want})) == {"config": want}
    stored = json.loads((firmware.config_dir / "config.json").read_text())
    assert stored == want and not (firmware.config_dir / "config.json.tmp").exists()
    refused = reader.request(4, "config.set", {"config": {"volume": 11}})
    assert refused[1] == 3 and refused[5]["code"] == 0xF1  # type: ignore[index]
    refused = reader.request(5, "config.set", {"config": {"link": "smoke-signals"}})
    assert refused[1] == 3 and refused[5]["code"] == 0x08  # type: ignore[index]

    assert _ok(reader.request(6, "ui", {"pattern": "fail"})) == {}
    diag = _ok(reader.request(7, "diag", {}))
    assert diag["ui"] == "fail"
    selftest = _ok(reader.request(8, "selftest", {}))
    assert selftest == {"frontend": None, "firmware": None, "rf": False, "ok": False}

    assert _ok(reader.request(9, "reboot", {})) == {}
    assert reader.proc.wait(timeout=10) == REBOOT_STATUS
    again = firmware.start()
    assert _banner_serial(again) == "DOOR-7"  # the stored serial wins over the environment
    assert _ok(again.request(1, "hello", {}))["serial"] == "DOOR-7"
    assert _ok(again.request(2, "config.get", {})) == {"config": want}
    diag = _ok(again.request(3, "diag", {}))
    print(
        f"\n[{firmware.runtime}] with the device ops: live heap after collect {diag['heap_used']} B,"
        f" free {diag['heap_free']} B"
    )
    if firmware.runtime != "cpython":
        assert int(diag["heap_free"]) > 8 * 1024  # type: ignore[call-overload]


@pytest.mark.timeout(60)
def test_damaged_config_file_still_starts(firmware: Firmware) -> None:
    (firmware.config_dir / "config.json").write_text("{half a file")
    reader = firmware.start()
    assert _banner_serial(reader) == "ENV-0001"
    assert _ok(reader.request(1, "config.get", {})) == {"config": {}}
    repaired = _ok(reader.request(2, "config.set", {"config": {"serial": "FIXED-1"}}))
    assert repaired == {"config": {"serial": "FIXED-1"}}
    assert json.loads((firmware.config_dir / "config.json").read_text()) == {"serial": "FIXED-1"}


@pytest.mark.timeout(60)
def test_a_maintenance_reboot_leaves_one_start_to_the_repl(firmware: Firmware) -> None:
    reader = firmware.start()
    _banner_serial(reader)
    refused = reader.request(1, "reboot", {"maintenance": "yes"})
    assert refused[1] == 3 and refused[5]["code"] == 0x03  # type: ignore[index]  # E_SCHEMA
    assert _ok(reader.request(2, "reboot", {"maintenance": True})) == {}
    assert reader.proc.wait(timeout=10) == REBOOT_STATUS
    assert (firmware.config_dir / "maintenance").exists()

    maintenance = firmware.start()  # the reader does not start: no banner, no link, a prompt instead
    line = maintenance.read_until(b"\n").decode()
    assert "maintenance start" in line, line
    assert maintenance.proc.wait(timeout=10) == 0
    assert not (firmware.config_dir / "maintenance").exists()

    normal = firmware.start()  # and the start after it is a normal one
    assert _banner_serial(normal) == "ENV-0001"
    assert _ok(normal.request(1, "hello", {}))["serial"] == "ENV-0001"
