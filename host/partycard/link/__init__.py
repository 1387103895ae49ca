"""Link layer: the reader protocol of protocol/SPEC.md (framing, codec, messages, reader client).

Knows bytes, frames and messages; must not open ports itself (that is ``transport``) nor know
APDU semantics, cards or verification (those are ``card`` and ``verify``).
"""
