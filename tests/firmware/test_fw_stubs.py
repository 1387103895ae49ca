"""Type-check the firmware against the ESP32 MicroPython stubs (PyPI micropython-esp32-stubs).

mypy runs non-strict with its own configuration (not the project's strict host one): the stubs'
``stdlib/`` folder (micropython-stdlib-stubs) replaces CPython's typeshed, and the ESP32 modules
(``machine``, ``micropython``, ``select``, ...) are staged into a temporary MYPYPATH, because mypy
refuses a site-packages folder there.

What is covered:
- every firmware file (main.py, boot.py, lib/reader/**): each import resolves against the ESP32
  stubs (a module or name the ESP32 port does not have fails), and module-level code is checked;
- function bodies (``check_untyped_defs``) of the modules near the hardware and the device ops:
  FULL_BODIES below. There every call into ``machine`` (UART, Pin, PWM, WDT, I2C, SPI, reset,
  unique_id), ``micropython.kbd_intr`` and ``os``/``json``/``sys`` is checked against the stubs.
What is not:
- the other modules' function bodies (the firmware is unannotated, so mypy treats their parameters
  as Any): the link codec and the PN532/card layers run on the unix port and CPython in their own
  tests. Their bodies would need annotations or per-runtime guards first (clock.py's CPython
  fallback, ticks typed as ``_TicksMs`` in the stubs);
- ``boards/unix_socket.py``'s bodies: unix-port only (AF_UNIX is not in the ESP32 socket module);
- the stubs' own errors (``machine``, ``vfs``, ``_mpy_shed``) are silenced: they are not ours.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.firmware.mp import FIRMWARE, FIRMWARE_LIB

FULL_BODIES = (
    "reader.boards",
    "reader.boards.esp32",
    "reader.boards.unix",
    "reader.app",
    "reader.startup",
    "reader.device",
    "reader.config",
    "reader.errors",
    "reader.link.port",
    "reader.link.schema",
    "reader.pn532.bus_hsu",
    "reader.pn532.bus_i2c",
    "reader.pn532.bus_spi",
)
FILES = sorted([FIRMWARE / "main.py", FIRMWARE / "boot.py", *FIRMWARE_LIB.rglob("*.py")])


def _stubs(dest: Path) -> tuple[Path, Path]:
    """Stage the ESP32 stubs in ``dest``; return (MYPYPATH folder, typeshed folder)."""
    try:
        esp32 = importlib.metadata.distribution("micropython-esp32-stubs")
        stdlib = importlib.metadata.distribution("micropython-stdlib-stubs")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("micropython-esp32-stubs is not installed (pyproject.toml [dev]); firmware not type-checked")
    site = Path(str(esp32.locate_file("")))
    for f in esp32.files or ():
        if str(f).endswith(".pyi"):
            target = dest / str(f)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(site / str(f), target)
    shutil.copytree(Path(str(stdlib.locate_file(""))) / "_mpy_shed", dest / "_mpy_shed")
    typeshed = Path(str(stdlib.locate_file("")))
    assert (typeshed / "stdlib" / "VERSIONS").exists()
    return dest, typeshed


def _config(path: Path, stubs: Path, typeshed: Path, full: tuple[str, ...]) -> Path:
    path.write_text(
        "\n".join(
            [
                "[mypy]",
                "python_version = 3.11",
                f"custom_typeshed_dir = {typeshed}",
                f"mypy_path = {stubs}:{FIRMWARE_LIB}",
                "no_site_packages = True",
                "explicit_package_bases = True",
                "cache_dir = " + str(path.parent / "cache"),
                "[mypy-machine,vfs,_mpy_shed.*]",
                "ignore_errors = True",
                "[mypy-traceback]",  # dispatch.py's CPython fallback for print_exception
                "ignore_missing_imports = True",
                f"[mypy-{','.join(full)}]",
                "check_untyped_defs = True",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _mypy(config: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(config), *map(str, files)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=FIRMWARE)


@pytest.mark.timeout(600)
def test_firmware_type_checks_against_the_esp32_stubs(tmp_path: Path) -> None:
    stubs, typeshed = _stubs(tmp_path / "stubs")
    config = _config(tmp_path / "mypy.ini", stubs, typeshed, FULL_BODIES)
    proc = _mypy(config, FILES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"no issues found in {len(FILES)} source files" in proc.stdout, proc.stdout


@pytest.mark.timeout(600)
def test_the_check_catches_a_wrong_machine_call(tmp_path: Path) -> None:
    # Guards against a set-up that checks nothing (stubs not found, bodies skipped).
    stubs, typeshed = _stubs(tmp_path / "stubs")
    pkg = tmp_path / "probe"
    pkg.mkdir()
    bad = pkg / "badboard.py"
    bad.write_text(
        "import machine\n\n\ndef led():\n    machine.Pin(2, machine.Pin.OUTPUT)\n    machine.WDT(timeout='5s')\n",
        encoding="utf-8",
    )
    config = _config(tmp_path / "mypy.ini", stubs, typeshed, ("badboard",))
    proc = _mypy(config, [bad])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'has no attribute "OUTPUT"' in proc.stdout, proc.stdout
    assert '"WDT"' in proc.stdout, proc.stdout
