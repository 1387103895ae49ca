# Boot shim for the simulated reader with its firmware in ROM (partycard/sim/romfs.py says why).
# MicroPython unix port only. Copies the ROMFS image into this process's environment block, outside
# the GC heap, mounts it as a board mounts its ROMFS partition, and runs the firmware's main from it.
import sys

import uctypes
import vfs


def _area(name):
    # proc(5): field 50 of /proc/<pid>/stat is env_start, where the environment strings begin; the
    # fields after the command name (which may hold spaces) start with field 3.
    with open("/proc/self/stat") as f:
        stat = f.read()
    env_start = int(stat[stat.rindex(")") + 2 :].split()[47])
    with open("/proc/self/environ", "rb") as f:
        block = f.read()
    key = name + b"="
    at = 0 if block.startswith(key) else block.find(b"\x00" + key) + 1
    if at == 0 and not block.startswith(key):
        raise SystemExit("romboot: no " + name.decode() + " in the environment")
    begin = at + len(key)
    end = block.index(b"\x00", begin)
    area = uctypes.bytearray_at(env_start + begin, end - begin)
    # The filler proves the address right before anything is written there.
    if area[:16] != block[begin : begin + 16] or area[-16:] != block[end - 16 : end]:
        raise SystemExit("romboot: the environment block is not where /proc/self/stat says")
    return area


def _mount():
    import os

    area = _area(b"PARTYCARD_ROM_AREA")
    with open(os.getenv("PARTYCARD_ROM_IMAGE"), "rb") as f:
        got = f.readinto(area)
        if got != len(area) or f.read(1):
            raise SystemExit("romboot: the image does not match its area")
    vfs.mount(vfs.VfsRom(area), "/rom")
    sys.path[:] = ["/rom"]  # the firmware comes from the image only


_mount()
import gc  # noqa: E402

gc.collect()
import main  # noqa: E402, F401  # the firmware's own entry point, from the image
