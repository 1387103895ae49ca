"""partycard reader firmware."""

VERSION = "0.1.0"
