"""The reader's settings on flash (``config.json`` at the firmware root) and the pin maps
(``boards/<name>.json``), read at start-up. No machine, no link I/O.

``partycard deploy`` writes ``board`` and ``serial``; ``config.set`` (SPEC.md §4) checks and
writes the rest (``run``). Loaded at start-up and for config.set only, then dropped
(``reader.app.forget``): on the unix port loaded code takes heap. On a board the file is
``/config.json``; on the unix port it is in the folder named by env ``PARTYCARD_CONFIG_DIR``, else
in the working directory (the firmware folder under the simulator). Board, serial, link and baud
rates take effect at the next start; UI patterns at once.
"""

import json
import os
import sys

from reader.link import codes

NAME = "config.json"


def on_board():
    return sys.platform not in ("linux", "darwin", "win32")


def path():
    if on_board():
        return "/" + NAME
    getenv = getattr(os, "getenv", None)
    folder = getenv("PARTYCARD_CONFIG_DIR") if getenv is not None else None
    return folder.rstrip("/") + "/" + NAME if folder else NAME


def _read(name):
    try:
        with open(name) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load():
    """The stored settings as a dict; {} when there is no file. A damaged file reads as {} too, so
    that the reader still starts (on its defaults) and ``config.set`` can repair it."""
    data = _read(path())
    return data if isinstance(data, dict) else {}


def board_spec(name):
    """The pin map ``boards/<name>.json`` (the single source of truth for pins), or None."""
    spec = _read(("/" if on_board() else "") + "boards/" + name + ".json")
    return spec if isinstance(spec, dict) else None


# --- config.set: checking and writing ---------------------------------------------------------
# Refusals (SPEC.md §3.2, §5): a key this firmware does not know is E_CONFIG (the schema leaves the
# settings to the firmware, so it is an invalid configuration, not a schema error); a known key
# with a value of the wrong type or out of range is E_BAD_ARGUMENT; a pin map for another kind of
# reader and a file that cannot be written are E_CONFIG. One refusal stores nothing.

_CHOICES = {
    "link": ("repl-uart", "usb-cdc", "uart"),
    "link_baud": (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600),
    # SetSerialBaudRate's table (UM0701-02 §7.2.8)
    "pn532_baud": (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1288000),
}
# A UI step is [green, red, tone_hz, ms], each at most this (reader.device.Player plays them).
_STEP_MAX = (1, 1, 10000, 5000)


def _bad(key):
    from reader.errors import ReaderFault

    return ReaderFault("bad value for " + key, {"key": key}, code=codes.E_BAD_ARGUMENT)


def _refuse(what, key):
    from reader.errors import ReaderFault

    return ReaderFault(what, {"key": key if isinstance(key, str) else ""}, code=codes.E_CONFIG)


def _text(key, val):
    if not isinstance(val, str) or not 1 <= len(val) <= 32:
        raise _bad(key)
    for ch in val:
        if not "!" <= ch <= "~":  # printable ASCII without space: it goes into the banner line
            raise _bad(key)


def _patterns(val):
    had = "reader.device" in sys.modules
    from reader.device import PATTERNS

    if not had:  # loaded for its names only: its code must not stay in the heap (reader.app.forget)
        from reader.app import forget

        forget("device")

    if not isinstance(val, dict):
        raise _bad("patterns")
    for name in val:
        if name not in PATTERNS:
            raise _refuse("unknown pattern", name)
        steps = val[name]
        if not isinstance(steps, list) or not 1 <= len(steps) <= 8:
            raise _bad(name)
        for step in steps:
            if not isinstance(step, list) or len(step) != 4:
                raise _bad(name)
            for i in range(4):
                v = step[i]
                if not isinstance(v, int) or v is True or v is False or not 0 <= v <= _STEP_MAX[i]:
                    raise _bad(name)


def _check(key, val):
    if key in _CHOICES:
        # ``in`` alone would take True for 1: the type must be the choices' too.
        if type(val) is not type(_CHOICES[key][0]) or val not in _CHOICES[key]:
            raise _bad(key)
    elif key in ("serial", "board"):
        _text(key, val)
        if key == "board":
            # A plain file name: "./unix" or "../x" would find a file and still not be a board.
            for ch in val:
                if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == "-"):
                    raise _bad(key)
            spec = board_spec(val)
            if spec is None:
                raise _bad(key)
            # Starting the wrong kind of board would leave the reader without a link: refuse it.
            if (spec.get("mcu") == "unix") == on_board():
                raise _refuse("board does not fit this reader", key)
    elif key == "patterns":
        _patterns(val)
    else:
        raise _refuse("unknown setting", key)


def run(reader, ctx, body):
    """``config.set {"config": {...}}``: check, merge, write, answer with the stored result."""
    from reader.link.schema import check_keys, get_map

    check_keys(body, ("config",))
    new = update(reader.stored, get_map(body, "config"))
    save(new)
    reader.stored = new
    return {"config": new}


def update(stored, changes):
    """``stored`` with ``changes`` applied (a null value removes the setting; patterns merge by
    name), after checking every change: one refusal changes nothing."""
    for key in changes:
        if changes[key] is not None:
            _check(key, changes[key])
        elif key not in _CHOICES and key not in ("serial", "board", "patterns"):
            raise _refuse("unknown setting", key)  # removing one is no less unknown
    out = dict(stored)
    for key in changes:
        val = changes[key]
        if val is None:
            out.pop(key, None)
        elif key == "patterns" and isinstance(out.get(key), dict):
            merged = dict(out[key])
            merged.update(val)
            out[key] = merged
        else:
            out[key] = val
    return out


def save(data):
    """Write atomically: a temporary file, then rename over the old one. littlefs (the ESP32
    default) replaces the target in one step; MicroPython's FAT driver removes it first
    (extmod/vfs_fat.c), so a power cut leaves the old or the new file, never half of one."""
    dest = path()
    tmp = dest + ".tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.rename(tmp, dest)
        if hasattr(os, "sync"):
            os.sync()
    except OSError:
        raise _refuse("configuration not writable", "") from None
