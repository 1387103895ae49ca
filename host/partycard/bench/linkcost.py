"""Benchmark, link overhead: host-link bytes per APDU beyond the APDU itself, single and batched.

Measured on the link, not computed: the counting transport sees every byte of the request and
response frames (COBS, CRC, delimiter, CBOR envelope, request id, byte-string headers) and of any
event the reader sends meanwhile (keepalives). The APDUs are plain READ BINARY commands on the
activated card's EF.CardAccess, which every PACE card lets anyone read (ICAO 9303-11 §4.4), so the
figure holds no secure-messaging bytes: those belong to the APDU, not to the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from partycard.bench.counting import CountingTransport
from partycard.card.profile import ReadPolicy
from partycard.errors import APDUError
from partycard.link.client import ReaderClient
from partycard.link.codes import MAX_BATCH

SELECT_CARD_ACCESS = bytes.fromhex("00A4020C02011C")
READ_32 = bytes.fromhex("00B0000020")  # 32 bytes from offset 0: inside the shortest EF.CardAccess
#: The batch size the read uses for file chunks.
READ_BATCH = ReadPolicy().max_batch


@dataclass(frozen=True)
class LinkOverhead:
    single: float  #: per APDU, one ``apdu`` request each
    batched: dict[int, float]  #: per APDU, by batch size
    apdu_bytes: int  #: command + response of the measured APDU

    def fit(self) -> tuple[float, float]:
        """(bytes per round trip, bytes per APDU) from the two batch sizes: overhead(n) = a/n + b."""
        (n1, o1), (n2, o2) = sorted(self.batched.items())[:2]
        a = (o1 - o2) / (1 / n1 - 1 / n2)
        return a, o1 - a / n1

    def to_json(self) -> dict[str, Any]:
        per_trip, per_apdu = self.fit()
        return {
            "overhead_bytes_single": round(self.single, 2),
            "overhead_bytes_batched": round(self.batched[READ_BATCH], 2),
            "batch_size": READ_BATCH,
            "overhead_bytes_by_batch_size": {str(k): round(v, 2) for k, v in sorted(self.batched.items())},
            "measured_apdu_bytes": self.apdu_bytes,
            "fit_bytes_per_round_trip": round(per_trip, 1),
            "fit_bytes_per_batched_apdu": round(per_apdu, 2),
        }


def measure(client: ReaderClient, transport: CountingTransport, rounds: int = 16) -> LinkOverhead:
    """Overhead per APDU on an activated card (``card.wait`` already answered)."""
    if client.transmit(SELECT_CARD_ACCESS)[-2:] != b"\x90\x00":
        raise APDUError(0, "SELECT EF.CardAccess failed: the link overhead needs a PACE card")
    resp_len = len(client.transmit(READ_32))
    payload = len(READ_32) + resp_len

    before = transport.snapshot()
    for _ in range(rounds):
        client.transmit(READ_32)
    single = ((transport.snapshot() - before).total - rounds * payload) / rounds

    batched: dict[int, float] = {}
    for size in sorted({READ_BATCH, MAX_BATCH}):
        reps = max(1, rounds // size) + 1
        before = transport.snapshot()
        for _ in range(reps):
            out = client.transmit_batch([READ_32] * size)
            if len(out) != size:
                raise APDUError(0, f"a batch of {size} was cut to {len(out)}")
        n = reps * size
        batched[size] = ((transport.snapshot() - before).total - n * payload) / n
    return LinkOverhead(single, batched, payload)
