"""Backend layer: run the receiver with uvicorn, in the foreground (CLI) or in a thread (tests, demo).

``ReceiverServer`` binds its own loopback socket first, so port 0 gives a free port whose number is
known before uvicorn starts, and a stopped server can be started again on the same port (a backend
that goes down and comes back).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from partycard.backend.app import create_app
from partycard.backend.store import ResultStore, open_store
from partycard.errors import BackendError


@dataclass(frozen=True)
class TLSFiles:
    """Server certificate and key; with ``client_ca`` set, clients must present a certificate from it."""

    certfile: Path
    keyfile: Path
    client_ca: Path | None = None


def _config(app: Starlette, host: str, port: int, tls: TLSFiles | None) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
        ssl_certfile=str(tls.certfile) if tls else None,
        ssl_keyfile=str(tls.keyfile) if tls else None,
        ssl_ca_certs=str(tls.client_ca) if tls and tls.client_ca else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if tls and tls.client_ca else ssl.CERT_NONE,
    )


def serve(
    db_url: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    tls: TLSFiles | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Serve the receiver in the foreground until interrupted (``partycard backend serve``);
    ``say`` hears one line once the store is open, before the port is bound."""
    store = open_store(db_url)
    if say is not None:
        scheme = "https" if tls else "http"
        # A PostgreSQL URL may carry a password: only its scheme is repeated.
        shown = db_url if db_url.startswith("sqlite") else db_url.split("://", 1)[0] + "://..."
        say(f"receiver: {scheme}://{host}:{port}/v1/results, store {shown} (Ctrl-C stops it; -v logs each request)")
    try:
        uvicorn.Server(_config(create_app(store), host, port, tls)).run()
    finally:
        store.close()


class ReceiverServer:
    """The receiver on a loopback port in a background thread: ``.start()``, ``.url``, ``.stop()``."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        store: ResultStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TLSFiles | None = None,
    ) -> None:
        if (db_url is None) == (store is None):
            raise BackendError("give exactly one of db_url and store")
        self._owns_store = store is None
        self.store: ResultStore = store if store is not None else open_store(db_url or "")
        self.host = host
        self.port = port
        self.tls = tls
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (``https`` when served with TLS)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> ReceiverServer:
        """Bind, start uvicorn in a daemon thread and wait until it accepts connections."""
        if self._thread is not None:
            raise BackendError("receiver already running")
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP, and without it every response waits out the peer's delayed ACK (~40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise BackendError(f"cannot bind {self.host}:{self.port}: {exc}") from exc
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(_config(create_app(self.store), self.host, self.port, self.tls))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="receiver", daemon=True)
        thread.start()
        end = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > end:
                server.should_exit = True
                sock.close()
                raise BackendError("receiver did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self, close_store: bool = True, timeout_s: float = 10.0) -> None:
        """Stop serving (the port is free again afterwards); closes a store it opened itself."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout_s)
        self._server = self._thread = None
        if close_store and self._owns_store:
            self.store.close()

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
