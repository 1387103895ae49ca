"""``partycard bench --quick --json`` on the simulator: every key, sane types, figures that agree.

No timed assertions: the figures are checked against each other, never against a clock.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from partycard.cli import main
from partycard.sim.runner import micropython_executable

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(micropython_executable() is None, reason="MicroPython unix port not installed"),
]


@pytest.fixture(scope="module")
def bench_report() -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "--quick", "--json"])
    assert code == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_every_key_with_sane_types(bench_report: dict[str, Any]) -> None:
    for case in ("record", "with_photo"):
        tap = bench_report["tap_to_verdict"][case]
        for key in ("modeled_s", "bound_s", "ratio"):
            assert _number(tap[key]) and tap[key] > 0, (case, key)
        assert tap["verdict"] == "valid"
    for key in ("cards_per_s", "raw_bound_per_s", "ratio"):
        assert _number(bench_report["verify"][key]) and bench_report["verify"][key] > 0, key
    assert isinstance(bench_report["firmware"]["heap_peak_bytes"], int)
    assert bench_report["firmware"]["heap_peak_bytes"] > 0
    assert _number(bench_report["firmware"]["cpu_us_per_apdu"])
    for key in ("overhead_bytes_single", "overhead_bytes_batched"):
        assert _number(bench_report["link"][key]), key
    rates = bench_report["tap_to_verdict"]["rates"]
    assert rates["air_kbps"] in (106, 212, 424)
    assert isinstance(rates["pn532_hsu_baud"], int)


def test_bound_is_below_the_model(bench_report: dict[str, Any]) -> None:
    for case in ("record", "with_photo"):
        tap = bench_report["tap_to_verdict"][case]
        assert tap["bound_s"] <= tap["modeled_s"]
        assert tap["at_fastest_hsu"]["bound_s"] <= tap["at_fastest_hsu"]["modeled_s"]
        assert tap["at_fastest_hsu"]["modeled_s"] <= tap["modeled_s"]
        # The card's time is in both, unchanged: the bound removes slack, not work.
        assert tap["bound_parts_s"]["card"] == tap["modeled_parts_s"]["card"]
    record, photo = bench_report["tap_to_verdict"]["record"], bench_report["tap_to_verdict"]["with_photo"]
    assert photo["bound_s"] > record["bound_s"]
    assert photo["file_bytes"]["DG2"] > 15 * 1024


def test_ratios_come_from_the_figures(bench_report: dict[str, Any]) -> None:
    for case in ("record", "with_photo"):
        tap = bench_report["tap_to_verdict"][case]
        assert tap["ratio"] == pytest.approx(tap["modeled_s"] / tap["bound_s"], rel=2e-3)
        parts = sum(tap["modeled_parts_s"].values())
        assert parts == pytest.approx(tap["modeled_s"], abs=1e-3)
        assert sum(tap["bound_parts_s"].values()) == pytest.approx(tap["bound_s"], abs=1e-3)
    ver = bench_report["verify"]
    assert ver["ratio"] == pytest.approx(ver["cards_per_s"] / ver["raw_bound_per_s"], rel=2e-2), ver
    assert ver["raw_with_path_per_s"] <= ver["raw_bound_per_s"], ver
    fw = bench_report["firmware"]
    assert fw["esp32_estimate_bytes"] == fw["heap_peak_rom_bytes"]
    # The bytecode outside the heap leaves the rest of the read's heap: less, and still a real read.
    assert 0 < fw["heap_peak_rom_bytes"] < fw["heap_peak_bytes"], fw
    link = bench_report["link"]
    assert link["overhead_bytes_batched"] < link["overhead_bytes_single"]
    for name, entry in bench_report["targets"].items():
        assert entry["met"] in (True, False), name
