"""The long run of the firmware fuzz module (opt-in: ``pytest -m fuzz``); the default run does a
bounded smoke of the same module through test_firmware_suites.py."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.firmware.mp import FIRMWARE_LIB, TESTS_FW, micropython_or_skip


@pytest.mark.fuzz
def test_fuzz_long_on_micropython() -> None:
    exe = micropython_or_skip()
    env = dict(os.environ, MICROPYPATH=f"{TESTS_FW}:{FIRMWARE_LIB}", FW_FUZZ_CASES="200000")
    cmd = [exe, "-X", "heapsize=64k", str(TESTS_FW / "fwrun.py"), "link.fw_test_fuzz"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, cwd=TESTS_FW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "3 passed, 0 failed"
