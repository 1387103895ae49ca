"""partycard.forward."""
