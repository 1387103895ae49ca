"""PN532 target data (pure): decoding InListPassiveTarget answers, rates from the ATS. No I/O.

TargetData layouts are UM0701-02 §7.3.5; SENS_RES is kept in the order the PN532 sends it.
"""

from micropython import const

from reader.errors import ReaderFault
from reader.link import codes

# InListPassiveTarget BrTy (UM0701-02 §7.3.5)
BRTY_106A = const(0x00)
BRTY_106B = const(0x03)

# Rates for InPSL (UM0701-02 §7.3.7): 0 = 106, 1 = 212, 2 = 424 kbit/s
RATE_106 = const(0)
RATE_212 = const(1)
RATE_424 = const(2)


class Target:
    """What InListPassiveTarget reported for one target (SENS_RES kept in PN532 order)."""

    def __init__(self, kind, tg, uid, *, ats=None, atqb=None, sens_res=None, sel_res=None, attrib=None):
        self.kind = kind  # "A" or "B"
        self.tg = tg
        self.uid = uid
        self.ats = ats
        self.atqb = atqb
        self.sens_res = sens_res
        self.sel_res = sel_res
        self.attrib = attrib

    def iso_dep(self):
        if self.kind == "A":
            return self.ats is not None
        # ATQB protocol info byte 2, bit 1 = ISO 14443-4 compliant, bit 4 must be 0 (ISO 14443-3 §7.9.4)
        return self.atqb is not None and len(self.atqb) >= 11 and (self.atqb[10] & 0x09) == 0x01


def decode_target_a(r, i):
    """TargetData for 106 kbps type A (UM0701-02 §7.3.5): Tg SENS_RES(2) SEL_RES NFCIDLen NFCID [ATS]."""
    n = len(r)
    if i + 5 > n:
        raise ReaderFault("short type A target data", {"status": 0x7F}, code=codes.E_PN532_STATUS)
    tg = r[i]
    sens = bytes(r[i + 1 : i + 3])
    sak = r[i + 3]
    ulen = r[i + 4]
    j = i + 5 + ulen
    if j > n or ulen not in (4, 7, 10):
        raise ReaderFault(f"bad NFCID1 length {ulen}", {"status": 0x7F}, code=codes.E_PN532_STATUS)
    uid = bytes(r[i + 5 : j])
    ats = None
    if sak & 0x20 and j < n:
        tl = r[j]  # TL counts itself (ISO 14443-4 §5.2.1)
        if tl < 1 or j + tl > n:
            raise ReaderFault("bad ATS length", {"status": 0x7F}, code=codes.E_PN532_STATUS)
        ats = bytes(r[j : j + tl])
    return Target("A", tg, uid, ats=ats, sens_res=sens, sel_res=sak)


def decode_target_b(r, i):
    """TargetData for 106 kbps type B: Tg ATQB(12) ATTRIB_RES_len ATTRIB_RES (UM0701-02 §7.3.5)."""
    n = len(r)
    if i + 14 > n:
        raise ReaderFault("short type B target data", {"status": 0x7F}, code=codes.E_PN532_STATUS)
    tg = r[i]
    atqb = bytes(r[i + 1 : i + 13])
    alen = r[i + 13]
    attrib = bytes(r[i + 14 : i + 14 + alen])
    return Target("B", tg, bytes(atqb[1:5]), atqb=atqb, attrib=attrib)


def ats_max_rate(ats):
    """Highest rate both directions allow per the ATS interface byte TA(1) (ISO 14443-4 §5.2.4)."""
    if ats is None or len(ats) < 3 or not (ats[1] & 0x10):
        return RATE_106
    ta = ats[2]
    if ta & 0x02 and ta & 0x20:
        return RATE_424
    if ta & 0x01 and ta & 0x10:
        return RATE_212
    return RATE_106
