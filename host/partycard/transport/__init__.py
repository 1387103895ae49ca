"""partycard.transport."""
