# GENERATED from protocol/codes.toml by protocol/tools/gen_codes.py - do not edit.

"""Numbers of the reader link (protocol/SPEC.md). Pure data, no imports but const."""

from micropython import const

PROTOCOL_VERSION = const(1)
T_REQUEST = const(0)
T_RESPONSE = const(1)
T_EVENT = const(2)
T_ERROR = const(3)
K_VERSION = const(0)
K_TYPE = const(1)
K_ID = const(2)
K_OP = const(3)
K_BODY = const(4)
K_ERROR = const(5)
MAX_PAYLOAD = const(2048)
MAX_DEPTH = const(8)
MAX_ITEMS = const(64)
MAX_ENTRIES = const(256)
MAX_KEY_LEN = const(23)
MAX_MESSAGE_LEN = const(200)
MAX_BATCH = const(32)
MAX_APDU = const(264)
KEEPALIVE_MS = const(250)
MAX_WAIT_MS = const(30000)
MAX_REQUEST_ID = const(4294967295)
E_CBOR = const(0x01)
E_LIMIT = const(0x02)
E_SCHEMA = const(0x03)
E_VERSION = const(0x04)
E_UNKNOWN_OP = const(0x05)
E_BUSY = const(0x06)
E_CANCELLED = const(0x07)
E_BAD_ARGUMENT = const(0x08)
E_PN532_TIMEOUT = const(0x20)
E_PN532_STATUS = const(0x21)
E_PN532_FRAME = const(0x22)
E_NO_FRONTEND = const(0x23)
E_RF = const(0x24)
E_NO_CARD = const(0x40)
E_CARD_REMOVED = const(0x41)
E_CARD_PROTOCOL = const(0x42)
E_APDU_TOO_LARGE = const(0x43)
E_NOT_ACTIVE = const(0x44)
E_INTERNAL = const(0xF0)
E_CONFIG = const(0xF1)
OP_HELLO = "hello"
OP_PING = "ping"
OP_CANCEL = "cancel"
OP_CARD_WAIT = "card.wait"
OP_APDU = "apdu"
OP_APDU_BATCH = "apdu.batch"
OP_CARD_RELEASE = "card.release"
OP_CONFIG_GET = "config.get"
OP_CONFIG_SET = "config.set"
OP_SELFTEST = "selftest"
OP_REBOOT = "reboot"
OP_UI = "ui"
OP_DIAG = "diag"
OP_EV_CARD_PRESENT = "card.present"
OP_EV_CARD_REMOVED = "card.removed"
OP_EV_KEEPALIVE = "keepalive"
OP_EV_LOG = "log"
