"""Timing model arithmetic against the rates and framing of ISO/IEC 14443-3/-4 and 8N1 UART."""

from __future__ import annotations

import pytest

from partycard.sim.timing import FC_HZ, FDT_S, TimingModel, fsc_from_ats


def test_link_time_is_ten_bits_per_byte_at_the_baud_rate() -> None:
    t = TimingModel()
    t.begin(0x40)
    t.link(270)  # a 270-byte extended frame at 115200 baud ~ 23.4 ms (research §1.10 item 9)
    assert t.last is not None
    assert t.last.link_s == pytest.approx(270 * 10 / 115200)
    assert 0.0233 < t.last.link_s < 0.0235
    t.set_baud(921600)
    t.begin(0x40)
    t.link(270)
    assert t.last is not None and t.last.link_s == pytest.approx(270 * 10 / 921600)


def test_type_a_frame_air_time_at_each_rate() -> None:
    t = TimingModel()
    # 16-byte frame, type A: 16 * 9 bits + start/end, bit = 128/fc at 106 kbit/s.
    assert t.frame_air_s(16) == pytest.approx((16 * 9 + 2) * 128 / FC_HZ + FDT_S)
    t.set_rate(424)
    assert t.frame_air_s(16) == pytest.approx((16 * 9 + 2) * 32 / FC_HZ + FDT_S)
    with pytest.raises(ValueError):
        t.set_rate(848)


def test_type_b_frames_cost_ten_bits_per_byte_plus_sof_eof() -> None:
    t = TimingModel()
    t.set_card("B", None)
    assert t.frame_air_s(10) == pytest.approx((10 * 10 + 22) * 128 / FC_HZ + FDT_S)


def test_fsc_from_ats_fsci() -> None:
    assert fsc_from_ats(bytes.fromhex("0578807002")) == 256  # FSCI 8
    assert fsc_from_ats(bytes.fromhex("0575807002")) == 64  # FSCI 5
    assert fsc_from_ats(None) == 32


def test_chained_response_costs_blocks_and_r_acks() -> None:
    t = TimingModel()
    t.set_card("A", bytes.fromhex("0578807002"))
    t.begin(0x40)
    t.air_exchange(5, 258)
    assert t.last is not None
    # command: one I-block (PCB + 5 + CRC); response: 258 bytes in blocks of FSD-3 = 61 bytes
    # -> 5 blocks (61*4 + 14), each of the first four answered by an R(ACK) of 3 bytes.
    expect = t.frame_air_s(1 + 5 + 2)
    expect += 4 * (t.frame_air_s(1 + 61 + 2) + t.frame_air_s(3)) + t.frame_air_s(1 + 14 + 2)
    assert t.last.air_s == pytest.approx(expect)


def test_modeled_seconds_sum_link_air_and_card() -> None:
    t = TimingModel()
    t.begin(0x40)
    t.link(20)
    t.air_exchange(5, 2)
    t.card(0.030)
    t.card(-1.0)  # a negative report cannot take time away
    e = t.last
    assert e is not None
    assert e.modeled_s == pytest.approx(e.link_s + e.air_s + 0.030)
    t.begin(0x02)
    t.link(15)
    assert t.total_s == pytest.approx(sum(x.modeled_s for x in t.exchanges))
    t.reset()
    assert t.total_s == 0.0 and t.last is None


def test_a_long_running_simulator_keeps_a_bounded_history_and_an_exact_total() -> None:
    """FOUND: every modeled command was kept, ~10 a second even idle: the simulator grew without end."""
    from partycard.sim.timing import KEEP_EXCHANGES

    t = TimingModel(baud=115200)
    for _ in range(KEEP_EXCHANGES * 2 + 10):
        t.begin(0x4A)
        t.link(20)
    assert len(t.exchanges) == KEEP_EXCHANGES
    assert t.total_s == pytest.approx((KEEP_EXCHANGES * 2 + 10) * 20 * 10 / 115200)
    t.reset()
    assert t.total_s == 0 and not t.exchanges
