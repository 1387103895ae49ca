"""partycard.sim."""
