"""Protocol tools: reference of the reader's validation order (SPEC.md §3.2) after strict CBOR. Pure.

Given a payload that already passed strict_cbor, it names the first error the reader must answer
and the id and op the error must echo. The body step is delegated to reader.cddl; a request that
passes it gets the verdict "ok" here, since value ranges (E_BAD_ARGUMENT) are per op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import cbor2
from protocol.tools.wire import CODES

MAX_REQUEST_ID: int = CODES["limit"]["MAX_REQUEST_ID"]
KNOWN_OPS = frozenset(v for k, v in CODES["op"].items() if not k.startswith("EV_"))
# SPEC.md §3: keys each type must and must not carry (error: 2 and 3 are optional).
REQUIRED = {0: {0, 1, 2, 3, 4}, 1: {0, 1, 2, 3, 4}, 2: {0, 1, 2, 3, 4}, 3: {0, 1, 5}}
ALLOWED = {0: {0, 1, 2, 3, 4}, 1: {0, 1, 2, 3, 4}, 2: {0, 1, 2, 3, 4}, 3: {0, 1, 2, 3, 5}}


class ReaderVerdict(NamedTuple):
    """The reader's answer: an error name (or "ok") and the id and op it echoes (None when absent)."""

    error: str
    reply_id: int | None
    reply_op: str | None


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _echo(envelope: Any) -> tuple[int | None, str | None]:
    """Key 2 and key 3 when present with the right type (SPEC.md §3.2)."""
    if not isinstance(envelope, dict):
        return None, None
    rid, op = envelope.get(2), envelope.get(3)
    rid_ok = isinstance(rid, int) and _is_uint(rid) and rid <= MAX_REQUEST_ID
    return (rid if rid_ok else None), (op if isinstance(op, str) else None)


def _shape_ok(envelope: dict[Any, Any]) -> bool:
    kind = envelope.get(1)
    if not _is_uint(kind) or kind not in REQUIRED:
        return False
    keys = set(envelope)
    if not REQUIRED[kind] <= keys or not keys <= ALLOWED[kind]:
        return False
    rid_ok = 2 not in envelope or (_is_uint(envelope[2]) and envelope[2] <= MAX_REQUEST_ID)
    op_ok = 3 not in envelope or isinstance(envelope[3], str)
    body_ok = 4 not in envelope or isinstance(envelope[4], dict)
    return rid_ok and op_ok and body_ok


def triage(payload: bytes, cddl_complaint: Callable[[bytes], str | None]) -> ReaderVerdict:
    """Walk §3.2 in order over a strictly valid CBOR payload and return the first verdict."""
    envelope = cbor2.loads(payload)
    rid, op = _echo(envelope)
    version = envelope.get(0) if isinstance(envelope, dict) else None
    if _is_uint(version) and version != 1:
        return ReaderVerdict("E_VERSION", rid, op)
    if not isinstance(envelope, dict) or version != 1 or not _shape_ok(envelope) or envelope[1] != 0:
        return ReaderVerdict("E_SCHEMA", rid, op)
    if op not in KNOWN_OPS:
        return ReaderVerdict("E_UNKNOWN_OP", rid, op)
    if cddl_complaint(payload) is not None:
        return ReaderVerdict("E_SCHEMA", rid, op)
    return ReaderVerdict("E_BAD_ARGUMENT", rid, op)
