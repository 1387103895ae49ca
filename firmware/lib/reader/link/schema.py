"""Link layer: request-body validation for every op handler. Pure: no I/O, no machine.

SPEC.md §3.2: a body that does not fit the op's schema (unknown key, missing key, wrong type) is
E_SCHEMA; a value of the right type but out of range is E_BAD_ARGUMENT (both a ``ReaderFault``).
Byte strings arrive from ``cbor.decode`` as ``bytes``.
"""

from reader.errors import ReaderFault
from reader.link import codes

REQUIRED = object()  # sentinel default: the key must be present

_UINT64_MAX = 0xFFFFFFFFFFFFFFFF


def check_keys(body, allowed):
    """E_SCHEMA unless ``body`` is a dict whose keys are all in ``allowed``."""
    if not isinstance(body, dict):
        raise ReaderFault("body is not a map", code=codes.E_SCHEMA)
    for key in body:
        if key not in allowed:
            raise ReaderFault("unknown key in body", {"key": key if isinstance(key, str) else ""}, code=codes.E_SCHEMA)


def _get(body, key, default):
    if key in body:
        return True, body[key]
    if default is REQUIRED:
        raise ReaderFault("missing key: " + key, {"key": key}, code=codes.E_SCHEMA)
    return False, default


def _wrong(key, kind):
    return ReaderFault(key + " must be " + kind, {"key": key}, code=codes.E_SCHEMA)


def get_uint(body, key, default=REQUIRED, *, lo=0, hi=_UINT64_MAX):
    """An unsigned integer in ``[lo, hi]`` (E_BAD_ARGUMENT outside it)."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, int) or val is True or val is False or val < 0:
        raise _wrong(key, "an unsigned integer")
    if val < lo or val > hi:
        raise ReaderFault(key + " out of range", {"key": key}, code=codes.E_BAD_ARGUMENT)
    return val


def get_bstr(body, key, default=REQUIRED, *, max_len=None, min_len=0):
    """A byte string whose length is in ``[min_len, max_len]`` (E_BAD_ARGUMENT outside it)."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, (bytes, bytearray, memoryview)):
        raise _wrong(key, "a byte string")
    if len(val) < min_len or (max_len is not None and len(val) > max_len):
        raise ReaderFault(key + " has a bad length", {"key": key}, code=codes.E_BAD_ARGUMENT)
    return val


def get_tstr(body, key, default=REQUIRED, *, max_len=None, choices=None):
    """A text string of at most ``max_len`` UTF-8 bytes, one of ``choices`` when given."""
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, str):
        raise _wrong(key, "a text string")
    if max_len is not None and len(val.encode("utf-8")) > max_len:
        raise ReaderFault(key + " is too long", {"key": key}, code=codes.E_BAD_ARGUMENT)
    if choices is not None and val not in choices:
        raise ReaderFault(key + " is not an accepted value", {"key": key}, code=codes.E_BAD_ARGUMENT)
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
        raise ReaderFault(key + " has a bad number of items", {"key": key}, code=codes.E_BAD_ARGUMENT)
    return val


def get_map(body, key, default=REQUIRED):
    present, val = _get(body, key, default)
    if not present:
        return val
    if not isinstance(val, dict):
        raise _wrong(key, "a map")
    return val
