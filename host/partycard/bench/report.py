"""Benchmark, the text report: the JSON report's figures as lines a person reads."""

from __future__ import annotations

from typing import Any


def _f(value: object, fmt: str = "{:.3f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def _met(entry: dict[str, Any]) -> str:
    return {True: "met", False: "MISSED", None: "n/a"}[entry["met"]]


def text_report(r: dict[str, Any]) -> str:
    """Every headline figure, its target and where the time goes."""
    out: list[str] = [f"partycard bench ({r['mode']}{', quick' if r.get('quick') else ''})", ""]
    tap = r["tap_to_verdict"]
    rates = tap.get("rates")
    if rates:
        out.append(
            f"rates: PN532 HSU {rates['pn532_hsu_baud']} baud (max {rates['pn532_hsu_baud_max']}, "
            f"{'negotiated' if rates['pn532_hsu_negotiated'] else 'NOT negotiated'}); air {rates['air_kbps']} "
            f"kbit/s (PN532 max {rates['air_kbps_pn532_max']}, card offers {rates['air_kbps_card_offers']}); "
            f"host link {rates['host_link_baud_assumed']} baud and {rates['round_trip_s_assumed'] * 1000:g} ms "
            "per round trip (assumed)"
        )
    out.append(
        "1. tap to verdict (modeled; host verification CPU apart)"
        if r["mode"] == "simulator"
        else "1. tap to verdict (measured by the wall clock, verification included)"
    )
    for key in ("record", "with_photo"):
        t = tap[key]
        if "measured_s" not in t:
            out.append(
                f"   {key:<10} modeled {_f(t['modeled_s'])} s, bound {_f(t['bound_s'])} s, ratio {_f(t['ratio'])}"
            )
        else:  # a real reader: the model and its bound are the simulator's alone
            out.append(f"   {key:<10} measured {_f(t['measured_s'])} s")
            verdict = t["verdict"] or "none (no --trust given: read, not verified)"
            out.append(
                f"              {t['apdus']} APDUs, {t['host_round_trips']} host round trips, "
                f"{t['host_link_bytes']} bytes on the link, verdict {verdict}"
            )
        if "modeled_parts_s" in t:
            parts = ", ".join(f"{k} {v:.3f}" for k, v in t["modeled_parts_s"].items())
            bparts = ", ".join(f"{k} {v:.3f}" for k, v in t["bound_parts_s"].items())
            fast = t["at_fastest_hsu"]
            out.append(f"              modeled: {parts}")
            out.append(f"              bound:   {bparts}")
            out.append(
                f"              {t['apdus']} APDUs, {t['host_round_trips']} host round trips, verify CPU "
                f"{t['verify_cpu_s_measured']:.3f} s (measured), verdict {t['verdict']}"
            )
            card = ", ".join(f"{k} {c['count']}× {c['s']:.3f}" for k, c in t["card_s_by_command"].items())
            out.append(f"              card time by command: {card}")
            out.append(
                f"              at HSU {fast['pn532_hsu_baud']}: modeled {fast['modeled_s']:.3f} s, "
                f"bound {fast['bound_s']:.3f} s, ratio {fast['ratio']:.3f}"
            )
    v = r["verify"]
    out.append(
        f"2. verification: {_f(v['cards_per_s'], '{:.1f}')} cards/s/core, raw crypto bound "
        f"{_f(v['raw_bound_per_s'], '{:.1f}')}/s, ratio {_f(v['ratio'])}"
        + (f"; with the path's signatures {v['raw_with_path_per_s']:.1f}/s" if "raw_with_path_per_s" in v else "")
    )
    if v.get("profile_share_by_step"):
        out.append("   time by step: " + ", ".join(f"{k} {x:.0%}" for k, x in v["profile_share_by_step"].items()))
    if v.get("profile_share_by_package"):
        out.append("   time by package: " + ", ".join(f"{k} {x:.0%}" for k, x in v["profile_share_by_package"].items()))
    fw = r["firmware"]
    out.append(
        f"3. firmware: {'peak heap' if r['mode'] == 'simulator' else 'live heap after a read'} "
        f"{_f(fw['heap_peak_bytes'], '{}')} bytes ({'unix port' if r['mode'] == 'simulator' else 'the reader'})"
        + (f", {fw['heap_peak_rom_bytes']} with the bytecode in ROM" if fw.get("heap_peak_rom_bytes") else "")
        + "; ESP32 estimate "
        f"{_f(fw.get('esp32_estimate_bytes'), '{}')} bytes; CPU {_f(fw['cpu_us_per_apdu'], '{:.0f}')} µs per APDU"
    )
    link = r["link"]
    out.append(
        f"4. link overhead: {link['overhead_bytes_single']:.1f} bytes per single APDU, "
        f"{link['overhead_bytes_batched']:.1f} in batches of {link.get('batch_size', '?')} "
        f"(by size: {link.get('overhead_bytes_by_batch_size')}; fit: "
        f"{link.get('fit_bytes_per_round_trip')} per round trip + {link.get('fit_bytes_per_batched_apdu')} per APDU)"
    )
    out.append("targets:")
    for name, entry in r["targets"].items():
        out.append(f"   {name:<28} {_f(entry['value'], '{}')} vs {entry['target']}: {_met(entry)}")
    return "\n".join(out)
