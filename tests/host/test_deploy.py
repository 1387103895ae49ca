"""partycard deploy: what it stages for a board, and the clean-up it runs on the board first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest

from partycard import deploy
from partycard.link.client import open_reader
from partycard.sim.runner import SimulatedReader
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


def test_a_running_reader_is_restarted_to_its_prompt_once_before_the_copy() -> None:
    micropython_or_skip()
    with SimulatedReader(auto_restart=True) as sim:
        settings = {"serial": "KIOSK-7", "pn532_baud": 1288000}
        with open_reader(sim.port, timeout_s=10.0) as reader:
            reader.request("config.set", {"config": settings})
        running = deploy.stop_reader(sim.port, settle_s=0.2, accept=("unix",))
        assert running == deploy.RunningReader("unix", settings)  # what a redeployment keeps
        # The unix board ends the process on reboot; the maintenance start then ends at once (no
        # reader, no link), and the start after it is a normal one again.
        deadline = time.monotonic() + 20
        while sim.restarts < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sim.restarts >= 2
        with open_reader(sim.port, timeout_s=10.0) as reader:
            assert reader.hello().board == "unix"


def test_a_redeployment_keeps_the_readers_settings_and_flags_win(tmp_path: Path) -> None:
    stored = {"board": "esp32-devkitc", "serial": "KIOSK-7", "pn532_baud": 1288000, "link": "uart",
              "link_baud": 921600, "patterns": {"ok": [[1, 0, 0, 100]]}}
    running = deploy.RunningReader("esp32-devkitc", stored)
    deploy.stage(tmp_path / "same", board="esp32-devkitc", serial=None, compile_mpy=False,
                 keep=running.carried("esp32-devkitc"))
    assert json.loads((tmp_path / "same/config.json").read_text()) == stored
    deploy.stage(tmp_path / "other", board="esp32-s3-devkitc", serial="KIOSK-8", compile_mpy=False,
                 keep=running.carried("esp32-s3-devkitc"))
    # Another board brings its own link; the serial given on the command line replaces the old one.
    assert json.loads((tmp_path / "other/config.json").read_text()) == {
        "board": "esp32-s3-devkitc", "serial": "KIOSK-8", "pn532_baud": 1288000, "patterns": {"ok": [[1, 0, 0, 100]]}
    }


def test_a_simulated_reader_is_refused_and_left_running() -> None:
    micropython_or_skip()
    with SimulatedReader(auto_restart=True) as sim:
        with pytest.raises(deploy.DeployError, match="not an ESP32 board"):
            deploy.stop_reader(sim.port, settle_s=0.2)
        assert sim.restarts == 0
        with open_reader(sim.port, timeout_s=10.0) as reader:
            assert reader.hello().board == "unix"


def test_a_board_that_never_reaches_its_prompt_is_a_deploy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pty with nothing behind it: mpremote waits for a raw REPL that never comes.
    monkeypatch.setattr(deploy, "DETECT_TIMEOUT_S", 3.0)
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        with pytest.raises(deploy.DeployError, match="name it with --board"):
            deploy.detect_board(os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)


def test_dry_run_commands_can_be_pasted_into_a_shell(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "partycard"), "deploy", "--port", "/dev/ttyUSB0", "--board",
         "esp32-devkitc", "--dry-run", "--stage", str(tmp_path / "stage")],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    commands = [block.split("\nthen:")[0].rstrip("\n") for block in out.split("\n$ ")[1:]]
    assert len(commands) == 3
    # What bash makes of each printed line must be the plan's own argument vector.
    plan = deploy.plan("/dev/ttyUSB0", board="esp32-devkitc", serial=None, compile_mpy=False,
                       stage_dir=tmp_path / "stage")
    for printed, argv in zip(commands, plan.commands, strict=True):
        words = subprocess.run(["bash", "-c", f"printf '%s\\0' {printed}"], capture_output=True, timeout=10,
                               check=True).stdout.split(b"\0")[:-1]
        # The interpreter may be named python or python3 (the CLI runs as its own process).
        assert [w.decode() for w in words[1:]] == list(argv[1:]) and b"python" in words[0]


def test_a_port_where_no_reader_answers_is_left_to_mpremote() -> None:
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        assert deploy.stop_reader(os.ttyname(slave), settle_s=0.0) is None
    finally:
        os.close(master)
        os.close(slave)


def test_a_missing_port_is_named_before_anything_runs() -> None:
    with pytest.raises(deploy.DeployError, match="plugged in"):
        deploy.check_port("/dev/ttyUSB-partycard-none")


def test_restaging_into_a_folder_leaves_no_file_of_the_earlier_stage(tmp_path: Path) -> None:
    deploy.stage(tmp_path, board="esp32-devkitc", serial=None, compile_mpy=False)
    (tmp_path / "notes.txt").write_text("mine")
    deploy.clear_stage(tmp_path)
    files = deploy.stage(tmp_path, board="esp32-s3-devkitc", serial=None, compile_mpy=True)
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == {*files, "notes.txt"}  # no .py beside its .mpy, no other board's pin map


def test_the_pn532_interface_chosen_at_deploy_is_the_one_in_the_copied_pin_map(tmp_path: Path) -> None:
    deploy.stage(tmp_path, board="esp32-devkitc", serial=None, compile_mpy=False, pn532="i2c")
    pin_map = json.loads((tmp_path / "boards/esp32-devkitc.json").read_text())
    source = json.loads((deploy.FIRMWARE / "boards/esp32-devkitc.json").read_text())
    assert pin_map["pn532"]["interface"] == "i2c" and source["pn532"]["interface"] == "hsu"
    assert pin_map["pn532"]["i2c"] == source["pn532"]["i2c"]
