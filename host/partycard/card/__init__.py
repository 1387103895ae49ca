"""partycard.card."""
