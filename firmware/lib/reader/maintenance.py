"""The maintenance start (SPEC.md §4, ``reboot`` with ``"maintenance": true``): a flag file beside
``config.json`` that makes the next start, and only that one, leave the board at its prompt.

A module of its own, not part of ``reader.config``: it is loaded at every start and for that one
request, and on the unix port (and for .mpy files on a board) loaded code takes heap.
"""

import os
import sys

from reader.link import codes


def flag_path():
    # Beside config.json (reader.config.path; a test keeps the two in step). Not imported from
    # there: that module's code would take the heap this module exists to spare.
    if sys.platform not in ("linux", "darwin", "win32"):
        return "/maintenance"
    getenv = getattr(os, "getenv", None)
    folder = getenv("PARTYCARD_CONFIG_DIR") if getenv is not None else None
    return folder.rstrip("/") + "/maintenance" if folder else "maintenance"


def request():
    """Make the next start a maintenance start."""
    try:
        with open(flag_path(), "w") as f:
            f.write("1")
    except OSError as exc:
        from reader.errors import ReaderFault

        raise ReaderFault("cannot write the maintenance flag: " + str(exc), code=codes.E_CONFIG) from None


def take():
    """True once after ``request()``: the flag goes as it is read, so the start after a
    maintenance start is a normal one again, whatever happens in between."""
    try:
        os.remove(flag_path())
    except OSError:
        return False
    return True
