"""Issuance layer: test PKI and card personalisation; must not import the reading or verify side.

The test PKI and card personalisation (``partycard pki``, ``partycard issue``).

Must not import the reading side (``partycard.card``) or verification: issuance is written
independently of the code that checks it.
"""

from __future__ import annotations

from partycard.issue.image import CardImage
from partycard.issue.issuer import clone_card, issue_card, issue_from_dump, tamper_file
from partycard.issue.keys import ChipKey, EcKey, RsaKey, load_private_key
from partycard.issue.member import Member, parse_member
from partycard.issue.pki import PKIPaths, Signer, init_pki, load_pki, load_signer, revoke_signer

__all__ = [
    "CardImage",
    "ChipKey",
    "EcKey",
    "Member",
    "PKIPaths",
    "RsaKey",
    "Signer",
    "clone_card",
    "init_pki",
    "issue_card",
    "issue_from_dump",
    "load_pki",
    "load_private_key",
    "load_signer",
    "parse_member",
    "revoke_signer",
    "tamper_file",
]
