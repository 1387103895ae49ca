"""Card layer: activation, presence, APDU relay and the card.* operations over a front-end."""
