"""Simulator layer, virtual chip card (ICAO 9303 card side); must not import partycard.card.

The virtual chip card (card side of ICAO 9303 as a card OS would implement it).

Must not import ``partycard.card`` (the reading side): the two are independent implementations.
"""

from __future__ import annotations

from partycard.sim.card.cardos import VirtualCard
from partycard.sim.card.knobs import CardFaults, CardQuirks, CardRemovedFromField

__all__ = ["CardFaults", "CardQuirks", "CardRemovedFromField", "VirtualCard"]
