"""Benchmark layer: ``partycard bench`` — tap to verdict against its physical bound, verification
against raw cryptography, the firmware's heap and CPU, the link's overhead. Composes; changes nothing.

The figures and what they mean are in docs/benchmarks.md.
"""

from __future__ import annotations

from partycard.bench.run import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
