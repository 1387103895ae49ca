"""CLI shell: argument types that refuse what argparse's int and float let through.

float("nan"), float("inf") and 1e300 seconds are floats; 99999 is an int but no TCP port. Each type
here raises argparse.ArgumentTypeError, so a bad value is one line of usage error, exit 2.
"""

from __future__ import annotations

import argparse
import math
import re

_MAX_SECONDS = 24 * 3600.0
_HEAP = re.compile(r"([0-9]{1,7})([wW]?)([kKmM]?)", re.ASCII)
#: MicroPython's "w" (``-X heapsize=64wk``) scales a size given for 32-bit words to the build's
#: word size (ports/unix/main.c): twice on the 64-bit unix port the simulator runs.
_WORD_SCALE = 2
#: The firmware starts its link in 64 KiB (README, "Heap"); below that it cannot answer hello.
MIN_HEAP_BYTES = 64 * 1024
MAX_HEAP_BYTES = 1024 * 1024 * 1024


def _duration(text: str, limit: float, unit: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of {unit}: {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= limit:
        raise argparse.ArgumentTypeError(f"{unit} must be from 0 to {limit:g}, not {text!r}")
    return value


def seconds(text: str) -> float:
    """A duration in seconds: finite, from 0 to one day."""
    return _duration(text, _MAX_SECONDS, "seconds")


def milliseconds(text: str) -> float:
    """A duration in milliseconds: finite, from 0 to one minute."""
    return _duration(text, 60_000, "milliseconds")


def aa_challenge(text: str) -> bytes:
    """An Active Authentication challenge: 8 bytes as 16 hex digits (ICAO 9303-11 §6.1)."""
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hexadecimal: {text!r}") from None
    if len(value) != 8:
        raise argparse.ArgumentTypeError("AA's challenge is 8 bytes: 16 hex digits (ICAO 9303-11 §6.1)")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1 (a count, a baud rate)."""
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number of at least 1, not {text!r}")
    return int(text)


def tcp_port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 1 to 65535, not {text!r}")
    return int(text)


def heap_size(text: str) -> str:
    """A MicroPython ``-X heapsize`` value (``131072``, ``128k``, ``64wk``, ``1m``) the firmware can start in."""
    match = _HEAP.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"a heap size is a number of bytes with an optional w (32-bit words) and k or m, not {text!r}"
        )
    size = int(match[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[match[3].lower()]
    if match[2]:
        size *= _WORD_SCALE
    if not MIN_HEAP_BYTES <= size <= MAX_HEAP_BYTES:
        raise argparse.ArgumentTypeError(f"the heap must be from 64k to 1024m, not {text!r}")
    return text


def _printable(text: str, limit: int, what: str) -> str:
    # Printable ASCII without spaces: what the result record's schema takes for its ids
    # (forward/schema/result-record-v1.json) and the firmware for a serial (it goes into its banner).
    if not 1 <= len(text) <= limit or not all("!" <= ch <= "~" for ch in text):
        raise argparse.ArgumentTypeError(
            f"{what} is 1 to {limit} printable ASCII characters without spaces, not {text!r}"
        )
    return text


def site_id(text: str) -> str:
    """A site id for result records."""
    return _printable(text, 64, "a site id")


def reader_serial(text: str) -> str:
    """A reader serial the firmware stores and result records carry."""
    return _printable(text, 32, "a reader serial")
