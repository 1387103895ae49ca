"""Verify layer: a bounded memo of what was derived from an encoding; must not verify anything itself.

Cards of one document signer share its certificate, its key and its issuer's name byte for byte, so
what is derived from those bytes (a full parse, a loaded key) is kept by the bytes. Only derivations
that depend on nothing but the bytes belong here; answers that depend on time or trust do not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """Least recently used first out, ``size`` entries at most; safe to share between threads.

    The bound is what keeps hostile input harmless: a stream of different encodings only churns it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, der: bytes, make: Callable[[], V]) -> V:
        """The value kept for ``der``, or ``make()`` kept for it; when ``make`` raises, nothing is kept."""
        with self._lock:
            if der in self._items:
                self._items.move_to_end(der)
                return self._items[der]
        value = make()  # outside the lock: parsing is slow, and a racing duplicate is harmless
        with self._lock:
            self._items[der] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
