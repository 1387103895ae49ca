"""Benchmark, firmware cost: peak heap over a full read, CPU time per relayed APDU.

Peak heap is measured by bisection: the firmware is started on the MicroPython unix port with a
heap cap (``-X heapsize``) and must complete a full read (the photo case); the smallest cap that
completes is the peak the read really needs, garbage collection and fragmentation included.
``micropython.mem_peak()`` would count collected garbage too, and ``gc.mem_alloc()`` sampled
from outside misses the peak between samples, so neither is used for the figure.

The unix port is 64-bit and runs .mpy files from the heap; an ESP32 image freezes that bytecode
into flash and has 32-bit words. The ESP32 figure is therefore an estimate, an upper bound: peak − the
heap that loading the firmware's modules takes on the unix port. The rest is not scaled down for
the smaller words: most of it is byte buffers (frames, APDUs), which are as long on either.

CPU time is the firmware process's own (``/proc/<pid>/schedstat``, nanoseconds), taken around
reads and divided by the APDUs the virtual PN532 relayed; it is this machine's x86-64 time for the
unix port, not an ESP32's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partycard.bench.cards import PHOTO_FILES, BenchCard
from partycard.bench.tap import read_once
from partycard.errors import PartycardError, ReaderTimeout
from partycard.link.client import ReaderClient
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import SimulatedReader, compiled_firmware_lib, micropython_executable
from partycard.transport.serial import SerialTransport

#: Modules a unix-board reader does not load, or loads at start-up or for one request and drops
#: (reader.app, reader.startup and reader.device say so): left out of the bytecode share.
_NOT_RESIDENT = frozenset({
    "reader/boards/esp32", "reader/pn532/bus_i2c", "reader/pn532/bus_spi",
    "reader/device", "reader/config", "reader/maintenance", "reader/startup",
})


def firmware_pids() -> list[int]:
    """Our child processes that run MicroPython (the simulated reader's firmware)."""
    me = os.getpid()
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # comm is in parentheses and may hold spaces; the fields after it are space-separated.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == me and comm.startswith("micropython"):
            out.append(int(entry.name))
    return out


def cpu_ns(pids: list[int]) -> int:
    """CPU time the processes ran so far, in nanoseconds (first field of /proc/<pid>/schedstat)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total


def bytecode_heap_bytes() -> int | None:
    """Heap that importing the resident firmware modules (.mpy) takes on the unix port."""
    exe = micropython_executable()
    if exe is None:
        return None
    lib = compiled_firmware_lib()
    names = []
    for path in sorted(lib.rglob("*.mpy")):
        rel = path.relative_to(lib).with_suffix("").as_posix()
        if rel in _NOT_RESIDENT:
            continue
        mod = rel.replace("/", ".")
        names.append(mod[: -len(".__init__")] if mod.endswith(".__init__") else mod)
    script = (
        "import gc\n"
        "gc.collect()\n"
        "a = gc.mem_alloc()\n"
        f"for m in {names!r}:\n"
        "    __import__(m)\n"
        "gc.collect()\n"
        "print(gc.mem_alloc() - a)\n"
    )
    env = dict(os.environ, MICROPYPATH=f"{lib}:.frozen")
    env["PARTYCARD_BOARD"] = "unix"
    proc = subprocess.run(
        [exe, "-X", "heapsize=1m", "-c", script], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    try:
        return int(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def read_completes(card: BenchCard, heap_kib: int, rom: bool = False) -> bool:
    """Whether the firmware, capped at ``heap_kib`` KiB, serves a full read (the photo case);
    with ``rom`` its bytecode stays outside the heap (partycard.sim.romfs)."""
    pn532 = VirtualPN532()
    try:
        with SimulatedReader(runtime="micropython", pn532=pn532, heap=f"{heap_kib}k", rom=rom) as sim:
            client = ReaderClient(SerialTransport(sim.port))
            with contextlib.closing(client):
                _connect_while_running(client, sim)
                pn532.insert(VirtualCard(card.image))
                read, _nonce, _ch = read_once(client, PHOTO_FILES)
                client.release()
                return all(name in read.files for name in PHOTO_FILES) and sim.running
    except (PartycardError, OSError):
        return False


def _connect_while_running(client: ReaderClient, sim: SimulatedReader, timeout_s: float = 5.0) -> None:
    """Hello until answered; give up at once when the firmware died (a boot that ran out of heap)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if not sim.running:
            raise ReaderTimeout("the firmware exited before answering hello")
        try:
            client.connect(0.5)
            return
        except ReaderTimeout:
            if time.monotonic() > deadline:
                raise


def min_heap_kib(
    card: BenchCard, lo: int, hi: int, step: int, log: Callable[[str], None], *, rom: bool = False
) -> int | None:
    """Smallest heap (KiB, to ``step``) that completes a full read; None if ``hi`` does not."""
    if not read_completes(card, hi, rom):
        return None
    while hi - lo > step:
        mid = (lo + hi) // 2
        ok = read_completes(card, mid, rom)
        log(f"  heap {mid} KiB: {'read completes' if ok else 'read fails'}")
        if ok:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class FirmwareCost:
    heap_peak_bytes: int | None  #: unix port, smallest heap that completes a full read
    heap_step_bytes: int  #: the bisection's resolution
    heap_peak_rom_bytes: int | None  #: the same with the bytecode outside the heap, as on a board
    bytecode_bytes: int | None  #: heap the resident modules take on the unix port
    live_after_read_bytes: int | None  #: diag heap_used (after gc) once a read is done
    cpu_us_per_apdu: float | None
    apdus_timed: int

    @property
    def esp32_estimate_bytes(self) -> int | None:
        # The read with the bytecode outside the heap, as a frozen image keeps it. Not the peak less
        # the bytecode's share: functions, classes and their dicts stay in RAM when code is frozen.
        return self.heap_peak_rom_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "heap_peak_bytes": self.heap_peak_bytes,
            "heap_peak_method": "bisection on -X heapsize: smallest heap (unix port, 64-bit) that completes "
            f"a full read with the photo, to {self.heap_step_bytes} bytes",
            "heap_peak_rom_bytes": self.heap_peak_rom_bytes,
            "heap_peak_rom_method": "the same bisection with the firmware in a ROMFS image outside the heap "
            "(partycard sim --rom), as a board keeps it in flash: measured, 64-bit objects",
            "heap_bytecode_bytes": self.bytecode_bytes,
            "heap_live_after_read_bytes": self.live_after_read_bytes,
            "esp32_estimate_bytes": self.esp32_estimate_bytes,
            "esp32_estimate_method": "ESTIMATE: heap_peak_rom_bytes, the read with the bytecode outside the "
            "heap as a frozen image keeps it; 64-bit objects, at most as large on an ESP32; the ESP32's own "
            "board module not measured",
            "cpu_us_per_apdu": None if self.cpu_us_per_apdu is None else round(self.cpu_us_per_apdu, 1),
            "cpu_method": f"firmware process CPU (schedstat) over {self.apdus_timed} relayed APDUs, "
            "this machine, unix port",
        }
