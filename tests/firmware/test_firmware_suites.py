"""Run every firmware test module (tests/firmware/**/fw_test_*.py) on both runtimes.

On the MicroPython unix port the heap is capped at an ESP32-sized 64 KiB with ``-X heapsize``,
so a module that needs more memory than the reader will have fails here. The firmware is imported
precompiled (.mpy), as a reader runs it; only the test modules are compiled on the spot. The same
modules run on CPython, from source, for coverage and for the ``--runtime cpython`` simulator path.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from partycard.sim.runner import compiled_firmware_lib
from tests.firmware.mp import FIRMWARE_LIB, MPSHIM, TESTS_FW, micropython_or_skip

MODULES = sorted(
    ".".join(p.relative_to(TESTS_FW).with_suffix("").parts) for p in TESTS_FW.rglob("fw_test_*.py")
)


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=TESTS_FW)


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_on_micropython(module: str) -> None:
    exe = micropython_or_skip()
    # Test modules by paths relative to TESTS_FW (the working directory): a source file's name is
    # kept in the heap, which must not depend on where the repository was cloned.
    env = dict(os.environ, MICROPYPATH=f".:{compiled_firmware_lib()}:.frozen")
    proc = _run([exe, "-X", "heapsize=64k", "fwrun.py", module], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_on_cpython(module: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS_FW), str(FIRMWARE_LIB), str(MPSHIM)]))
    proc = _run([sys.executable, str(TESTS_FW / "fwrun.py"), module], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last


def test_firmware_modules_exist() -> None:
    # Guards against a glob that silently finds nothing and so tests nothing: every firmware area
    # with unit tests must be found.
    areas = {m.split(".")[0] for m in MODULES}
    assert {"link", "pn532", "device"} <= areas, areas
