"""The vectors' strict CBOR check against RFC 8949 Appendix A and generated items (SPEC.md §3.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol.tools import strict_cbor
from protocol.tools.strict_cbor import MAX_DEPTH, MAX_ITEMS, CborReject

APPENDIX_A = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "cbor-appendix-a" / "appendix_a.json").read_text()
)


def _in_subset(item: Any) -> bool:
    """Oracle from cbor2's decoding: only the types SPEC.md §3.1 allows."""
    if isinstance(item, int) and not isinstance(item, bool):
        return -(2**64) <= item < 2**64  # cbor2 turns bignums (tag 2, 3) into ints
    if item is None or isinstance(item, bool | str | bytes):
        return True
    if isinstance(item, list):
        return all(_in_subset(x) for x in item)
    if isinstance(item, dict):
        return all(_in_subset(k) and _in_subset(v) for k, v in item.items())
    return False  # floats, tags, undefined, simple values


def _expected_ok(data: bytes) -> bool:
    try:
        item = cbor2.loads(data)
    except cbor2.CBORDecodeError:
        return False
    # An indefinite or non-shortest encoding does not survive canonical re-encoding.
    return _in_subset(item) and cbor2.dumps(item, canonical=True) == data


@pytest.mark.parametrize("case", APPENDIX_A, ids=[c["hex"][:24] for c in APPENDIX_A])
def test_appendix_a(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["hex"])
    if _expected_ok(data):
        strict_cbor.check(data)
    else:
        with pytest.raises(CborReject) as info:
            strict_cbor.check(data)
        assert info.value.error == "E_CBOR"


def test_appendix_a_has_both_outcomes() -> None:
    outcomes = {_expected_ok(bytes.fromhex(c["hex"])) for c in APPENDIX_A}
    assert outcomes == {True, False}


_leaf = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20)
    | st.booleans()
    | st.none()
)
_items = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=30,
)


def _depth(item: Any) -> int:
    if isinstance(item, list):
        return 1 + max((_depth(x) for x in item), default=0)
    if isinstance(item, dict):
        return 1 + max((_depth(x) for x in item.values()), default=0)
    return 0


@settings(max_examples=150, deadline=None)
@given(_items)
def test_generated_items(item: Any) -> None:
    data = cbor2.dumps(item, canonical=True)
    if _depth(item) > MAX_DEPTH:
        with pytest.raises(CborReject):
            strict_cbor.check(data)
    else:
        strict_cbor.check(data)
        with pytest.raises(CborReject, match="after the top-level item"):
            strict_cbor.check(data + b"\x00")
        if len(data) > 1:
            with pytest.raises(CborReject):
                strict_cbor.check(data[:-1])


def test_limits_at_the_edge() -> None:
    strict_cbor.check(cbor2.dumps(list(range(MAX_ITEMS))))
    with pytest.raises(CborReject, match="MAX_ITEMS"):
        strict_cbor.check(cbor2.dumps(list(range(MAX_ITEMS + 1))))
    nested: Any = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    strict_cbor.check(cbor2.dumps(nested))
    with pytest.raises(CborReject, match="MAX_DEPTH"):
        strict_cbor.check(cbor2.dumps([nested]))
