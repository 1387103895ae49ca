"""Millisecond ticks and sleeps for every runtime the firmware runs on. No other imports.

MicroPython has time.ticks_ms/ticks_diff/ticks_add/sleep_ms; CPython (tests and
``partycard sim --runtime cpython``) does not, so they are built from time.monotonic there.
"""

import time

try:
    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
    sleep_ms = time.sleep_ms
except AttributeError:
    _PERIOD = 1 << 30  # MicroPython's ticks wrap at 2**30 on most ports; keep the same arithmetic.

    def ticks_ms():
        return int(time.monotonic() * 1000) % _PERIOD

    def ticks_us():
        return int(time.monotonic() * 1000000) % _PERIOD

    def ticks_diff(a, b):
        return ((a - b + _PERIOD // 2) % _PERIOD) - _PERIOD // 2

    def ticks_add(a, delta):
        return (a + delta) % _PERIOD

    def sleep_ms(ms):
        time.sleep(ms / 1000)
