"""Link layer: request-body validation for every op handler. Pure: no I/O, no machine.

SPEC.md §3.2: a body that does not fit the op's schema (unknown key, missing key, wrong type) is
E_SCHEMA (``SchemaFault``); a value of the right type but out of range is E_BAD_ARGUMENT
(``BadArgument``). Byte strings arrive from ``cbor.decode`` as ``bytes``.
"""

from reader.errors import BadArgument, SchemaFault

REQUIRED = object()  # sentinel default: the key must be present

_UINT64_MAX = 0xFFFFFFFFFFFFFFFF


def check_keys(body, allowed):
    """SchemaFault unless ``body`` is a dict whose keys are all in ``allowed``."""
    if not isinstance(body, dict):
        raise SchemaFault("body is not a map")
    for key in body:
        if key not in allowed:
            raise SchemaFault("unknown key in body", {"key": key if isinstance(key, str) else ""})


def _get(body, key, default):
    if key in body:
        return True, body[key]
    if default is REQUIRED:
        raise SchemaFault("missing key: " + key, {"key": key})
    return False, default


def _wrong(key, kind):
    return SchemaFault(key + " must be " + kind, {"key": key})


def get_uint(body, key, default=REQUIRED, *, lo=0, hi=_UINT64_MAX):
    """An unsigned integer in ``[lo, hi]`` (BadArgument outside it)."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, int) or val is True or val is False or val < 0:
        raise _wrong(key, "an unsigned integer")
    if val < lo or val > hi:
        raise BadArgument(key + " out of range", {"key": key})
    return val


def get_bstr(body, key, default=REQUIRED, *, max_len=None, min_len=0):
    """A byte string whose length is in ``[min_len, max_len]`` (BadArgument outside it)."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, (bytes, bytearray, memoryview)):
        raise _wrong(key, "a byte string")
    if len(val) < min_len or (max_len is not None and len(val) > max_len):
        raise BadArgument(key + " has a bad length", {"key": key})
    return val


def get_tstr(body, key, default=REQUIRED, *, max_len=None, choices=None):
    """A text string of at most ``max_len`` UTF-8 bytes, one of ``choices`` when given."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, str):
        raise _wrong(key, "a text string")
    if max_len is not None and len(val.encode("utf-8")) > max_len:
        raise BadArgument(key + " is too long", {"key": key})
    if choices is not None and val not in choices:
        raise BadArgument(key + " is not an accepted value", {"key": key})
    return val


def get_bool(body, key, default=REQUIRED):
    present, val = _get(body, key, default)
    if not present:
        return val
    if val is not True and val is not False:
        raise _wrong(key, "a boolean")
    return val


def get_list(body, key, kind, default=REQUIRED, *, max_items=None, min_items=0):
    """A list whose every element is ``kind`` ("bstr" or "uint")."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, list):
        raise _wrong(key, "an array")
    for item in val:
        if kind == "bstr":
            ok = isinstance(item, (bytes, bytearray, memoryview))
        elif kind == "uint":
            ok = isinstance(item, int) and item is not True and item is not False and item >= 0
        else:
            raise ValueError("kind must be 'bstr' or 'uint'")
        if not ok:
            raise _wrong(key, "an array of " + kind)
    if len(val) < min_items or (max_items is not None and len(val) > max_items):
        raise BadArgument(key + " has a bad number of items", {"key": key})
    return val


def get_map(body, key, default=REQUIRED):
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, dict):
        raise _wrong(key, "a map")
    return val
