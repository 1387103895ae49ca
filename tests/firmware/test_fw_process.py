"""The real firmware (firmware/main.py) as a process, talking over a raw pseudo-terminal.

Runs on the MicroPython unix port at the reader's 64 KiB heap (the firmware compiled by mpy-cross,
as it is deployed), on the unix port from source (a larger heap: the compiler's parse trees share
it), and on CPython. The host side is written here from SPEC.md alone: its own COBS, CRC and
``cbor2`` for the messages, so the firmware is checked against an independent peer.
"""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
import time
import tty
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest

from tests.firmware.link.mpybuild import build_mpy
from tests.firmware.mp import FIRMWARE, FIRMWARE_LIB, MPSHIM, micropython_or_skip

BANNER = re.compile(rb"partycard-reader (\S+) serial=(\S+) board=unix protocol=1\n")
PINGS = 1000


def cobs_encode(data: bytes) -> bytes:
    # Cheshire and Baker 1999: blocks of up to 254 non-zero bytes, each led by its length + 1.
    out = bytearray()
    block = bytearray()
    for i, b in enumerate(data):
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
            continue
        block.append(b)
        if len(block) == 254:
            out += b"\xff" + block
            block = bytearray()
            if i == len(data) - 1:
                return bytes(out)
    return bytes(out + bytes([len(block) + 1]) + block)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        assert code != 0 and i + code <= len(data), "bad COBS"
        out += data[i + 1 : i + code]
        i += code
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    return cobs_encode(payload + struct.pack("<I", zlib.crc32(payload))) + b"\x00"


class Reader:
    """The host end of the pty: sends requests, returns replies and events in arrival order."""

    def __init__(self, proc: subprocess.Popen[bytes], master: int) -> None:
        self.proc = proc
        self.master = master
        self.buf = bytearray()

    def read_until(self, marker: bytes, timeout_s: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout_s
        while marker not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {marker!r}; got {bytes(self.buf[:200])!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                chunk = os.read(self.master, 65536)
                assert chunk, "the firmware closed the link"
                self.buf += chunk
        i = self.buf.index(marker) + len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def request(self, ident: int, op: str, body: dict[str, Any], version: int = 1) -> dict[int, Any]:
        payload = cbor2.dumps({0: version, 1: 0, 2: ident, 3: op, 4: body}, canonical=True)
        os.write(self.master, frame(payload))
        return self.next_message()

    def next_message(self) -> dict[int, Any]:
        while True:
            raw = self.read_until(b"\x00")[:-1]
            if not raw:
                continue  # an empty run
            decoded = cobs_decode(raw)
            payload, crc = decoded[:-4], decoded[-4:]
            assert struct.pack("<I", zlib.crc32(payload)) == crc, "bad CRC from the firmware"
            msg = cbor2.loads(payload)
            assert cbor2.dumps(msg, canonical=True) == payload, "not deterministic CBOR"
            return msg  # type: ignore[no-any-return]


def _command(runtime: str, mpy: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, PARTYCARD_SERIAL="PTY-0042")
    env.pop("PARTYCARD_PN532_SOCKET", None)
    env.pop("PARTYCARD_BOARD", None)
    if runtime == "cpython":
        env["PYTHONPATH"] = os.pathsep.join([str(FIRMWARE_LIB), str(MPSHIM)])
        return [sys.executable, "main.py"], env
    exe = micropython_or_skip()
    if runtime == "micropython-mpy":
        env["MICROPYPATH"] = str(mpy)
        return [exe, "-X", "heapsize=64k", "main.py"], env
    env["MICROPYPATH"] = str(FIRMWARE_LIB)
    return [exe, "-X", "heapsize=128k", "main.py"], env


@pytest.fixture(scope="module")
def mpy_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mpy(tmp_path_factory.mktemp("fw-mpy"))


@pytest.fixture(params=["micropython-mpy", "micropython-source", "cpython"])
def reader(request: pytest.FixtureRequest, mpy_tree: Path) -> Iterator[Reader]:
    cmd, env = _command(request.param, mpy_tree)
    master, slave = os.openpty()
    tty.setraw(slave)  # 8-bit clean: no echo, no CR/LF mapping, no signals from 0x03
    proc = subprocess.Popen(cmd, cwd=FIRMWARE, env=env, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    rd = Reader(proc, master)
    try:
        yield rd
    finally:
        os.close(master)  # the firmware sees end of input and leaves its loop
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert proc.returncode == 0, err.decode(errors="replace")


@pytest.mark.timeout(120)
def test_banner_hello_ping_errors_and_1000_pings(reader: Reader) -> None:
    banner = reader.read_until(b"\n")
    match = BANNER.fullmatch(banner)
    assert match and match.group(2) == b"PTY-0042", banner
    assert reader.read_until(b"\x00") == b"\x00"  # SPEC.md §2: one delimiter before any frame

    hello = reader.request(1, "hello", {})
    assert (hello[1], hello[2], hello[3]) == (1, 1, "hello")
    body = hello[4]
    assert body["protocol"] == 1 and body["serial"] == "PTY-0042" and body["board"] == "unix"
    assert body["firmware"] == match.group(1).decode() and body["max_payload"] == 2048
    assert body["frontend"] is None and body["ops"] == [
        "cancel", "config.get", "config.set", "diag", "hello", "ping", "reboot", "selftest", "ui",
    ]
    assert isinstance(body["boot_id"], bytes) and len(body["boot_id"]) == 8

    every_byte = bytes(range(256))  # 0x00, 0x03, 0x11, 0x13, CR and LF must all pass unchanged
    assert reader.request(2, "ping", {"data": every_byte})[4] == {"data": every_byte}
    unknown = reader.request(3, "format", {})
    assert unknown[1] == 3 and unknown[2] == 3 and unknown[3] == "format" and unknown[5]["code"] == 0x05
    version = reader.request(4, "hello", {}, version=2)
    assert version[0] == 1 and version[5]["code"] == 0x04 and version[5]["supported"] == [1]

    os.write(reader.master, b"ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n\x00")
    start = time.monotonic()
    for i in range(PINGS):
        data = struct.pack(">I", i) * (1 + i % 8)
        reply = reader.request(100 + i, "ping", {"data": data})
        assert reply[2] == 100 + i and reply[4] == {"data": data}
    elapsed = time.monotonic() - start

    # The largest request: a ping whose payload is exactly MAX_PAYLOAD bytes.
    data = bytes(range(256)) * 8
    overhead = len(cbor2.dumps({0: 1, 1: 0, 2: 5000, 3: "ping", 4: {"data": b""}}, canonical=True))
    data = data[: 2048 - overhead - 2]  # the byte-string head grows by 2 bytes past 255
    big = reader.request(5000, "ping", {"data": data})
    assert big[4] == {"data": data}

    diag = reader.request(5001, "diag", {})[4]
    assert diag["frames_dropped"] == 1 and diag["errors"] == 2 and diag["uptime_ms"] > 0
    print(
        f"\n[{' '.join(map(str, reader.proc.args))}] {PINGS} pings + a {2048}-byte ping in {elapsed:.2f}s;"
        f" live heap after collect {diag['heap_used']} B, free {diag['heap_free']} B"
    )
