"""Protocol tools: the JSON value encoding, diagnostic notation and session matchers of vectors/README.md.

Pure: no I/O. Python side of a CBOR item: int, bool, None, str, bytes, list, dict.
"""

from __future__ import annotations

import json
from typing import Any

import cbor2

# One JSON value of vectors/README.md "Value encoding"; JSON has no type narrower than this.
Json = Any

ANY_TYPES = ("uint", "nint", "int", "bstr", "tstr", "bool", "null", "array", "map", "any")


class VectorFormatError(ValueError):
    """A vector file does not follow vectors/README.md."""


def encode(obj: object) -> bytes:
    """Deterministic CBOR (RFC 8949 §4.2.1) of a Python item."""
    return bytes(cbor2.dumps(obj, canonical=True))


def _key_order(key: object) -> bytes:
    return encode(key)


def to_json(obj: object) -> Json:
    """Python item to its JSON value encoding; map entries in the order of their encoded keys."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, bytes):
        return {"$bytes": obj.hex()}
    if isinstance(obj, list):
        return [to_json(item) for item in obj]
    if isinstance(obj, dict):
        keys = sorted(obj, key=_key_order)
        return {"$map": [[to_json(k), to_json(obj[k])] for k in keys]}
    raise VectorFormatError(f"type {type(obj).__name__} is outside the protocol's CBOR subset")


def from_json(value: Json) -> Any:
    """JSON value encoding to the Python item; raise VectorFormatError on anything else."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list):
        return [from_json(item) for item in value]
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return bytes.fromhex(value["$bytes"])
    if isinstance(value, dict) and set(value) == {"$map"}:
        out: dict[Any, Any] = {}
        for pair in value["$map"]:
            key = from_json(pair[0])
            if key in out:
                raise VectorFormatError(f"duplicate map key {key!r}")
            out[key] = from_json(pair[1])
        return out
    raise VectorFormatError(f"not a value encoding: {json.dumps(value)[:80]}")


def diag(obj: object) -> str:
    """RFC 8949 §8 diagnostic notation, maps in encoded-key order."""
    if obj is None or isinstance(obj, bool | int | str):
        # JSON spells null, true, false, integers and text strings as §8 does.
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, bytes):
        return f"h'{obj.hex()}'"
    if isinstance(obj, list):
        return "[" + ", ".join(diag(item) for item in obj) + "]"
    if isinstance(obj, dict):
        keys = sorted(obj, key=_key_order)
        return "{" + ", ".join(f"{diag(k)}: {diag(obj[k])}" for k in keys) + "}"
    raise VectorFormatError(f"type {type(obj).__name__} is outside the protocol's CBOR subset")


def _type_ok(kind: str, obj: object) -> bool:
    is_int = isinstance(obj, int) and not isinstance(obj, bool)
    checks: dict[str, bool] = {
        "uint": is_int and obj >= 0,  # type: ignore[operator]
        "nint": is_int and obj < 0,  # type: ignore[operator]
        "int": is_int,
        "bstr": isinstance(obj, bytes),
        "tstr": isinstance(obj, str),
        "bool": isinstance(obj, bool),
        "null": obj is None,
        "array": isinstance(obj, list),
        "map": isinstance(obj, dict),
        "any": True,
    }
    if kind not in checks:
        raise VectorFormatError(f"unknown $any type {kind!r}")
    return checks[kind]


def _size_ok(size: Json, obj: object) -> bool:
    length = len(obj.encode("utf-8")) if isinstance(obj, str) else len(obj)  # type: ignore[arg-type]
    if isinstance(size, list):
        return bool(size[0] <= length <= size[1])
    return bool(length == size)


def _match_any(matcher: dict[str, Json], obj: object, path: str) -> list[str]:
    if not _type_ok(matcher["$any"], obj):
        return [f"{path}: expected {matcher['$any']}, got {diag(obj)[:60]}"]
    if "size" in matcher and not _size_ok(matcher["size"], obj):
        return [f"{path}: size of {diag(obj)[:60]} is not {matcher['size']}"]
    if "min" in matcher and obj < matcher["min"]:
        return [f"{path}: {obj} is below {matcher['min']}"]
    return []


def _match_map(pairs: list[Json], obj: object, path: str, *, exact: bool) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: expected a map, got {diag(obj)[:60]}"]
    problems: list[str] = []
    wanted = {}
    for key_json, sub in pairs:
        key = from_json(key_json)
        wanted[key] = sub
        if key not in obj:
            problems.append(f"{path}: key {diag(key)} missing")
            continue
        problems += match(sub, obj[key], f"{path}[{diag(key)}]")
    if exact:
        problems += [f"{path}: unexpected key {diag(k)}" for k in obj if k not in wanted]
    return problems


def _match_one_of(options: list[Json], obj: object, path: str) -> list[str]:
    if any(not match(option, obj, path) for option in options):
        return []
    return [f"{path}: {diag(obj)[:60]} matches none of the choices"]


def _match_array_with(values: list[Json], obj: object, path: str) -> list[str]:
    if not isinstance(obj, list):
        return [f"{path}: expected an array, got {diag(obj)[:60]}"]
    return [f"{path}: {diag(from_json(v))} missing" for v in values if from_json(v) not in obj]


def _match_array(matchers: list[Json], obj: object, path: str) -> list[str]:
    if not isinstance(obj, list) or len(obj) != len(matchers):
        return [f"{path}: expected an array of {len(matchers)}, got {diag(obj)[:60]}"]
    return [
        p for i, (m, o) in enumerate(zip(matchers, obj, strict=True)) for p in match(m, o, f"{path}[{i}]")
    ]


_KEYED: dict[str, Any] = {
    "$map": lambda pairs, obj, path: _match_map(pairs, obj, path, exact=True),
    "$map_with": lambda pairs, obj, path: _match_map(pairs, obj, path, exact=False),
    "$one_of": _match_one_of,
    "$array_with": _match_array_with,
}


def match(matcher: Json, obj: object, path: str = "$") -> list[str]:
    """Compare a received item with a session matcher; return the mismatches (empty when it matches).

    Matchers (vectors/README.md "Sessions"): any value encoding (equality); {"$any": type} with
    optional "size" (n or [min, max]) and "min"; {"$map": pairs} (exact key set) and
    {"$map_with": pairs} (at least these keys), whose values are matchers; {"$one_of": [matchers]};
    {"$array_with": [values]} (an array holding each value).
    """
    if isinstance(matcher, dict) and "$any" in matcher:
        return _match_any(matcher, obj, path)
    if isinstance(matcher, dict) and len(matcher) == 1 and next(iter(matcher)) in _KEYED:
        key = next(iter(matcher))
        problems: list[str] = _KEYED[key](matcher[key], obj, path)
        return problems
    if isinstance(matcher, list):
        return _match_array(matcher, obj, path)
    expected = from_json(matcher)
    # type() too: in Python True == 1, on the wire they differ.
    if type(expected) is not type(obj) or expected != obj:
        return [f"{path}: expected {diag(expected)[:60]}, got {diag(obj)[:60]}"]
    return []


def example(matcher: Json) -> Any:
    """The simplest item a matcher accepts, used to check that a session's matchers fit reader.cddl."""
    if isinstance(matcher, dict) and "$any" in matcher:
        size = matcher.get("size", 0)
        length = size[0] if isinstance(size, list) else size
        kind = matcher["$any"]
        samples: dict[str, Any] = {
            "uint": matcher.get("min", 0),
            "nint": -1,
            "int": 0,
            "bstr": bytes(length),
            "tstr": "x" * length,
            "bool": False,
            "null": None,
            "array": [],
            "map": {},
            "any": None,
        }
        return samples[kind]
    if isinstance(matcher, dict) and set(matcher) in ({"$map"}, {"$map_with"}):
        return {from_json(k): example(m) for k, m in next(iter(matcher.values()))}
    if isinstance(matcher, dict) and set(matcher) == {"$one_of"}:
        return example(matcher["$one_of"][0])
    if isinstance(matcher, dict) and set(matcher) == {"$array_with"}:
        return [from_json(v) for v in matcher["$array_with"]]
    if isinstance(matcher, list):
        return [example(m) for m in matcher]
    return from_json(matcher)
