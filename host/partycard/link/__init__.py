"""partycard.link."""
