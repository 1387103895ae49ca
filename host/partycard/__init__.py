"""partycard: reader firmware link, chip reading, verification and forwarding for the party card."""

from __future__ import annotations

__version__ = "0.1.0"
