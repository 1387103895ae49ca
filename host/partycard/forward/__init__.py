"""Forward layer: result records, the durable outbox and the HTTPS sender; must not touch the reader link.

``record`` builds and validates result records, ``outbox`` keeps them durably in SQLite until
delivered, ``sender`` (the only module importing httpx) delivers them at least once. See
docs/forwarding.md.
"""
