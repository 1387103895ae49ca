"""Simulator, firmware in ROM: the reader's bytecode outside the MicroPython heap, as on a board.

A board keeps the firmware's bytecode in flash (frozen into the image, or in a ROMFS partition that
MicroPython maps and imports in place); the unix port loads .mpy files into its GC heap, where they
take most of it (docs/benchmarks.md). With ``SimulatedReader(rom=True)`` the firmware is packed
into a ROMFS image (the format of MicroPython's ``vfs.VfsRom``, written by mpremote's
``VfsRomWriter``), and ``mpboot/romboot.py`` copies that image into memory the process owns outside
the GC heap, mounts it with ``vfs.VfsRom`` and starts ``main`` from it. What the heap then holds
is what a board with a ROMFS partition holds in RAM: the code's objects (functions, classes, raw
code records, interned names) and the reader's own data.

The memory outside the heap is an environment variable of the firmware's process: its value, a
filler of the image's length, lies in the process's environment block (proc(5), ``env_start``),
which MicroPython never copies, and ``uctypes.bytearray_at`` makes it a buffer. Linux caps one
environment string at 32 pages (``MAX_ARG_STRLEN``, 128 KiB), hence ``MAX_IMAGE_BYTES``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from partycard.errors import ConfigError

#: Names the boot shim reads (mpboot/romboot.py).
AREA_VAR = "PARTYCARD_ROM_AREA"
IMAGE_VAR = "PARTYCARD_ROM_IMAGE"
#: The filler the area holds until the shim writes the image over it: the shim checks it first, so
#: that a wrong address is refused before anything is written.
FILLER = "x"
#: One environment string, name and "=" included, may be 131072 bytes long (Linux MAX_ARG_STRLEN).
MAX_IMAGE_BYTES = 131072 - len(AREA_VAR) - 2


def boot_script() -> Path:
    """The MicroPython script that mounts the image and starts the firmware from it."""
    return Path(__file__).resolve().parent / "mpboot" / "romboot.py"


def build_image(lib: Path, main_py: Path, mpy_cross: str) -> bytes:
    """A ROMFS image of the compiled firmware library ``lib`` (its .mpy files and data files, in
    their folders) and of ``main_py`` compiled to ``main.mpy``."""
    try:
        from mpremote.romfs import VfsRomWriter  # type: ignore[import-untyped]
    except ImportError as exc:  # mpremote before 1.25 has no ROMFS writer
        raise ConfigError("mpremote 1.25 or later is needed to build a ROMFS image") from exc
    writer = VfsRomWriter()

    def add(folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                writer.opendir(path.name)
                add(path)
                writer.closedir()
            elif path.is_file():
                writer.mkfile(path.name, path.read_bytes())

    add(lib)
    with tempfile.TemporaryDirectory(prefix="partycard-rom-") as tmp:
        out = Path(tmp) / "main.mpy"
        proc = subprocess.run(
            [mpy_cross, "-o", str(out), "-s", "main.py", str(main_py)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise ConfigError(f"mpy-cross failed on {main_py}: {proc.stderr.strip()}")
        writer.mkfile("main.mpy", out.read_bytes())
    image: bytes = writer.finalise()
    if len(image) > MAX_IMAGE_BYTES:
        raise ConfigError(f"the firmware's ROMFS image is {len(image)} bytes; one environment string holds "
                          f"{MAX_IMAGE_BYTES}")
    return image


def cached_image(lib: Path, main_py: Path, mpy_cross: str) -> Path:
    """The image for ``lib`` (a compiled library, named by its content) and ``main_py``, built once
    beside ``lib`` and shared by every simulated reader of the same firmware."""
    digest = hashlib.sha256(main_py.read_bytes()).hexdigest()[:12]
    path = lib.parent / f"{lib.name}-{digest}.romfs"
    if path.is_file():
        return path
    data = build_image(lib, main_py, mpy_cross)
    fd, staging = tempfile.mkstemp(dir=lib.parent, suffix=".romfs-tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(staging, path)  # atomic: a concurrent build writes the same bytes
    return path


def environment(image: Path) -> dict[str, str]:
    """What the firmware process's environment needs for the boot shim: the image and its area."""
    return {IMAGE_VAR: str(image), AREA_VAR: FILLER * image.stat().st_size}
