# GENERATED from protocol/codes.toml by protocol/tools/gen_codes.py - do not edit.

"""Numbers of the reader link (protocol/SPEC.md). Pure data."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

PROTOCOL_VERSION: Final = 1

MAX_PAYLOAD: Final = 2048
MAX_DEPTH: Final = 8
MAX_ITEMS: Final = 64
MAX_ENTRIES: Final = 256
MAX_KEY_LEN: Final = 23
MAX_MESSAGE_LEN: Final = 200
MAX_BATCH: Final = 32
MAX_APDU: Final = 264
KEEPALIVE_MS: Final = 250
MAX_WAIT_MS: Final = 30000
MAX_REQUEST_ID: Final = 4294967295


class MessageType(IntEnum):
    """Envelope key 1 (SPEC.md §3)."""

    REQUEST = 0
    RESPONSE = 1
    EVENT = 2
    ERROR = 3


class EnvelopeKey(IntEnum):
    """Integer keys of the envelope map (SPEC.md §3)."""

    VERSION = 0
    TYPE = 1
    ID = 2
    OP = 3
    BODY = 4
    ERROR = 5


class ErrorCode(IntEnum):
    """Reader error codes by range (SPEC.md §5)."""

    E_CBOR = 0x01
    E_LIMIT = 0x02
    E_SCHEMA = 0x03
    E_VERSION = 0x04
    E_UNKNOWN_OP = 0x05
    E_BUSY = 0x06
    E_CANCELLED = 0x07
    E_BAD_ARGUMENT = 0x08
    E_PN532_TIMEOUT = 0x20
    E_PN532_STATUS = 0x21
    E_PN532_FRAME = 0x22
    E_NO_FRONTEND = 0x23
    E_RF = 0x24
    E_NO_CARD = 0x40
    E_CARD_REMOVED = 0x41
    E_CARD_PROTOCOL = 0x42
    E_APDU_TOO_LARGE = 0x43
    E_NOT_ACTIVE = 0x44
    E_INTERNAL = 0xF0
    E_CONFIG = 0xF1


class Op:
    """Operation and event names on the wire (SPEC.md §4)."""

    HELLO: Final = "hello"
    PING: Final = "ping"
    CANCEL: Final = "cancel"
    CARD_WAIT: Final = "card.wait"
    APDU: Final = "apdu"
    APDU_BATCH: Final = "apdu.batch"
    CARD_RELEASE: Final = "card.release"
    CONFIG_GET: Final = "config.get"
    CONFIG_SET: Final = "config.set"
    SELFTEST: Final = "selftest"
    REBOOT: Final = "reboot"
    UI: Final = "ui"
    DIAG: Final = "diag"
    EV_CARD_PRESENT: Final = "card.present"
    EV_CARD_REMOVED: Final = "card.removed"
    EV_KEEPALIVE: Final = "keepalive"
    EV_LOG: Final = "log"
