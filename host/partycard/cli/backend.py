"""CLI shell: ``partycard backend serve`` runs the reference receiver; argument parsing only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from partycard.cli._argtypes import tcp_port
from partycard.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add ``backend serve`` to the top-level parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "backend", help="the reference receiver of result records"
    )
    sub = parser.add_subparsers(dest="backend_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve POST /v1/results, GET /v1/results, /openapi.json, /healthz")
    serve.add_argument("--db", default="sqlite:///partycard-results.sqlite3",
                       help="sqlite:///PATH (default: ./partycard-results.sqlite3) or postgresql://…")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=tcp_port, default=8000, help="TCP port (default: 8000)")
    serve.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate")
    serve.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    serve.add_argument("--client-ca", type=Path, help="require client certificates issued by this CA (PEM)")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from partycard.backend.server import TLSFiles, serve

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together")
    if args.client_ca is not None and args.tls_cert is None:
        raise ConfigError("--client-ca needs --tls-cert/--tls-key")
    tls = TLSFiles(args.tls_cert, args.tls_key, args.client_ca) if args.tls_cert is not None else None
    serve(args.db, args.host, args.port, tls, say=lambda line: print(line, file=sys.stderr, flush=True))
    return 0
