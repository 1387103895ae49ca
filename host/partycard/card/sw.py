"""Card layer, status words (ISO/IEC 7816-4 §5.6, ICAO 9303-11 §9.8): names only, no I/O."""

from __future__ import annotations

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988
SW_WRONG_DATA = 0x6A80
SW_FILE_NOT_FOUND = 0x6A82
SW_REF_NOT_FOUND = 0x6A88
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00

_NAMES: dict[int, str] = {
    0x9000: "success",
    0x6282: "end of file reached before Le bytes",
    0x6300: "authentication failed",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "secure messaging data objects incorrect",
    0x6A80: "incorrect data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2 (offset outside the EF)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def name(sw: int) -> str:
    """A human-readable name for ``sw`` (ranges 61xx, 6Cxx, 63Cx included)."""
    if sw in _NAMES:
        return _NAMES[sw]
    hi, lo = sw >> 8, sw & 0xFF
    if hi == 0x61:
        return f"{lo or 256} more response bytes available"
    if hi == 0x6C:
        return f"wrong Le, exact length is {lo or 256}"
    if hi == 0x63 and lo & 0xF0 == 0xC0:
        return f"verification failed, {lo & 0x0F} tries left"
    return "unknown status"


def describe(sw: int) -> str:
    return f"{sw:04X} ({name(sw)})"


def is_success(sw: int) -> bool:
    return sw == SW_OK or sw >> 8 == 0x61
