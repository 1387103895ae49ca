"""An in-memory Stream pair for the dispatcher tests: what the host writes, the reader reads.

What the reader writes is decoded as it arrives (no growing byte buffer), so a test holds only the
decoded replies, as a host would.
"""

from reader.link import cbor, codes
from reader.link.framing import Encoder, Receiver


class MemStream:
    """The reader's side: ``inbox`` holds bytes from the host; writes go to ``on_write``."""

    def __init__(self):
        self.inbox = bytearray()
        self.on_write = None

    def write(self, buf):
        self.on_write(buf)

    def poll(self, timeout_ms):
        return len(self.inbox) > 0

    def readinto(self, buf):
        n = min(len(buf), len(self.inbox))
        buf[:n] = self.inbox[:n]
        self.inbox[:n] = b""
        return n

    def set_baudrate(self, baud):
        pass

    def close(self):
        pass


class Host:
    """Sends requests into a MemStream and collects the reader's decoded replies."""

    def __init__(self, stream, max_payload=600):
        # Small host-side buffers by default: most tests' messages are short, the heap is small.
        self.stream = stream
        self._tx = Encoder(max_payload)
        self._rx = Receiver(max_payload)
        self._replies = []
        stream.on_write = self._received

    def send(self, ident, op, body, version=codes.PROTOCOL_VERSION):
        msg = {0: version, 1: codes.T_REQUEST, 2: ident, 3: op, 4: body}
        self._tx.write_frame(self, cbor.encode(msg))

    def send_payload(self, payload):
        self._tx.write_frame(self, payload)

    def write(self, buf):
        self.stream.inbox.extend(buf)

    def _received(self, buf):
        data = bytes(buf)
        pos = 0
        while pos < len(data):
            pos = self._rx.feed(data, pos)
            p = self._rx.take()
            if p is not None:
                self._replies.append(cbor.decode(p))

    def replies(self):
        out = self._replies
        self._replies = []
        return out
