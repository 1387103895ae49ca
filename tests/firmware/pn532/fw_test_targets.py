"""TargetData decoding (UM0701-02 §7.3.5) on real InListPassiveTarget answers from
tests/vectors/pn532, and the rate choice from the ATS interface byte TA(1) (ISO 14443-4 §5.2.4)."""

from binascii import unhexlify

from reader.errors import ReaderFault
from reader.link import codes
from reader.pn532 import targets as device


def test_ntag_without_ats():
    # nfcpy tests/base_clf_pn53x.py: D5 4B 01 01 00 44 00 07 04 16 C6 C2 D7 38 81
    r = unhexlify("01010044000704 16c6c2d73881".replace(" ", ""))
    t = device.decode_target_a(r, 1)
    assert t.kind == "A" and t.tg == 1 and t.sens_res == b"\x00\x44" and t.sel_res == 0
    assert t.uid == unhexlify("0416c6c2d73881") and t.ats is None and not t.iso_dep()


def test_phone_hce_with_ats():
    # HAP-ESPHome issue 28: D5 4B 01 01 03 04 20 04 08 3F 6C 4A 05 78 80 70 02
    r = unhexlify("010103042004083f6c4a0578807002")
    t = device.decode_target_a(r, 1)
    assert t.uid == unhexlify("083f6c4a") and t.ats == unhexlify("0578807002") and t.iso_dep()
    assert device.ats_max_rate(t.ats) == device.RATE_106  # TA(1) = 0x80: 106 kbit/s only


def test_mifare_4_byte_uid_golden():
    # research §1.9: 00 00 ff 0c f4 d5 4b 01 01 00 04 08 04 12 34 56 78 ba 00
    t = device.decode_target_a(unhexlify("0101000408041234567 8".replace(" ", "")), 1)
    assert t.uid == unhexlify("12345678") and t.sel_res == 0x08 and not t.iso_dep()


def test_type_b_target():
    # nfcpy vector: D5 4B 01 01 50E8253EEC00000011008185 01 00
    t = device.decode_target_b(unhexlify("010150e8253eec00000011008185 0100".replace(" ", "")), 1)
    assert t.kind == "B" and t.uid == unhexlify("e8253eec") and t.attrib == b"\x00"
    assert t.atqb == unhexlify("50e8253eec00000011008185") and t.iso_dep()


def test_truncated_target_data_is_a_typed_fault():
    for bad in ("0101000408", "01010004080712345678", "010103042004083f6c4a0978807002"):
        try:
            device.decode_target_a(unhexlify(bad), 1)
        except ReaderFault as exc:
            assert exc.code == codes.E_PN532_STATUS, exc.code
            continue
        raise AssertionError("accepted " + bad)


def test_rate_from_ats():
    assert device.ats_max_rate(unhexlify("0578b37002")) == device.RATE_424  # TA 0x33
    assert device.ats_max_rate(unhexlify("0578917002")) == device.RATE_212  # TA 0x91: 212 both, same D
    assert device.ats_max_rate(unhexlify("0578837002")) == device.RATE_106  # DS only, no DR
    assert device.ats_max_rate(unhexlify("0502")) == device.RATE_106  # no TA(1)
    assert device.ats_max_rate(None) == device.RATE_106
