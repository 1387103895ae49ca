"""Stand-in for MicroPython's ``micropython`` module, so the firmware also runs on CPython.

Only the simulator (``--runtime cpython``) and the firmware's CPython tests put this folder on
``sys.path``; on MicroPython the real module is built in.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def const(value: T) -> T:
    """MicroPython folds const() at compile time; here it is the identity."""
    return value


def kbd_intr(_char: int) -> None:
    """There is no REPL interrupt character to disable on CPython."""


def mem_info(*_args: object) -> None:
    """Heap statistics exist only on MicroPython."""


def opt_level(*_args: object) -> int:
    """Optimisation level is a MicroPython notion; report 0."""
    return 0
