"""The room an apdu.batch keeps for each APDU's response (SPEC.md §4): Ne read from the command's
Le field as ISO/IEC 7816-4 §5.1 lays out its four cases, short and extended, capped at the longest
response the reader relays, plus SW1 SW2 and the CBOR head (6 bytes). Without Le, a short
response's 256 bytes: many cards answer a SELECT with its FCI all the same."""

from binascii import unhexlify

from reader.card.iso14443 import RESP_MAX
from reader.card.service import _reserve

HEAD = 6  # SW1 SW2 and a byte-string head of up to 3 bytes, with a byte to spare


def room(hexstr):
    return _reserve(unhexlify(hexstr.replace(" ", "")))


def test_case_1_no_data_no_le():
    assert room("00a4 0000") == 256 + HEAD


def test_case_2_short():
    assert room("00b0 0000 10") == 16 + HEAD
    assert room("00b0 0000 00") == 256 + HEAD  # Le 00 is 256


def test_case_3_short():
    assert room("00a4 020c 02 011e") == 256 + HEAD


def test_case_4_short():
    select_aid = "00a4 0400 07 a0000002471001"
    assert room(select_aid + " 00") == 256 + HEAD
    assert room(select_aid + " 20") == 32 + HEAD


def test_case_2_extended():
    assert room("00b0 0000 00 03e8") == 1000 + HEAD
    assert room("00b0 0000 00 0000") == RESP_MAX + HEAD  # 65536, more than the reader relays


def test_case_3_extended():
    assert room("002a 00be 00 0002 aabb") == 256 + HEAD


def test_case_4_extended():
    assert room("0088 0000 00 0002 aabb 0100") == 256 + HEAD
    assert room("0088 0000 00 0002 aabb 0000") == RESP_MAX + HEAD


def test_a_command_that_fits_no_case_gets_the_most():
    assert room("00b0 0000 02 01") == RESP_MAX + HEAD  # Lc 2, one data byte
    assert room("00b0 0000 00 01") == RESP_MAX + HEAD  # an extended length cut short
    assert room("0088 0000 00 0002 aabb 01") == RESP_MAX + HEAD
    assert room("00b0 0000 00 0000 0005") == RESP_MAX + HEAD  # an extended Lc of 0 is no Lc
    assert room("00b0 0000 00 0000") == RESP_MAX + HEAD  # 2E with Le 0000, not a 3E without data
