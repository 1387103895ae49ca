"""A SMALL card-side fixture for the host read-flow tests: an independent card implementation of
ICAO 9303-11 BAC (§9.7), PACE-ECDH-GM (§4.4), CA v1 AES (§6.2) and SM responses (§9.8), written
directly on `cryptography`/`ecdsa` (it shares no code with partycard.card), with fault knobs.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from ecdsa import curves, ellipticcurve

from partycard.errors import CardRemoved

OK = b"\x90\x00"
CURVES = {13: curves.BRAINPOOLP256r1, 12: curves.NIST256p, 16: curves.BRAINPOOLP384r1, 15: curves.NIST384p}
FIDS = {0x011C: "EF.CardAccess", 0x011E: "EF.COM", 0x011D: "EF.SOD",
        **{0x0100 + n: f"DG{n}" for n in range(1, 17)}}


def tl(tag: int, value: bytes) -> bytes:
    t = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    n = len(value)
    ln = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
    return t + ln + value


def tlvs(data: bytes) -> dict[int, bytes]:
    out, i = {}, 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[i]
            i += 1
        n = data[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i : i + k], "big")
            i += k
        out[tag] = data[i : i + n]
        i += n
    return out


def pad(data: bytes, block: int) -> bytes:
    d = data + b"\x80"
    return d + bytes(-len(d) % block)


def des3(key: bytes, data: bytes, enc: bool) -> bytes:
    c = Cipher(TripleDES(key + key[:8]), modes.CBC(bytes(8)))
    x = c.encryptor() if enc else c.decryptor()
    return x.update(data) + x.finalize()


def retail(key: bytes, data: bytes) -> bytes:
    c = Cipher(TripleDES(key[:8] * 3), modes.CBC(bytes(8))).encryptor()
    h = (c.update(data) + c.finalize())[-8:]
    d = Cipher(TripleDES(key[8:] * 3), modes.ECB()).decryptor()  # noqa: S305 - ISO 9797-1 alg 3
    h = d.update(h) + d.finalize()
    e = Cipher(TripleDES(key[:8] * 3), modes.ECB()).encryptor()  # noqa: S305 - ISO 9797-1 alg 3
    return e.update(h) + e.finalize()


def aes(key: bytes, data: bytes, enc: bool, iv: bytes = bytes(16)) -> bytes:
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    x = c.encryptor() if enc else c.decryptor()
    return x.update(data) + x.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def kdf(secret: bytes, counter: int, aes_len: int | None) -> bytes:
    d = secret + counter.to_bytes(4, "big")
    if aes_len is None:  # 3DES with DES parity
        raw = hashlib.sha1(d).digest()[:16]  # noqa: S324
        return bytes((b & 0xFE) | ((bin(b & 0xFE).count("1") + 1) & 1) for b in raw)
    if aes_len == 16:
        return hashlib.sha1(d).digest()[:16]  # noqa: S324
    return hashlib.sha256(d).digest()[:aes_len]


class SMState:
    def __init__(self, enc: bytes, mac: bytes, ssc: int, aes_mode: bool) -> None:
        self.enc, self.mac_key, self.ssc, self.aes = enc, mac, ssc, aes_mode
        self.block = 16 if aes_mode else 8

    def _ssc(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def mac(self, data: bytes) -> bytes:
        m = pad(self._ssc() + data, self.block)
        return aes_cmac(self.mac_key, m)[:8] if self.aes else retail(self.mac_key, m)

    def crypt(self, data: bytes, enc: bool) -> bytes:
        if not self.aes:
            return des3(self.enc, data, enc)
        e = Cipher(algorithms.AES(self.enc), modes.ECB()).encryptor()  # noqa: S305 - SM IV
        iv = e.update(self._ssc()) + e.finalize()
        return aes(self.enc, data, enc, iv)


@dataclass
class Knobs:
    max_le: int = 256  #: Le above this gets a plain 6700 (a card capping Le)
    corrupt_mac_at: int | None = None  #: response MAC broken on this SM response number
    remove_after: int | None = None  #: the card leaves the field after this many commands
    ignore_mac: bool = False
    exact_le: int | None = None  #: READ BINARY with a larger Le answers 6Cxx (protected)
    short_reads: int | None = None  #: READ BINARY returns at most this many bytes with 9000
    refuse_select: tuple[str, ...] = ()  #: SELECT of these files answers 6D00 (CCCD-like)


@dataclass
class FixtureCard:
    files: dict[str, bytes]
    can: str = "123456"
    mrz_info: str = ""  #: MRZ_information for BAC / PACE-MRZ
    pace_param_id: int | None = 13
    pace_aes_len: int = 16
    ca_private: int | None = None
    knobs: Knobs = field(default_factory=Knobs)
    sm: SMState | None = None
    commands: int = 0
    sm_responses: int = 0
    wrong_password_tries: int = 0
    log: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.selected: str | None = None
        self.app = False
        self._pace: dict[str, object] = {}
        self._rnd_ic = b""

    # --- transport ----------------------------------------------------------------------
    def transmit(self, apdu: bytes) -> bytes:
        self.commands += 1
        self.log.append(apdu)
        if self.knobs.remove_after is not None and self.commands > self.knobs.remove_after:
            raise CardRemoved("card left the field")
        if apdu[0] & 0x0C:
            return self._sm_command(apdu)
        if self.sm is not None and apdu[1] != 0x86:
            self.sm = None  # a plain command ends SM (ISO 7816-4 §10.2)
        data, le = self._split(apdu)
        return self._dispatch(apdu[0], apdu[1], apdu[2], apdu[3], data, le)

    @staticmethod
    def _split(apdu: bytes) -> tuple[bytes, int | None]:
        body = apdu[4:]
        if not body:
            return b"", None
        if len(body) == 1:
            return b"", body[0] or 256
        if body[0] == 0 and len(body) >= 3:
            lc = int.from_bytes(body[1:3], "big")
            rest = body[3 + lc :]
            return body[3 : 3 + lc], (int.from_bytes(rest, "big") or 65536) if rest else None
        lc = body[0]
        rest = body[1 + lc :]
        return body[1 : 1 + lc], (rest[0] or 256) if rest else None

    def _sm_command(self, apdu: bytes) -> bytes:
        sm = self.sm
        if sm is None:
            return b"\x69\x87"
        body, _ = self._split(apdu)
        dos = tlvs(body)
        sm.ssc += 1
        mac_in = pad(bytes([apdu[0], apdu[1], apdu[2], apdu[3]]), sm.block)
        mac_in += b"".join(tl(t, dos[t]) for t in (0x87, 0x85, 0x97) if t in dos)
        if 0x8E not in dos or (sm.mac(mac_in) != dos[0x8E] and not self.knobs.ignore_mac):
            self.sm = None
            return b"\x69\x88"
        data = b""
        if 0x87 in dos or 0x85 in dos:  # DO'85' carries odd-INS data without the 01 indicator
            plain = sm.crypt(dos[0x87][1:] if 0x87 in dos else dos[0x85], False)
            data = plain[: plain.rstrip(b"\x00").rfind(b"\x80")]
        le = None
        if 0x97 in dos:
            le = int.from_bytes(dos[0x97], "big") or (256 if len(dos[0x97]) == 1 else 65536)
        resp = self._dispatch(apdu[0] & 0xF3, apdu[1], apdu[2], apdu[3], data, le)
        if resp[-2:] == b"\x67\x00" and apdu[1] == 0xB0:
            return resp  # plain error, SSC not advanced for a response (gmrtd#457 behaviour)
        sm.ssc += 1
        out = b""
        if resp[:-2] and apdu[1] & 1:
            out += tl(0x85, sm.crypt(pad(resp[:-2], sm.block), True))
        elif resp[:-2]:
            out += tl(0x87, b"\x01" + sm.crypt(pad(resp[:-2], sm.block), True))
        out += tl(0x99, resp[-2:])
        mac = sm.mac(out)
        self.sm_responses += 1
        if self.knobs.corrupt_mac_at == self.sm_responses:
            mac = bytes([mac[0] ^ 1]) + mac[1:]
        if self._pending_sm is not None:
            self.sm, self._pending_sm = self._pending_sm, None
        return out + tl(0x8E, mac) + resp[-2:]

    _pending_sm: SMState | None = None

    # --- commands -----------------------------------------------------------------------
    def _dispatch(  # noqa: PLR0911, PLR0917 - one branch per instruction
        self, cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None
    ) -> bytes:
        if ins == 0xA4:
            return self._select(p1, data)
        if ins == 0xB0:
            return self._read(p1, p2, le)
        if ins == 0xB1:  # offset in DO'54', data in DO'53' (ISO/IEC 7816-4 §11.3.3)
            off = int.from_bytes(tlvs(data)[0x54], "big")
            want = (le or 256) - 2 if (le or 256) - 2 < 0x80 else (le or 256) - 3
            resp = self._read(off >> 8, off & 0xFF, want, wide_offset=off)
            return tl(0x53, resp[:-2]) + resp[-2:] if resp[:-2] else resp
        if ins == 0x84:
            self._rnd_ic = os.urandom(8)
            return self._rnd_ic + OK
        if ins == 0x82:
            return self._bac(data)
        if ins == 0x22 and p2 == 0xA4 and p1 == 0xC1:
            self._pace = {"oid": tlvs(data)[0x80], "pw": tlvs(data)[0x83][0]}
            return OK
        if ins == 0x86 and not self._pace.get("done", False) and "oid" in self._pace:
            return self._pace_step(cla, data)
        if ins == 0x22 and p1 == 0x41 and p2 == 0xA4:
            return OK
        if ins == 0x86:
            return self._ca(data)
        if ins == 0x88:
            return hashlib.sha256(b"AA" + data).digest() + OK
        return b"\x6d\x00"

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:
            if data != bytes.fromhex("A0000002471001"):
                return b"\x6a\x82"
            self.app = True
            return OK
        name = FIDS.get(int.from_bytes(data, "big"))
        if name in self.knobs.refuse_select:
            return b"\x6d\x00"
        in_mf = name == "EF.CardAccess"
        if name is None or name not in self.files or (not in_mf and not self.app):
            return b"\x6a\x82"
        self.selected = name
        return OK

    def _read(self, p1: int, p2: int, le: int | None, wide_offset: int | None = None) -> bytes:  # noqa: PLR0911
        if p1 & 0x80 and wide_offset is None:  # short EF id (ISO/IEC 7816-4 §11.2.2)
            sfi = {0x1C: "EF.CardAccess", 0x1E: "EF.COM", 0x1D: "EF.SOD"}.get(p1 & 0x1F, f"DG{p1 & 0x1F}")
            if sfi not in self.files:
                return b"\x6a\x82"
            self.selected, p1 = sfi, 0
        if self.selected is None:
            return b"\x69\x86"
        if le is not None and le > self.knobs.max_le:
            return b"\x67\x00"
        if le is not None and self.knobs.exact_le is not None and le > self.knobs.exact_le:
            return b"\x6c" + bytes([self.knobs.exact_le])
        if self.selected != "EF.CardAccess" and self.app and self.sm is None:
            return b"\x69\x82"
        body = self.files[self.selected]
        off = wide_offset if wide_offset is not None else (p1 << 8) | p2
        if off > len(body):
            return b"\x6b\x00"
        if self.knobs.short_reads is not None and self.selected != "EF.CardAccess":
            le = min(le or 256, self.knobs.short_reads)
            return body[off : off + le] + (OK if off + le <= len(body) else b"\x62\x82")
        chunk = body[off : off + (le or 256)]
        return chunk + (OK if len(chunk) == (le or 256) else b"\x62\x82")

    def _bac(self, data: bytes) -> bytes:
        seed = hashlib.sha1(self.mrz_info.encode()).digest()[:16]  # noqa: S324
        k_enc, k_mac = kdf(seed, 1, None), kdf(seed, 2, None)
        e, m = data[:32], data[32:40]
        if retail(k_mac, pad(e, 8)) != m:
            return b"\x63\x00"
        plain = des3(k_enc, e, False)
        if plain[8:16] != self._rnd_ic:
            return b"\x63\x00"
        rnd_ifd, k_ifd = plain[:8], plain[16:]
        k_ic = os.urandom(16)
        e_ic = des3(k_enc, self._rnd_ic + rnd_ifd + k_ic, True)
        seed2 = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        self.sm = SMState(kdf(seed2, 1, None), kdf(seed2, 2, None),
                          int.from_bytes(self._rnd_ic[4:] + rnd_ifd[4:], "big"), False)
        return e_ic + retail(k_mac, pad(e_ic, 8)) + OK

    def _curve(self) -> tuple[object, int]:
        assert self.pace_param_id is not None
        c = CURVES[self.pace_param_id]
        return c, (c.curve.p().bit_length() + 7) // 8

    def _enc_pt(self, p: ellipticcurve.PointJacobi) -> bytes:
        _, n = self._curve()
        return b"\x04" + int(p.x()).to_bytes(n, "big") + int(p.y()).to_bytes(n, "big")

    def _dec_pt(self, raw: bytes) -> ellipticcurve.PointJacobi:
        c, n = self._curve()
        x, y = int.from_bytes(raw[1 : 1 + n], "big"), int.from_bytes(raw[1 + n :], "big")
        return ellipticcurve.PointJacobi(c.curve, x, y, 1, c.order)  # type: ignore[attr-defined]

    def _pace_step(self, cla: int, data: bytes) -> bytes:
        c, _ = self._curve()
        st = self._pace
        dyn = tlvs(tlvs(data)[0x7C]) if data[1:2] != b"\x00" else {}
        if "s" not in st:
            pw = self.can.encode() if st["pw"] == 2 else hashlib.sha1(self.mrz_info.encode()).digest()  # noqa: S324
            st["kpi"] = kdf(pw, 3, self.pace_aes_len)
            st["s"] = os.urandom(16)
            z = aes(st["kpi"], st["s"], True)  # type: ignore[arg-type]
            return tl(0x7C, tl(0x80, z)) + OK
        if "g_hat" not in st:
            sk = int.from_bytes(os.urandom(40), "big") % (c.order - 1) + 1  # type: ignore[attr-defined]
            h = self._dec_pt(dyn[0x81]) * sk
            st["g_hat"] = c.generator * int.from_bytes(st["s"], "big") + h  # type: ignore[attr-defined,arg-type]
            return tl(0x7C, tl(0x82, self._enc_pt(c.generator * sk))) + OK  # type: ignore[attr-defined]
        if "shared" not in st:
            sk = int.from_bytes(os.urandom(40), "big") % (c.order - 1) + 1  # type: ignore[attr-defined]
            st["pk_t"] = dyn[0x83]
            st["pk_c"] = self._enc_pt(st["g_hat"] * sk)  # type: ignore[operator]
            shared = self._dec_pt(dyn[0x83]) * sk
            _, n = self._curve()
            st["shared"] = int(shared.x()).to_bytes(n, "big")
            return tl(0x7C, tl(0x84, st["pk_c"])) + OK  # type: ignore[arg-type]
        k_enc = kdf(st["shared"], 1, self.pace_aes_len)  # type: ignore[arg-type]
        k_mac = kdf(st["shared"], 2, self.pace_aes_len)  # type: ignore[arg-type]
        oid = tl(0x06, st["oid"])  # type: ignore[arg-type]
        t_ifd = aes_cmac(k_mac, tl(0x7F49, oid + tl(0x86, st["pk_c"])))[:8]  # type: ignore[arg-type]
        if dyn.get(0x85) != t_ifd:
            self.wrong_password_tries += 1
            self._pace = {}
            return b"\x63\x00"
        t_ic = aes_cmac(k_mac, tl(0x7F49, oid + tl(0x86, st["pk_t"])))[:8]  # type: ignore[arg-type]
        st["done"] = True
        self.sm = SMState(k_enc, k_mac, 0, True)
        return tl(0x7C, tl(0x86, t_ic)) + OK

    def _ca(self, data: bytes) -> bytes:
        if self.ca_private is None or self.sm is None:
            return b"\x6a\x88"
        c = curves.BRAINPOOLP256r1
        pk = tlvs(tlvs(data)[0x7C])[0x80]
        n = 32
        x, y = int.from_bytes(pk[1:33], "big"), int.from_bytes(pk[33:], "big")
        pt = ellipticcurve.PointJacobi(c.curve, x, y, 1, c.order)
        shared = int((pt * self.ca_private).x()).to_bytes(n, "big")
        self._pending_sm = SMState(kdf(shared, 1, 16), kdf(shared, 2, 16), 0, True)
        return tl(0x7C, b"") + OK
