"""Simulator, pseudo-terminals: a raw pty pair whose slave path looks like a USB reader's port.

No firmware, no protocol: only file descriptors and termios.
"""

from __future__ import annotations

import os
import pty
import select
import tty


class PtyPair:
    """A pty pair in raw mode. The owner talks on :attr:`master`; a host opens :attr:`path`.

    One slave descriptor stays open for the pair's lifetime, so that a host closing (or never
    opening) the port does not make reads on the master fail with EIO.
    """

    def __init__(self) -> None:
        self.master, self._slave = pty.openpty()
        # Raw: no echo, no CR/LF translation, no signals from 0x03; every byte passes unchanged.
        tty.setraw(self._slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self._slave)
        self._closed = False

    def pending_output(self) -> bytes:
        """What the owner wrote that no host has read (e.g. a traceback printed at start-up)."""
        out = bytearray()
        while select.select([self._slave], [], [], 0)[0] and len(out) < 65536:
            try:
                chunk = os.read(self._slave, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def close(self) -> None:
        """Close both ends; a host that still has the port open then sees EIO (a disconnect)."""
        if self._closed:
            return
        self._closed = True
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
