"""partycard deploy: what it stages for a board, and the clean-up it runs on the board first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from partycard import deploy
from tests.firmware.mp import micropython_or_skip


def test_stage_compiles_every_module_and_writes_the_board_config(tmp_path: Path) -> None:
    files = deploy.stage(tmp_path, board="esp32-s3-devkitc", serial="KIOSK-7", compile_mpy=True)
    modules = [f for f in files if f.startswith("lib/")]
    assert modules and all(f.endswith(".mpy") for f in modules)
    assert (tmp_path / "lib/reader/app.mpy").read_bytes()[:1] == b"M"  # .mpy magic (mpy-cross)
    assert "lib/reader/boards/esp32.mpy" in files
    assert not any("boards/unix" in f for f in files), "the simulator's board has no place on an ESP32"
    assert json.loads((tmp_path / "config.json").read_text()) == {"board": "esp32-s3-devkitc", "serial": "KIOSK-7"}
    assert (tmp_path / "boards/esp32-s3-devkitc.json").is_file() and (tmp_path / "main.py").is_file()


def test_plan_removes_the_old_package_before_copying(tmp_path: Path) -> None:
    plan = deploy.plan("/dev/ttyUSB0", board="esp32-devkitc", serial=None, compile_mpy=False, stage_dir=tmp_path)
    verbs = [cmd[5] for cmd in plan.commands]
    assert verbs == ["exec", "fs", "reset"]


def test_the_clean_up_runs_on_micropython(tmp_path: Path) -> None:
    exe = micropython_or_skip()
    old = tmp_path / "lib" / "reader"
    (old / "link").mkdir(parents=True)
    (old / "app.py").write_text("x = 1\n")
    (old / "link" / "cbor.py").write_text("y = 2\n")
    script = deploy._REMOVE_OLD.replace("'/lib/reader'", repr(str(old)))
    for _ in range(2):  # the second run finds nothing to remove and must not fail
        proc = subprocess.run([exe, "-c", script], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
    assert not old.exists() and (tmp_path / "lib").is_dir()
