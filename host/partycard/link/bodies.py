"""Link layer, typed views of response bodies (SPEC.md §4). Pure: no I/O.

Each view reads the keys it knows and ignores the rest, so that a reader may add fields
(SPEC.md §3.2). A known key with the wrong type is a :class:`DecodeError` with E_SCHEMA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from partycard.errors import DecodeError
from partycard.link.codes import ErrorCode

_BOOT_ID_LEN = 8


def _schema(message: str) -> DecodeError:
    return DecodeError(message, code=ErrorCode.E_SCHEMA)


def bytes_field(body: Mapping[str, object], key: str) -> bytes:
    """``body[key]`` as bytes, or a schema error."""
    value = body.get(key)
    if not isinstance(value, bytes):
        raise _schema(f'response lacks a byte string "{key}"')
    return value


def optional_bytes_field(body: Mapping[str, object], key: str) -> bytes | None:
    """``body[key]`` as bytes, None if null or absent, else a schema error."""
    value = body.get(key)
    if value is not None and not isinstance(value, bytes):
        raise _schema(f'"{key}" is neither a byte string nor null')
    return value


def text_field(body: Mapping[str, object], key: str) -> str:
    """``body[key]`` as text, or a schema error."""
    value = body.get(key)
    if not isinstance(value, str):
        raise _schema(f'response lacks a text "{key}"')
    return value


def uint_field(body: Mapping[str, object], key: str) -> int:
    """``body[key]`` as an unsigned integer, or a schema error."""
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _schema(f'response lacks an unsigned integer "{key}"')
    return value


def bytes_list_field(body: Mapping[str, object], key: str) -> list[bytes]:
    """``body[key]`` as a list of byte strings, or a schema error."""
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, bytes) for v in value):
        raise _schema(f'response lacks an array of byte strings "{key}"')
    return [bytes(v) for v in value]


@dataclass(frozen=True)
class HelloInfo:
    """The reader's answer to ``hello`` (SPEC.md §4); ``raw`` keeps the whole body."""

    protocol: int
    firmware: str
    serial: str
    max_payload: int
    frontend: str | None
    ops: tuple[str, ...]
    boot_id: bytes
    board: str
    raw: Mapping[str, object]

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> HelloInfo:
        """Read a hello response body; unknown keys are kept in ``raw`` only."""
        frontend = body.get("frontend")
        if frontend is not None and not isinstance(frontend, str):
            raise _schema('"frontend" is neither text nor null')
        ops = body.get("ops")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise _schema('hello response lacks an array of texts "ops"')
        boot_id = bytes_field(body, "boot_id")
        if len(boot_id) != _BOOT_ID_LEN:
            raise _schema(f'"boot_id" has {len(boot_id)} bytes, not {_BOOT_ID_LEN}')
        max_payload = uint_field(body, "max_payload")
        if max_payload < 1024:
            raise _schema(f'"max_payload" {max_payload} is below the 1024 every reader must accept')
        return cls(
            protocol=uint_field(body, "protocol"),
            firmware=text_field(body, "firmware"),
            serial=text_field(body, "serial"),
            max_payload=max_payload,
            frontend=frontend,
            ops=tuple(str(o) for o in ops),
            boot_id=boot_id,
            board=text_field(body, "board"),
            raw=dict(body),
        )


@dataclass(frozen=True)
class CardInfo:
    """An activated card (``card.wait`` response and ``card.present`` event, SPEC.md §4)."""

    type: str
    uid: bytes
    ats: bytes | None
    atqb: bytes | None

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> CardInfo:
        """Read a card body; ``type`` is "A" or "B"."""
        kind = text_field(body, "type")
        if kind not in ("A", "B"):
            raise _schema(f'card "type" {kind!r} is neither "A" nor "B"')
        return cls(
            type=kind,
            uid=bytes_field(body, "uid"),
            ats=optional_bytes_field(body, "ats"),
            atqb=optional_bytes_field(body, "atqb"),
        )
