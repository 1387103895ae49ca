"""Transport layer, interface: a byte stream to one reader. Knows nothing of frames or messages."""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    """A bidirectional byte stream (SPEC.md §1). Errors are :class:`partycard.errors.TransportError`s."""

    def read(self, timeout_s: float) -> bytes:
        """Bytes that arrived, waiting at most ``timeout_s``; ``b""`` when nothing came in time."""
        ...

    def write(self, data: bytes) -> None:
        """Send all of ``data``."""
        ...

    def close(self) -> None:
        """Release the stream; later calls raise ReaderDisconnected. Closing twice is harmless."""
        ...
