"""Firmware fault hierarchy. Pure: no I/O. Every fault carries the protocol error code it maps to.

app.py catches ReaderFault once, at the dispatch boundary, and answers with an error message
carrying ``code``, ``message`` and ``detail`` (SPEC.md §5). Any other exception becomes E_INTERNAL.

Most faults are a ``ReaderFault`` with their code (``ReaderFault("truncated", code=codes.E_CBOR)``):
a class costs some 250 bytes of a 64 KiB heap at import (the type and its dict), and only the
kinds below are ever caught by kind. A handler tells the others apart by ``code``.
"""

from reader.link import codes


class ReaderFault(Exception):
    code = codes.E_INTERNAL

    def __init__(self, message="", detail=None, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.detail = detail  # None or a dict with text keys, merged into the error map


# The kinds that code catches by kind (card service, ISO 14443 layer).
class Cancelled(ReaderFault):
    code = codes.E_CANCELLED


class NoFrontend(ReaderFault):
    code = codes.E_NO_FRONTEND


class CardRemovedFault(ReaderFault):
    code = codes.E_CARD_REMOVED


class APDUTooLarge(ReaderFault):
    code = codes.E_APDU_TOO_LARGE
    length = 0  # a card response's length when it is the response that did not fit
