"""Transport layer, serial adapter: the only module that imports pyserial. No framing, no messages.

pyserial's exceptions are translated here, once: a port that cannot be opened becomes
:class:`ReaderNotFound`, a port that fails in use becomes :class:`ReaderDisconnected`, a write that
cannot drain becomes :class:`ReaderTimeout`.
"""

from __future__ import annotations

import errno
import logging
import select

import serial

from partycard.errors import ReaderDisconnected, ReaderNotFound, ReaderTimeout

log = logging.getLogger(__name__)

_WRITE_TIMEOUT_S = 5.0
# The read size is bounded so that one call never allocates more than a few frames' worth.
_READ_CHUNK = 8192


class SerialTransport:
    """A serial port (USB-CDC, UART bridge or pseudo-terminal) opened exclusively, raw 8N1."""

    def __init__(self, port: str, *, baudrate: int = 115200, exclusive: bool = True) -> None:
        self.port = port
        try:
            self._serial = serial.Serial(
                port,
                baudrate=baudrate,
                timeout=0,  # reads never block inside pyserial; read() waits in select()
                write_timeout=_WRITE_TIMEOUT_S,
                exclusive=exclusive,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderNotFound(f"cannot open reader port {port}: {exc}") from exc
        self._closed = False
        log.debug("opened %s at %d baud", port, baudrate)

    @classmethod
    def from_serial(cls, ser: serial.Serial) -> SerialTransport:
        """Wrap a pyserial object that someone else opened (e.g. pytest-embedded's DUT port)."""
        self = cls.__new__(cls)
        self.port = str(ser.port)
        ser.timeout = 0
        ser.write_timeout = _WRITE_TIMEOUT_S
        self._serial = ser
        self._closed = False
        return self

    def read(self, timeout_s: float) -> bytes:
        """Bytes available within ``timeout_s`` (``b""`` if none)."""
        self._check_open()
        try:
            ready, _, _ = select.select([self._serial.fileno()], [], [], max(0.0, timeout_s))
            if not ready:
                return b""
            data: bytes = self._serial.read(min(max(1, self._serial.in_waiting), _READ_CHUNK))
        except (serial.SerialException, OSError, ValueError, TypeError) as exc:
            raise ReaderDisconnected(f"reader port {self.port} failed: {exc}") from exc
        if not data:
            # select() said readable but nothing came: the other end hung up.
            raise ReaderDisconnected(f"reader port {self.port} hung up")
        return data

    def write(self, data: bytes) -> None:
        """Send ``data`` completely."""
        self._check_open()
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException as exc:
            raise ReaderTimeout(f"reader port {self.port} accepted no data for {_WRITE_TIMEOUT_S} s") from exc
        except (serial.SerialException, OSError, ValueError, TypeError) as exc:
            raise ReaderDisconnected(f"reader port {self.port} failed: {exc}") from exc

    def close(self) -> None:
        """Close the port; harmless if already closed."""
        if self._closed:
            return
        self._closed = True
        try:
            self._serial.close()
        except (serial.SerialException, OSError) as exc:
            if getattr(exc, "errno", None) not in (errno.EIO, errno.EBADF, None):
                log.debug("closing %s: %s", self.port, exc)

    def _check_open(self) -> None:
        if self._closed:
            raise ReaderDisconnected(f"reader port {self.port} is closed")
