"""Board layer, unix port: the PN532 on an AF_UNIX stream socket (the simulator's virtual one,
speaking HSU frames). Imported only when PARTYCARD_PN532_SOCKET names one: on the unix port loaded
code lives in the heap, and a reader without a front-end has no use for it.
"""

import socket
import struct
import sys

from reader.boards import Poller

_EAGAIN = 11


class SocketStream:
    """A connected AF_UNIX stream socket as a Stream. The PN532 side closing reads as silence."""

    def __init__(self, path):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if sys.implementation.name == "micropython":
            # MicroPython's connect() takes a raw sockaddr: sockaddr_un is the family in host
            # byte order followed by the NUL-terminated path.
            self._sock.connect(struct.pack("H", socket.AF_UNIX) + path.encode("utf-8") + b"\x00")
        else:
            self._sock.connect(path)
        self._sock.setblocking(False)
        self._poll = Poller(self._sock)
        self._recv_into = getattr(self._sock, "recv_into", None)
        self._eof = False
        self.baudrate = 115200

    def poll(self, timeout_ms):
        if self._eof:
            return False
        return self._poll.readable(timeout_ms)

    def readinto(self, buf):
        if self._eof:
            return 0
        try:
            n = self._recv_into(buf) if self._recv_into is not None else self._sock.readinto(buf)
        except OSError as exc:
            if exc.args and exc.args[0] == _EAGAIN:
                return 0
            raise
        if n is None:
            return 0  # MicroPython: nothing there on a non-blocking socket
        if n == 0:
            self._eof = True
        return n

    def write(self, buf):
        mv = memoryview(buf)
        while len(mv) > 0:
            try:
                n = self._sock.send(mv)
            except OSError as exc:
                if not exc.args or exc.args[0] != _EAGAIN:
                    raise
                n = 0
            if n:
                mv = mv[n:]

    def set_baudrate(self, baud):
        self.baudrate = baud  # a socket has no line rate; kept so the bus can read it back

    def close(self):
        self._sock.close()
