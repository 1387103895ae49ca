"""Request-body helpers: E_SCHEMA for shape (SPEC.md §3.2), E_BAD_ARGUMENT for range."""

from reader.errors import ReaderFault
from reader.link import codes
from reader.link.schema import (
    REQUIRED,
    check_keys,
    get_bool,
    get_bstr,
    get_list,
    get_map,
    get_tstr,
    get_uint,
)


def _fault(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ReaderFault as exc:
        assert exc.code == code, (exc.code, code)
        return exc
    raise AssertionError(f"no fault 0x{code:02X}")


def test_check_keys():
    check_keys({}, ())
    check_keys({"a": 1}, ("a", "b"))
    exc = _fault(codes.E_SCHEMA, check_keys, {"a": 1, "c": 2}, ("a",))
    assert exc.detail == {"key": "c"}
    _fault(codes.E_SCHEMA, check_keys, [], ())


def test_get_uint():
    body = {"n": 5, "neg": -1, "t": "5", "b": True, "big": (1 << 64) - 1}
    assert get_uint(body, "n") == 5
    assert get_uint(body, "big") == (1 << 64) - 1
    assert get_uint(body, "missing", 7) == 7
    assert get_uint(body, "missing", None) is None
    _fault(codes.E_SCHEMA, get_uint, body, "missing")
    _fault(codes.E_SCHEMA, get_uint, body, "neg")
    _fault(codes.E_SCHEMA, get_uint, body, "t")
    _fault(codes.E_SCHEMA, get_uint, body, "b")
    assert get_uint(body, "n", lo=5, hi=5) == 5
    _fault(codes.E_BAD_ARGUMENT, get_uint, body, "n", hi=4)
    _fault(codes.E_BAD_ARGUMENT, get_uint, body, "n", lo=6)


def test_get_bstr_and_tstr():
    body = {"b": b"\x00\x01", "t": "h\u00e9", "i": 3}
    assert get_bstr(body, "b") == b"\x00\x01"
    assert get_bstr(body, "x", b"") == b""
    _fault(codes.E_SCHEMA, get_bstr, body, "t")
    _fault(codes.E_SCHEMA, get_bstr, body, "i")
    _fault(codes.E_BAD_ARGUMENT, get_bstr, body, "b", max_len=1)
    _fault(codes.E_BAD_ARGUMENT, get_bstr, body, "b", min_len=3)
    assert get_tstr(body, "t", max_len=3) == "h\u00e9"
    _fault(codes.E_BAD_ARGUMENT, get_tstr, body, "t", max_len=2)  # three UTF-8 bytes
    _fault(codes.E_SCHEMA, get_tstr, body, "b")
    assert get_tstr(body, "t", choices=("h\u00e9", "x")) == "h\u00e9"
    _fault(codes.E_BAD_ARGUMENT, get_tstr, body, "t", choices=("x",))


def test_get_bool_map_list():
    body = {"y": True, "z": 0, "m": {"k": 1}, "l": [b"a", b""], "u": [1, 0x9000], "mix": [1, b"a"]}
    assert get_bool(body, "y") is True
    _fault(codes.E_SCHEMA, get_bool, body, "z")
    assert get_map(body, "m") == {"k": 1}
    _fault(codes.E_SCHEMA, get_map, body, "l")
    assert get_list(body, "l", "bstr") == [b"a", b""]
    assert get_list(body, "u", "uint") == [1, 0x9000]
    assert get_list(body, "none", "uint", default=None) is None
    _fault(codes.E_SCHEMA, get_list, body, "mix", "uint")
    _fault(codes.E_SCHEMA, get_list, body, "mix", "bstr")
    _fault(codes.E_SCHEMA, get_list, body, "m", "bstr")
    _fault(codes.E_BAD_ARGUMENT, get_list, body, "l", "bstr", max_items=1)
    _fault(codes.E_BAD_ARGUMENT, get_list, body, "l", "bstr", min_items=3)
    _fault(codes.E_SCHEMA, get_list, body, "absent", "bstr", default=REQUIRED)
