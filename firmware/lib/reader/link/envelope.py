"""Link layer: the envelope of SPEC.md §3, checked in the order of §3.2. Pure: no I/O, no machine.

``parse(payload, ops)`` returns ``(id, op, body)`` of a valid request or raises the first fault;
``echo`` then holds the id and op as far as they could be read, for the error reply.
"""

from reader.errors import ReaderFault
from reader.link import cbor, codes

_UINT64_MAX = 0xFFFFFFFFFFFFFFFF
echo = [None, None]  # [id, op] of the last parse, None where unreadable


def is_uint(val, hi):
    return isinstance(val, int) and val is not True and val is not False and 0 <= val <= hi


def message(kind, ident, op, body):
    """A type 1 (response) or 2 (event) envelope."""
    return {0: codes.PROTOCOL_VERSION, 1: kind, 2: ident, 3: op, 4: body}


def error(fault, ident, op):
    """The error envelope for ``fault``: key 5 holds code, message and the fault's detail."""
    err = dict(fault.detail) if fault.detail else {}
    err["code"] = fault.code
    text = fault.message or type(fault).__name__
    raw = text.encode("utf-8")
    if len(raw) > codes.MAX_MESSAGE_LEN:
        cut = codes.MAX_MESSAGE_LEN
        while raw[cut] & 0xC0 == 0x80:
            cut -= 1  # never split a UTF-8 sequence
        text = str(raw[:cut], "utf-8")
    err["message"] = text
    msg = {0: codes.PROTOCOL_VERSION, 1: codes.T_ERROR, 5: err}
    if ident is not None:
        msg[2] = ident
    if op is not None:
        msg[3] = op
    return msg


def _request_body(env):
    # SPEC.md §3 table: a request has keys 0-4, all of the right type, and nothing else.
    for key in env:
        if not is_uint(key, 5):
            raise ReaderFault("unknown envelope key", code=codes.E_SCHEMA)
    if env.get(1) != codes.T_REQUEST or env.get(1) is False:
        raise ReaderFault("not a request", code=codes.E_SCHEMA)
    if 5 in env or 4 not in env or echo[0] is None or echo[1] is None:
        raise ReaderFault("request needs id, op and body and no error", code=codes.E_SCHEMA)
    body = env[4]
    if not isinstance(body, dict):
        raise ReaderFault("body is not a map", code=codes.E_SCHEMA)
    return body


def parse(payload, ops):
    """(id, op, body) of a valid request for one of ``ops``; raises the first fault."""
    echo[0] = echo[1] = None
    env = cbor.decode(payload)
    if not isinstance(env, dict):
        raise ReaderFault("envelope is not a map", code=codes.E_SCHEMA)
    ident = env.get(2)
    if is_uint(ident, codes.MAX_REQUEST_ID):
        echo[0] = ident
    op = env.get(3)
    if isinstance(op, str):
        echo[1] = op
    version = env.get(0)
    if not is_uint(version, _UINT64_MAX):
        raise ReaderFault("version missing or not an unsigned integer", code=codes.E_SCHEMA)
    if version != codes.PROTOCOL_VERSION:
        supported = {"supported": [codes.PROTOCOL_VERSION]}
        raise ReaderFault("protocol version not supported", supported, code=codes.E_VERSION)
    body = _request_body(env)
    if op not in ops:
        raise ReaderFault("unknown op", code=codes.E_UNKNOWN_OP)
    # Body keys belong to the op's schema, so they are checked after the op (SPEC.md §3.2).
    for key in body:
        if not isinstance(key, str) or len(key.encode("utf-8")) > codes.MAX_KEY_LEN:
            raise ReaderFault("body key is not text of at most MAX_KEY_LEN bytes", code=codes.E_SCHEMA)
    return ident, op, body
