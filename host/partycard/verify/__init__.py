"""partycard.verify."""
