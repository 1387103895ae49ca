"""``partycard deploy``: copy the firmware to a board with mpremote, reset it, check it with hello."""

from __future__ import annotations

import argparse
import shlex
import tempfile
from pathlib import Path
from typing import Any

from partycard import deploy
from partycard.cli._argtypes import reader_serial


def register(sub: Any) -> None:
    """Add the ``deploy`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "deploy",
        help="copy the firmware to an ESP32 board and check it answers",
        description="Copy the reader firmware (lib/reader, main.py, boot.py), its pin map and a config.json to "
        "an ESP32 running MicroPython with mpremote, reset the board and check that it answers hello. Flash "
        "MicroPython first with esptool (README.md, 'Using a real reader').",
    )
    p.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0")
    p.add_argument(
        "--board",
        choices=deploy.boards(),
        help="pin map to install (default: the running reader's board, else the chip's: esp32-devkitc for an "
        "ESP32, esp32-s3-devkitc for an ESP32-S3; a dry run needs it named)",
    )
    p.add_argument(
        "--pn532",
        choices=deploy.PN532_INTERFACES,
        help="the PN532 interface the module's switches select (default: the pin map's, hsu); "
        "hardware/wiring/<board>.md has the switch settings and pins of each",
    )
    p.add_argument("--serial", type=reader_serial,
                   help="reader serial number to store in the board's config.json (printable ASCII, no spaces)")
    p.add_argument("--mpy", action="store_true", help="compile to .mpy with mpy-cross (less RAM)")
    p.add_argument("--dry-run", action="store_true", help="stage the files and print the commands only")
    p.add_argument("--stage", type=Path, metavar="DIR", help="stage into DIR and keep it (default: a temporary folder)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Stop a running reader, stage, copy, reset and check."""
    board = args.board
    keep: dict[str, Any] = {}
    if not args.dry_run:
        deploy.check_port(args.port)
        running = deploy.stop_reader(args.port)
        if running is not None:
            print(f"a reader ({running.board}) answered on {args.port}: restarted it to its prompt for the copy")
        board = board or (running.board if running is not None else None) or deploy.detect_board(args.port)
        if running is not None:
            keep = running.carried(board)
            if keep:
                print(f"keeping its settings: {', '.join(sorted(keep))} (config.set changes them later)")
    elif board is None:
        raise deploy.DeployError("a dry run does not ask the board: name it with --board")
    with tempfile.TemporaryDirectory(prefix="partycard-deploy-") as tmp:
        stage_dir = args.stage or Path(tmp)
        stage_dir.mkdir(parents=True, exist_ok=True)
        deploy.clear_stage(stage_dir)
        plan = deploy.plan(
            args.port, board=board, serial=args.serial, compile_mpy=args.mpy, stage_dir=stage_dir, pn532=args.pn532,
            keep=keep,
        )
        print(f"staged {len(plan.files)} files for {plan.board} ({'mpy' if plan.compiled else 'py'}) in {stage_dir}")
        if args.dry_run:
            # A dry run does not open the port; a real deploy first stops a running reader, whose
            # REPL port has Ctrl-C off, so that mpremote can get in.
            print(f"first: if a reader answers on {args.port}, it is asked to restart to its prompt "
                  '(reboot {"maintenance": true}, SPEC.md §4) and its stored settings are kept')
        for cmd in plan.commands:
            print("$", shlex.join(cmd))
        print(f"then: hello on {args.port} must answer (board {plan.board})")
        if args.dry_run:
            if args.stage is None:
                print("(the staging folder is removed on exit; use --stage DIR to keep it and run these by hand)")
            return 0
        deploy.execute(plan, say=print)
    from partycard.link.client import open_reader

    deploy.wait_for_port(args.port, 15.0)
    with open_reader(args.port, timeout_s=15.0) as reader:
        info = reader.hello()
    print(f"reader {info.serial}: firmware {info.firmware}, board {info.board}, front-end {info.frontend}")
    return 0
