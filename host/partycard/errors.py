"""The one error hierarchy of the partycard host library.

Every exception partycard raises on purpose derives from PartycardError. Adapters translate
third-party exceptions exactly once (``raise X(...) from e``): pyserial in ``transport``,
cryptography/asn1crypto in ``verify``, httpx in ``forward``.
"""

from __future__ import annotations


class PartycardError(Exception):
    """Root of every error partycard raises on purpose."""


# --- reader link -------------------------------------------------------------------------


class TransportError(PartycardError):
    """The byte stream to the reader failed (port missing, gone, I/O error). Raised by transport."""


class ReaderNotFound(TransportError):
    """The reader's port does not exist or cannot be opened. Raised by transport."""


class ReaderDisconnected(TransportError):
    """The reader went away while in use (unplugged, simulator stopped). Raised by transport."""


class ReaderTimeout(TransportError, TimeoutError):
    """No reply within the operation's budget (SPEC.md §6). Raised by the reader client."""


class ProtocolError(PartycardError):
    """Bytes arrived but are not a valid message. Raised by link."""


class FramingError(ProtocolError):
    """A frame failed COBS decoding, its length limit or its CRC (SPEC.md §2). Raised by link."""


class DecodeError(ProtocolError):
    """The payload is not strict deterministic CBOR or breaks the schema (SPEC.md §3). Raised by link."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        #: The protocol error code this failure corresponds to (E_CBOR, E_LIMIT, E_SCHEMA, ...).
        self.code = code


class VersionMismatch(ProtocolError):
    """The reader speaks a protocol version this host does not. Raised by the reader client."""


class DeviceError(PartycardError):
    """The reader answered with an error message (SPEC.md §5). Raised by the reader client."""

    def __init__(self, code: int, message: str, detail: dict[str, object] | None = None) -> None:
        self.code = code
        self.message = message
        self.detail = dict(detail or {})
        super().__init__(f"reader error 0x{code:02X} ({self.code_name}): {message}")

    @property
    def code_name(self) -> str:
        """The code's name from codes.toml, or UNKNOWN for a code this host does not know."""
        from partycard.link.codes import ErrorCode

        try:
            return ErrorCode(self.code).name
        except ValueError:
            return "UNKNOWN"


# --- card --------------------------------------------------------------------------------


class CardError(PartycardError):
    """The card could not be read as asked. Raised by card and by the reader client."""


class NoCard(CardError):
    """No card came within the timeout."""


class CardRemoved(CardError):
    """The card left the field during an operation; nothing partial was delivered."""


class APDUError(CardError):
    """The card answered with a status word the caller did not accept."""

    def __init__(self, sw: int, message: str = "", data: bytes = b"") -> None:
        self.sw = sw
        self.data = data
        super().__init__(f"SW={sw:04X}{' ' + message if message else ''}")


class SecureMessagingError(CardError):
    """A secure-messaging response failed its MAC or its structure (ICAO 9303-11 §9.8)."""


class AccessControlError(CardError):
    """BAC or PACE failed (wrong CAN/MRZ, unsupported parameters, card refused)."""


class CredentialsRequired(AccessControlError):
    """The card needs a CAN (PACE) or an MRZ key (PACE-MRZ, BAC) that was not given; nothing was tried.

    ``needs`` is "can" when the card offers PACE, "mrz" when only BAC can open it.
    """

    def __init__(self, message: str, needs: str) -> None:
        super().__init__(message)
        self.needs = needs


class ParseError(CardError):
    """A file read from the card (or a dump) does not parse as its format says."""


# --- verification ------------------------------------------------------------------------


class VerificationError(PartycardError):
    """A verification step failed; ``reason`` is a stable reason code (docs/reason-codes.md)."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}" if message else reason)


class SignatureInvalid(VerificationError):
    """A signature did not verify. Raised by verify's signature adapter."""


class CertificateInvalid(VerificationError):
    """A certificate or path is not acceptable (chain, validity, usage, revocation)."""


# --- forwarding --------------------------------------------------------------------------


class BackendError(PartycardError):
    """Delivering a result record failed. Raised by forward."""


class BackendUnavailable(BackendError):
    """Retryable: connection failure, timeout or 5xx."""


class BackendRejected(BackendError):
    """Not retryable: the backend refused the record (4xx)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"backend refused the record: HTTP {status}: {body[:200]}")


class OutboxError(PartycardError):
    """The outbox database is unusable (not durable, full, corrupt). Raised by forward."""


class RecordInvalid(PartycardError):
    """A result record (or the verdict it is built from) breaks the result-record schema.

    ``errors`` lists one ``"<json path>: <message>"`` line per violation. Raised by forward.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = list(errors or [])
        super().__init__(message + ("".join(f"\n  {e}" for e in self.errors[:5]) if self.errors else ""))


class ConfigError(PartycardError):
    """Invalid configuration or command-line input."""


class DenylistError(ConfigError):
    """A card-status denylist is unreadable or breaks docs/denylist-format.md. Raised by verify."""
