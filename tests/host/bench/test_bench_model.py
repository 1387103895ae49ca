"""The bench's timing arithmetic: replay reproduces the simulator's model, the bound sits below it."""

from __future__ import annotations

from partycard.bench.model import (
    HSU_MAX_BAUD,
    RecordingTiming,
    card_times,
    physical_bound,
    rates_in_force,
    replay,
    tap_window,
)


def _tap(timing: RecordingTiming) -> None:
    """What the virtual PN532 reports for a poll without a card, then a card, PPS and three APDUs."""
    timing.begin(0x4A)
    timing.link(12)
    timing.begin(0x4A)  # this one lists the card
    timing.link(30)
    timing.set_card("A", bytes.fromhex("057877A002"))
    timing.air_frames(1, 2, 2, 5, 9, 3, 4, 7)
    timing.begin(0x4E)
    timing.link(20)
    timing.air_frames(5, 3)
    timing.set_rate(424)
    for cmd_len, resp_len, card_s in ((12, 2, 0.004), (18, 244, 0.012), (300, 40, 0.07)):
        timing.begin(0x40)
        timing.link(cmd_len + 30)
        timing.air_exchange(cmd_len, resp_len)
        timing.card(card_s)
        timing.link(resp_len + 20)
    timing.begin(0x00)  # an idle presence check in between
    timing.link(20)


def test_replay_reproduces_the_simulators_accounting() -> None:
    timing = RecordingTiming()
    _tap(timing)
    window = tap_window(timing.events)
    listed = [e for e in list(timing.exchanges)[1:] if e.command != 0x00]
    expected = sum(e.modeled_s for e in listed)
    assert abs(replay(window).total_s - expected) < 1e-12
    assert window.presence_checks == 1
    assert rates_in_force(window) == (115200, 424)
    assert card_times(window) == [0.004, 0.012, 0.07]


def test_bound_is_below_the_model_at_any_rate() -> None:
    timing = RecordingTiming()
    _tap(timing)
    window = tap_window(timing.events)
    for baud in (None, HSU_MAX_BAUD):
        bound = physical_bound(window, host_baud=921600, baud=baud)
        modeled = replay(window, baud=baud)
        assert bound.apdus == 3
        assert bound.apdu_bytes == 12 + 2 + 18 + 244 + 300 + 40
        assert abs(bound.card_s - modeled.card_s) < 1e-12
        assert bound.air_s < modeled.air_s
        assert bound.pn532_link_s < modeled.link_s
    fast = replay(window, baud=HSU_MAX_BAUD)
    assert fast.link_s < replay(window).link_s
    assert fast.link_bytes == replay(window).link_bytes
