"""The three CBOR decoders of the project give every payload the same answer (SPEC.md §3.1, §3.2):
the reference checker (protocol/tools/strict_cbor.py), the host's codec and the firmware's decoder
on the MicroPython unix port. Payloads: every valid and invalid vector, and seeded mutations of
them (bytes changed, cut, inserted), where the checks' order decides between E_CBOR and E_LIMIT."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest
from protocol.tools.check_vectors import VECTORS, load_jsonl
from protocol.tools.strict_cbor import CborReject, check

from partycard.errors import DecodeError
from partycard.link import codec
from partycard.link.codes import ErrorCode
from partycard.sim.runner import compiled_firmware_lib, micropython_executable

pytestmark = pytest.mark.skipif(micropython_executable() is None, reason="MicroPython unix port not installed")

MUTANTS_PER_SEED = 60

# Runs in the firmware's own process: one answer per line, "ok" or the fault's code.
FIRMWARE_SIDE = """
import sys
from binascii import unhexlify
from reader.errors import ReaderFault
from reader.link import cbor
for line in open(sys.argv[1]):
    try:
        cbor.decode(unhexlify(line.strip()))
        print("ok")
    except ReaderFault as exc:
        print(exc.code)
"""


def _payloads() -> list[bytes]:
    seeds = [bytes.fromhex(r["cbor_hex"]) for r in load_jsonl(VECTORS / "messages.jsonl")]
    seeds += [bytes.fromhex(r["bytes_hex"]) for r in load_jsonl(VECTORS / "invalid.jsonl") if r["layer"] != "frame"]
    rng = random.Random(20261204)
    out = list(seeds)
    for seed in seeds:
        for _ in range(MUTANTS_PER_SEED):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 3)):
                pos = rng.randrange(len(data) + 1)
                kind = rng.randrange(3)
                if kind == 0 and pos < len(data):
                    data[pos] = rng.randrange(256)
                elif kind == 1:
                    del data[pos:]
                else:
                    data.insert(pos, rng.choice((0x18, 0x19, 0x1A, 0x5F, 0x7F, 0x80, 0x98, 0x99, 0xA0, 0xB9, 0xFF)))
            out.append(bytes(data))
    return [p for p in dict.fromkeys(out) if p]


def _reference(payload: bytes) -> str:
    try:
        check(payload)
    except CborReject as exc:
        return exc.error
    return "ok"


def _host(payload: bytes) -> str:
    try:
        codec.decode(payload)
    except DecodeError as exc:
        return ErrorCode(exc.code).name
    return "ok"


def test_reference_host_and_firmware_decoders_agree(tmp_path: Path) -> None:
    payloads = _payloads()
    listing = tmp_path / "payloads.txt"
    listing.write_text("".join(p.hex() + "\n" for p in payloads), encoding="ascii")
    script = tmp_path / "decode_all.py"
    script.write_text(FIRMWARE_SIDE, encoding="utf-8")
    env = dict(os.environ, MICROPYPATH=str(compiled_firmware_lib()))
    exe = micropython_executable()
    assert exe is not None
    proc = subprocess.run([exe, "-X", "heapsize=256k", str(script), str(listing)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    names = {str(int(code)): code.name for code in ErrorCode}
    firmware = [names.get(line, line) for line in proc.stdout.split()]
    assert len(firmware) == len(payloads)
    disagree = []
    for payload, fw in zip(payloads, firmware, strict=True):
        answers = (_reference(payload), _host(payload), fw)
        if len(set(answers)) > 1:
            disagree.append((payload.hex(), answers))
    kinds = {"ok": 0, "E_CBOR": 0, "E_LIMIT": 0}
    for payload in payloads:
        kinds[_reference(payload)] += 1
    print(f"{len(payloads)} payloads: {kinds}")
    assert not disagree, f"{len(disagree)} of {len(payloads)} (reference, host, firmware): {disagree[:8]}"
