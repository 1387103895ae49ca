"""partycard.kiosk: the tap loop a party office runs (wait, read, verify, record, signal)."""
