"""Forward layer: the HTTPS sender that drains the outbox; the only module that imports httpx.

Delivery is at-least-once: a record is marked sent only after the backend's 2xx, so a process
killed between the 2xx and the commit sends the record again, with the same ``Idempotency-Key``,
and the receiver deduplicates. 2xx → sent; 4xx other than 408/429 → dead letter with the reason;
5xx, 408, 429, other statuses and network/TLS errors → retry with exponential backoff and full
jitter, capped, and never sooner than ``Retry-After`` (RFC 9110 §10.2.3) says.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from partycard import __version__
from partycard.errors import BackendError, BackendRejected, BackendUnavailable, ConfigError
from partycard.forward.outbox import MAX_RETRY_DELAY_S, Outbox, OutboxEntry

log = logging.getLogger(__name__)

RESULTS_PATH = "/v1/results"
_RETRYABLE_4XX = frozenset({408, 429})
_MAX_RETRY_AFTER_S = MAX_RETRY_DELAY_S


@dataclass(frozen=True)
class SenderConfig:
    """Where and how to deliver. ``backend_url`` is the base URL (``/v1/results`` is appended)."""

    backend_url: str
    ca_bundle: Path | None = None  # PEM file of the CAs to trust instead of the system store
    client_cert: Path | None = None  # PEM client certificate (may hold the key too)
    client_key: Path | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 60.0
    min_retry_interval_s: float = 0.2  # floor under the jittered delay: no busy loop, ever
    batch_size: int = 32

    def __post_init__(self) -> None:
        if not self.backend_url.startswith(("https://", "http://")):
            raise ConfigError(f"backend URL must be http(s)://…, not {self.backend_url!r}")
        if self.client_key is not None and self.client_cert is None:
            raise ConfigError("a client key needs a client certificate")
        if not 0 < self.backoff_base_s <= self.backoff_cap_s or self.min_retry_interval_s <= 0:
            raise ConfigError("backoff: need 0 < base <= cap and a positive minimum retry interval")

    @property
    def results_url(self) -> str:
        """The full URL records are POSTed to."""
        return self.backend_url.rstrip("/") + RESULTS_PATH


@dataclass
class DrainResult:
    """What one ``drain`` call did."""

    attempts: int = 0
    sent: int = 0
    dead: int = 0
    retried: int = 0
    pending_left: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt."""

    kind: Literal["sent", "dead", "retry"]
    detail: str  # stored with the record (may quote the backend's answer); not logged by default
    status: int | None = None
    retry_after_s: float | None = None
    summary: str = ""  # safe for logs: the status code or the exception class, never a body

    def loggable(self) -> str:
        """What goes into WARNING/ERROR logs: no response body, which could echo personal data."""
        return self.summary or (f"HTTP {self.status}" if self.status is not None else self.kind)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(int(text)), _MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 §5.6.7: HTTP-date is always GMT
        return None
    now = time.time() if now is None else now
    return min(max(0.0, when.timestamp() - now), _MAX_RETRY_AFTER_S)


def backoff_delay_s(failures: int, config: SenderConfig, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(failures-1))], floored."""
    ceiling = min(config.backoff_cap_s, config.backoff_base_s * (2.0 ** min(max(failures - 1, 0), 30)))
    return max(config.min_retry_interval_s, rng.uniform(0.0, ceiling))


class Sender:
    """Drains an ``Outbox`` to the backend, in the caller's thread (``drain``) or in a background thread."""

    def __init__(self, outbox: Outbox, config: SenderConfig, *, rng: random.Random | None = None) -> None:
        self.outbox = outbox
        self.config = config
        self._rng = rng or random.SystemRandom()
        self._client = _make_client(config)
        self._failures = 0  # consecutive retryable failures, backend-wide
        # No attempt at all before this (backend-wide backoff), on the monotonic clock: a wall-clock
        # step must neither stall delivery nor hammer the backend.
        self._blocked_until = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.total_attempts = 0

    def close(self) -> None:
        """Stop the background thread if any and close the HTTP client."""
        self.stop()
        self._client.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one attempt -----------------------------------------------------------------------

    def post(self, entry: OutboxEntry) -> Outcome:
        """POST one record and classify the answer; never raises for a delivery failure."""
        try:
            response = self._client.post(
                self.config.results_url,
                content=entry.body,
                headers={"Content-Type": "application/json", "Idempotency-Key": entry.record_id},
            )
        except httpx.HTTPError as exc:  # connect/read timeouts, refused, reset, TLS failures
            err = BackendUnavailable(f"{type(exc).__name__}: {exc}")
            return Outcome("retry", str(err), summary=type(exc).__name__)
        return classify(response.status_code, response.text, response.headers.get("Retry-After"))

    # --- draining --------------------------------------------------------------------------

    def drain(self, *, until_empty: bool = False, deadline_s: float | None = None) -> DrainResult:
        """Send what is due. With ``until_empty``, keep going (sleeping out backoffs) until nothing is
        pending or ``deadline_s`` seconds have passed; otherwise make one pass over the due records.
        """
        result = DrainResult()
        end = None if deadline_s is None else time.monotonic() + deadline_s
        while not self._stop.is_set():
            self._pass(result)
            status = self.outbox.status()
            result.pending_left = status.pending
            if not until_empty or status.pending == 0:
                break
            wait_s = self._wait_s()
            if end is not None:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
                wait_s = min(wait_s, remaining)
            self._stop.wait(wait_s)
        return result

    def _pass(self, result: DrainResult) -> None:
        """Attempt every due head record once, stopping at the first retryable failure."""
        while not self._stop.is_set():
            if time.monotonic() < self._blocked_until:
                return
            entries = self.outbox.due(time.time(), self.config.batch_size)
            if not entries:
                return
            for entry in entries:
                outcome = self.post(entry)
                result.attempts += 1
                self.total_attempts += 1
                if not self._apply(entry, outcome, result):
                    return  # the backend is unwell: back off for every reader, not just this one

    def _apply(self, entry: OutboxEntry, outcome: Outcome, result: DrainResult) -> bool:
        if outcome.kind == "sent":
            self.outbox.mark_sent(entry.record_id)
            self._failures = 0
            result.sent += 1
            return True
        if outcome.kind == "dead":
            log.error("record %s refused for good: %s", entry.record_id, outcome.loggable())
            log.debug("refusal of %s: %s", entry.record_id, outcome.detail)
            self.outbox.mark_dead(entry.record_id, outcome.detail)
            self._failures = 0
            result.dead += 1
            return True
        self._failures += 1
        delay_s = backoff_delay_s(self._failures, self.config, self._rng)
        if outcome.retry_after_s is not None:
            delay_s = max(delay_s, outcome.retry_after_s)
        self._blocked_until = time.monotonic() + delay_s
        self.outbox.mark_retry(entry.record_id, next_attempt_at=time.time() + delay_s, error=outcome.detail)
        log.warning(
            "delivery of %s failed (%s); retry in %.2f s", entry.record_id, outcome.loggable(), delay_s
        )
        result.retried += 1
        result.errors.append(outcome.detail)
        return False

    def _wait_s(self) -> float:
        nxt = self.outbox.next_attempt_at()
        record_s = nxt - time.time() if nxt is not None else 1.0
        blocked_s = self._blocked_until - time.monotonic()
        return max(self.config.min_retry_interval_s / 4, record_s, blocked_s)

    # --- background mode -------------------------------------------------------------------

    def start(self, idle_poll_s: float = 1.0) -> None:
        """Drain in a daemon thread until ``stop``; ``notify`` wakes it after an enqueue."""
        if self._thread is not None:
            raise BackendError("sender thread already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(idle_poll_s,), name="partycard-sender", daemon=True
        )
        self._thread.start()

    def notify(self) -> None:
        """Tell the background thread that a record was enqueued."""
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the background thread (an attempt in flight finishes or times out first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                return  # still finishing an attempt; it exits at the next check of the stop flag
            self._thread = None
        self._stop.clear()  # drain() works again in the caller's thread

    def _run(self, idle_poll_s: float) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._pass(DrainResult())
                wait_s = min(self._wait_s(), idle_poll_s) if self.outbox.status().pending else idle_poll_s
            except Exception:  # keep the kiosk's sender alive whatever one pass hit; it is logged
                log.exception("sender pass failed")
                wait_s = idle_poll_s
            self._wake.wait(max(wait_s, self.config.min_retry_interval_s / 4))


def classify(status: int, body: str, retry_after: str | None) -> Outcome:
    """Map an HTTP answer to sent / dead / retry."""
    if 200 <= status < 300:
        return Outcome("sent", f"HTTP {status}", status)
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return Outcome("dead", str(BackendRejected(status, body)), status)
    if status >= 500 or status in _RETRYABLE_4XX:
        detail = str(BackendUnavailable(f"HTTP {status}: {body[:200]}"))
    else:  # 1xx/3xx: a proxy or URL problem that an operator fixes; keep the record pending
        detail = str(BackendUnavailable(f"unexpected HTTP {status}"))
    return Outcome("retry", detail, status, parse_retry_after(retry_after))


def _make_client(config: SenderConfig) -> httpx.Client:
    timeout = httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s)
    return httpx.Client(
        verify=tls_context(config.ca_bundle, config.client_cert, config.client_key),
        timeout=timeout,
        headers={"User-Agent": f"partycard/{__version__}"},
        follow_redirects=False,
    )


@functools.cache
def tls_context(ca_bundle: Path | None, client_cert: Path | None, client_key: Path | None) -> ssl.SSLContext:
    """A verifying TLS client context: the system store (or ``ca_bundle``), plus the client certificate.

    Built once per process and argument set (loading the system store takes a noticeable fraction
    of a second), shared by every sender; an ``SSLContext`` may be used by many connections.
    """
    try:
        ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle is not None else None)
        if client_cert is not None:
            ctx.load_cert_chain(str(client_cert), str(client_key) if client_key is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot set up TLS (CA bundle {ca_bundle}, client cert {client_cert}): {exc}") \
            from exc
    return ctx
