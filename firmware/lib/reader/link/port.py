"""Link layer: CBOR messages in frames over one Stream. No machine, no envelope semantics.

A Stream is the board's byte pipe: ``write(buf)`` writes everything, ``readinto(buf)`` returns
what is there without blocking (0 when nothing; EOFError when the peer is gone for good),
``poll(timeout_ms)`` says whether bytes are readable within the timeout.
"""

from micropython import const

from reader.link import cbor
from reader.link.codes import MAX_PAYLOAD
from reader.link.framing import Encoder, Receiver

_CHUNK = const(256)  # read size; the ESP32 stdin ring buffer is 260 bytes, the UART default 256


class Port:
    def __init__(self, stream, max_payload=MAX_PAYLOAD):
        self.stream = stream
        self.max_payload = max_payload
        self.rx = Receiver(max_payload)
        self._tx = Encoder(max_payload)
        self._chunk = bytearray(_CHUNK)
        self._pos = 0
        self._end = 0

    @property
    def frames_dropped(self):
        return self.rx.dropped

    def buffered(self):
        """Bytes read from the stream but not yet fed to the receiver."""
        return self._end - self._pos

    def write_raw(self, data):
        """Bytes outside any frame: the start-up banner and the leading delimiter (SPEC.md §1, §2)."""
        self.stream.write(data)

    def send(self, message):
        """Encode ``message`` (a dict) and send it as one frame; E_LIMIT when it is too big."""
        # Encoded in place in the frame encoder's buffer (framing.Encoder.work): a reply allocates
        # nothing payload-sized, so a fragmented heap cannot fail it for want of contiguous room.
        work = self._tx.work
        n = cbor.encode_into(work, message, self.max_payload)
        self._tx.write_frame(self.stream, work, n)

    def recv(self, timeout_ms=0):
        """The next complete payload (a memoryview valid until the next call), or None.

        Waits up to ``timeout_ms`` for the first bytes, then only takes what is already there.
        """
        while True:
            if self._pos < self._end:
                self._pos = self.rx.feed(self._chunk, self._pos, self._end)
                payload = self.rx.take()
                if payload is not None:
                    return payload
                continue
            if not self.stream.poll(timeout_ms):
                return None
            timeout_ms = 0
            n = self.stream.readinto(self._chunk)
            if not n:
                return None
            self._pos = 0
            self._end = n
