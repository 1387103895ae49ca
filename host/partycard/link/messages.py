"""Link layer, messages: the envelope of SPEC.md §3 as frozen dataclasses. Pure: no I/O, no framing.

``from_payload`` validates a payload against the envelope table of SPEC.md §3 and returns one of
:class:`Request`, :class:`Response`, :class:`Event` or :class:`ErrorMessage`; every failure is a
:class:`DecodeError` carrying the protocol code the reader would answer with. Bodies are kept as
plain dicts: the typed views of individual ops live in the client, which ignores keys it does not
know (SPEC.md §3.2, last paragraph).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from partycard.errors import DecodeError, ProtocolError
from partycard.link import codec
from partycard.link.codes import (
    MAX_KEY_LEN,
    MAX_MESSAGE_LEN,
    MAX_REQUEST_ID,
    PROTOCOL_VERSION,
    EnvelopeKey,
    ErrorCode,
    MessageType,
)

Body = dict[str, object]
_M = TypeVar("_M", "Request", "Response", "Event", "ErrorMessage")

_ALL_KEYS: Final = frozenset(int(k) for k in EnvelopeKey)
_TYPES: Final = {int(t): t for t in MessageType}
# SPEC.md §3, second table: which envelope keys each type must and must not carry.
_REQUIRED: Final = {
    MessageType.REQUEST: {0, 1, 2, 3, 4},
    MessageType.RESPONSE: {0, 1, 2, 3, 4},
    MessageType.EVENT: {0, 1, 2, 3, 4},
    MessageType.ERROR: {0, 1, 5},
}
_FORBIDDEN: Final = {
    MessageType.REQUEST: {5},
    MessageType.RESPONSE: {5},
    MessageType.EVENT: {5},
    MessageType.ERROR: {4},
}


def _schema(message: str) -> DecodeError:
    return DecodeError(message, code=ErrorCode.E_SCHEMA)


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _encode_envelope(fields: dict[int, object]) -> bytes:
    return codec.encode({int(EnvelopeKey.VERSION): PROTOCOL_VERSION, **fields})


def _body_payload(kind: MessageType, number: int, op: str, body: Body) -> bytes:
    """Requests, responses and events share one shape: id (or sequence number), op and body."""
    _check_id(number)
    _check_body(body)
    return _encode_envelope({1: kind.value, 2: number, 3: op, 4: body})


def _check_id(value: int) -> None:
    if not 0 <= value <= MAX_REQUEST_ID:
        raise ProtocolError(f"id {value} is outside 0..{MAX_REQUEST_ID}")


@dataclass(frozen=True)
class Request:
    """A request from the host (type 0)."""

    id: int
    op: str
    body: Body = field(default_factory=dict)

    def to_payload(self) -> bytes:
        """The CBOR payload of this request."""
        return _body_payload(MessageType.REQUEST, self.id, self.op, self.body)

    @classmethod
    def from_payload(cls, payload: bytes) -> Request:
        """Decode ``payload`` and require it to be a request."""
        return _expect(from_payload(payload), cls)


@dataclass(frozen=True)
class Response:
    """A response from the reader (type 1), echoing the request's id and op."""

    id: int
    op: str
    body: Body = field(default_factory=dict)

    def to_payload(self) -> bytes:
        """The CBOR payload of this response."""
        return _body_payload(MessageType.RESPONSE, self.id, self.op, self.body)

    @classmethod
    def from_payload(cls, payload: bytes) -> Response:
        """Decode ``payload`` and require it to be a response."""
        return _expect(from_payload(payload), cls)


@dataclass(frozen=True)
class Event:
    """An unsolicited event from the reader (type 2); ``seq`` grows by one per event (SPEC.md §4)."""

    seq: int
    op: str
    body: Body = field(default_factory=dict)

    def to_payload(self) -> bytes:
        """The CBOR payload of this event."""
        return _body_payload(MessageType.EVENT, self.seq, self.op, self.body)

    @classmethod
    def from_payload(cls, payload: bytes) -> Event:
        """Decode ``payload`` and require it to be an event."""
        return _expect(from_payload(payload), cls)


@dataclass(frozen=True)
class ErrorMessage:
    """An error from the reader (type 3). ``code`` stays a number even when this host does not know it."""

    code: int
    message: str
    detail: Body = field(default_factory=dict)
    id: int | None = None
    op: str | None = None

    @property
    def known_code(self) -> ErrorCode | None:
        """The code as an :class:`ErrorCode`, or None for a code from a newer reader (SPEC.md §5)."""
        try:
            return ErrorCode(self.code)
        except ValueError:
            return None

    def to_payload(self) -> bytes:
        """The CBOR payload of this error."""
        fields: dict[int, object] = {1: MessageType.ERROR.value}
        if self.id is not None:
            _check_id(self.id)
            fields[2] = self.id
        if self.op is not None:
            fields[3] = self.op
        fields[5] = {**self.detail, "code": self.code, "message": self.message}
        return _encode_envelope(fields)

    @classmethod
    def from_payload(cls, payload: bytes) -> ErrorMessage:
        """Decode ``payload`` and require it to be an error."""
        return _expect(from_payload(payload), cls)


Message = Request | Response | Event | ErrorMessage


def _expect(message: Message, cls: type[_M]) -> _M:
    if not isinstance(message, cls):
        raise _schema(f"expected a {cls.__name__.lower()}, got a {type(message).__name__.lower()}")
    return message


def _check_body(body: Mapping[str, object]) -> None:
    for key in body:
        if not isinstance(key, str) or len(key.encode("utf-8")) > MAX_KEY_LEN:
            raise ProtocolError(f"body key {key!r} is not text of at most {MAX_KEY_LEN} bytes")


def from_payload(payload: bytes) -> Message:
    """Decode and validate one payload (SPEC.md §3, §3.1). Raises :class:`DecodeError`."""
    envelope = codec.decode(payload)
    if not isinstance(envelope, dict):
        raise _schema("the envelope is not a map")
    kind = _envelope_kind(envelope)
    if kind is MessageType.ERROR:
        return _error_message(envelope)
    ident = _read_id(envelope)
    op = _read_op(envelope)
    body = _read_body(envelope.get(4))
    if ident is None or op is None:  # unreachable: _envelope_kind required keys 2 and 3
        raise _schema("envelope lacks id or op")
    if kind is MessageType.REQUEST:
        return Request(ident, op, body)
    if kind is MessageType.RESPONSE:
        return Response(ident, op, body)
    return Event(ident, op, body)


def _envelope_kind(envelope: dict[object, object]) -> MessageType:
    version = envelope.get(0)
    if _is_uint(version) and version != PROTOCOL_VERSION:
        raise DecodeError(f"protocol version {version} is not supported", code=ErrorCode.E_VERSION)
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise _schema("envelope key 0 (version) is missing or not an unsigned integer")
    unknown = [k for k in envelope if not _is_uint(k) or k not in _ALL_KEYS]
    if unknown:
        raise _schema(f"unknown envelope keys {unknown!r}")
    raw_type = envelope.get(1)
    if not isinstance(raw_type, int) or isinstance(raw_type, bool) or raw_type not in _TYPES:
        raise _schema(f"envelope key 1 (type) {raw_type!r} is not a message type")
    kind = _TYPES[raw_type]
    keys = {k for k in envelope if isinstance(k, int)}
    if not _REQUIRED[kind] <= keys:
        raise _schema(f"{kind.name.lower()} lacks envelope keys {sorted(_REQUIRED[kind] - keys)}")
    if keys & _FORBIDDEN[kind]:
        extra = sorted(keys & _FORBIDDEN[kind])
        raise _schema(f"{kind.name.lower()} carries forbidden envelope keys {extra}")
    return kind


def _read_id(envelope: dict[object, object]) -> int | None:
    ident = envelope.get(2)
    if ident is None and 2 not in envelope:
        return None
    if not _is_uint(ident) or not isinstance(ident, int) or ident > MAX_REQUEST_ID:
        raise _schema(f"envelope key 2 (id) {ident!r} is not an unsigned integer up to {MAX_REQUEST_ID}")
    return ident


def _read_op(envelope: dict[object, object]) -> str | None:
    if 3 not in envelope:
        return None
    op = envelope[3]
    if not isinstance(op, str):
        raise _schema("envelope key 3 (op) is not text")
    return op


def _read_body(raw: object) -> Body:
    if not isinstance(raw, dict):
        raise _schema("envelope key 4 (body) is not a map")
    body: Body = {}
    for key, value in raw.items():
        if not isinstance(key, str) or len(key.encode("utf-8")) > MAX_KEY_LEN:
            raise _schema(f"body key {key!r} is not text of at most {MAX_KEY_LEN} bytes")
        body[key] = value
    return body


def _error_message(envelope: dict[object, object]) -> ErrorMessage:
    ident = _read_id(envelope)
    op = _read_op(envelope)
    raw = envelope[5]
    if not isinstance(raw, dict):
        raise _schema("envelope key 5 (error) is not a map")
    code = raw.get("code")
    message = raw.get("message")
    if not _is_uint(code) or not isinstance(code, int):
        raise _schema("error map lacks an unsigned \"code\"")
    if not isinstance(message, str) or len(message.encode("utf-8")) > MAX_MESSAGE_LEN:
        raise _schema(f"error map lacks a \"message\" text of at most {MAX_MESSAGE_LEN} bytes")
    # SPEC.md §3.2: the host ignores keys it does not know; text keys are kept as detail.
    detail = {k: v for k, v in raw.items() if isinstance(k, str) and k not in ("code", "message")}
    return ErrorMessage(code, message, detail, ident, op)
