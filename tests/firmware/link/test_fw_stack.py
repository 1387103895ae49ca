"""The firmware tests that load the whole link stack (tests/firmware/link/fw_stack_*.py).

On MicroPython they run with the firmware and these test modules compiled by mpy-cross, as code
runs on a board (see mpybuild.py). The heap is 128 KiB, not 64: beside the reader these processes
hold an in-process host (its framer and every decoded reply) and the vector records, and the
64-bit unix port doubles every pointer. The reader alone is held to 64 KiB by test_fw_process.py.
On CPython they run from source.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.firmware.link.mpybuild import build_mpy
from tests.firmware.mp import FIRMWARE_LIB, MPSHIM, TESTS_FW, micropython_or_skip

MODULES = sorted(
    ".".join(p.relative_to(TESTS_FW).with_suffix("").parts) for p in TESTS_FW.rglob("fw_stack_*.py")
)


@pytest.fixture(scope="module")
def mpy_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mpy(tmp_path_factory.mktemp("fw-mpy"), with_tests=True)


def _check(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last


def test_stack_modules_found() -> None:
    assert "link.fw_stack_dispatch" in MODULES and "link.fw_stack_vectors" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_stack_module_on_micropython(module: str, mpy_tree: Path) -> None:
    exe = micropython_or_skip()
    env = dict(os.environ, MICROPYPATH=f"{mpy_tree}:{TESTS_FW}")
    cmd = [exe, "-X", "heapsize=128k", str(mpy_tree / "fwrun.py"), module]
    _check(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=TESTS_FW))


@pytest.mark.parametrize("module", MODULES)
def test_stack_module_on_cpython(module: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS_FW), str(FIRMWARE_LIB), str(MPSHIM)]))
    cmd = [sys.executable, str(TESTS_FW / "fwrun.py"), module]
    _check(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=TESTS_FW))
