"""Firmware fault hierarchy. Pure: no I/O. Every fault carries the protocol error code it maps to.

app.py catches ReaderFault once, at the dispatch boundary, and answers with an error message
carrying ``code``, ``message`` and ``detail`` (SPEC.md §5). Any other exception becomes E_INTERNAL.
"""

from reader.link import codes


class ReaderFault(Exception):
    code = codes.E_INTERNAL

    def __init__(self, message="", detail=None):
        super().__init__(message)
        self.message = message
        self.detail = detail  # None or a dict with text keys, merged into the error map


# Link and protocol (0x01-0x1F)
class CborFault(ReaderFault):
    code = codes.E_CBOR


class LimitFault(ReaderFault):
    code = codes.E_LIMIT


class SchemaFault(ReaderFault):
    code = codes.E_SCHEMA


class VersionFault(ReaderFault):
    code = codes.E_VERSION


class UnknownOpFault(ReaderFault):
    code = codes.E_UNKNOWN_OP


class BusyFault(ReaderFault):
    code = codes.E_BUSY


class Cancelled(ReaderFault):
    code = codes.E_CANCELLED


class BadArgument(ReaderFault):
    code = codes.E_BAD_ARGUMENT


# Reader hardware (0x20-0x3F)
class PN532Timeout(ReaderFault):
    code = codes.E_PN532_TIMEOUT


class PN532StatusFault(ReaderFault):
    """The PN532 reported an error status byte; detail {"status": byte} (UM0701 §7.1)."""

    code = codes.E_PN532_STATUS


class PN532FrameFault(ReaderFault):
    code = codes.E_PN532_FRAME


class NoFrontend(ReaderFault):
    code = codes.E_NO_FRONTEND


class RFFault(ReaderFault):
    code = codes.E_RF


# Card (0x40-0x5F)
class NoCardFault(ReaderFault):
    code = codes.E_NO_CARD


class CardRemovedFault(ReaderFault):
    code = codes.E_CARD_REMOVED


class CardProtocolFault(ReaderFault):
    code = codes.E_CARD_PROTOCOL


class APDUTooLarge(ReaderFault):
    code = codes.E_APDU_TOO_LARGE


class NotActiveFault(ReaderFault):
    code = codes.E_NOT_ACTIVE


class ConfigFault(ReaderFault):
    code = codes.E_CONFIG
