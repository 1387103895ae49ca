# ruff: noqa: S324, S305 - ICAO 9303-11 mandates SHA-1 key derivation and an ECB-made SM IV
"""A minimal inspection-system (terminal) side, written for the virtual-card tests.

It is deliberately independent of both the card (``partycard.sim.card``) and the reader side
(``partycard.card``): built straight from ICAO 9303-11 with ``cryptography``, ``hashlib`` and
``ecdsa``, and itself checked here against the Appendix D and G.1 worked examples.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import ecdsa
import ecdsa.ellipticcurve
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
WORKED = json.loads((VECTORS / "icao-worked-examples" / "icao-9303-11-worked-examples.json").read_text())
LDS1_AID = bytes.fromhex("A0000002471001")
ECDSA_CURVES = {
    "brainpoolP224r1": ecdsa.curves.BRAINPOOLP224r1,
    "brainpoolP256r1": ecdsa.curves.BRAINPOOLP256r1,
    "brainpoolP384r1": ecdsa.curves.BRAINPOOLP384r1,
    "P-256": ecdsa.curves.NIST256p,
    "P-384": ecdsa.curves.NIST384p,
}
PARAM_IDS = {"P-256": 12, "brainpoolP256r1": 13, "P-384": 15, "brainpoolP384r1": 16}


class CardSaid(Exception):
    def __init__(self, sw: int) -> None:
        super().__init__(f"SW {sw:04X}")
        self.sw = sw


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        length = bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
    return tag_bytes + length + value


def tlv_items(data: bytes) -> dict[int, bytes]:
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
    data += b"\x80"
    return data + bytes(-len(data) % block)


def unpad(data: bytes) -> bytes:
    data = data.rstrip(b"\x00")
    assert data.endswith(b"\x80"), "bad padding"
    return data[:-1]


def _des(key: bytes, data: bytes, decrypt: bool = False) -> bytes:
    k = key + key[:8] if len(key) == 16 else key
    c = Cipher(TripleDES(k), modes.CBC(bytes(8)))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def _retail_mac(key: bytes, data: bytes) -> bytes:
    # ISO/IEC 9797-1 MAC algorithm 3 (9303-11 §9.8.6.1): DES-CBC with Ka, then D(Kb), E(Ka).
    state = _des(key[:8] * 3, data)[-8:]
    return _des(key[:8] * 3, _des(key[8:16] * 3, state, decrypt=True))


def _aes(key: bytes, data: bytes, iv: bytes, decrypt: bool = False) -> bytes:
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def _cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:8]


def kdf(secret: bytes, counter: int, cipher: str, bits: int = 128) -> bytes:
    d = secret + counter.to_bytes(4, "big")
    if cipher == "3DES":
        raw = hashlib.sha1(d).digest()[:16]
        return bytes((b & 0xFE) | ((bin(b & 0xFE).count("1") + 1) & 1) for b in raw)
    return hashlib.sha1(d).digest()[:16] if bits == 128 else hashlib.sha256(d).digest()[: bits // 8]


@dataclass
class Session:
    cipher: str
    k_enc: bytes
    k_mac: bytes
    ssc: int
    ssc_len: int

    @property
    def block(self) -> int:
        return 8 if self.cipher == "3DES" else 16

    def step(self) -> bytes:
        self.ssc += 1
        return self.ssc.to_bytes(self.ssc_len, "big")

    def mac(self, data: bytes) -> bytes:
        p = pad(data, self.block)
        return _retail_mac(self.k_mac, p) if self.cipher == "3DES" else _cmac(self.k_mac, p)

    def crypt(self, data: bytes, ssc: bytes, decrypt: bool = False) -> bytes:
        if self.cipher == "3DES":
            return _des(self.k_enc, data, decrypt)
        c = Cipher(algorithms.AES(self.k_enc), modes.ECB())
        iv = c.encryptor().update(ssc)
        return _aes(self.k_enc, data, iv, decrypt)

    def protect(self, header: bytes, data: bytes, le: int | None) -> bytes:
        ssc = self.step()
        cla = bytes([header[0] | 0x0C]) + header[1:]
        dos = b""
        if data:
            dos += tlv(0x87, b"\x01" + self.crypt(pad(data, self.block), ssc))
        if le is not None:
            dos += tlv(0x97, bytes([le & 0xFF]))
        dos += tlv(0x8E, self.mac(ssc + pad(cla, self.block) + dos))
        return cla + bytes([len(dos)]) + dos + b"\x00"

    def unprotect(self, response: bytes) -> tuple[bytes, int]:
        ssc = self.step()
        body, sw = response[:-2], int.from_bytes(response[-2:], "big")
        items = tlv_items(body)
        if 0x8E not in items:
            raise CardSaid(sw)
        covered = body[: body.index(b"\x8e\x08" + items[0x8E])]
        if self.mac(ssc + covered) != items[0x8E]:
            raise AssertionError("response MAC does not verify")
        data = unpad(self.crypt(items[0x87][1:], ssc, decrypt=True)) if 0x87 in items else b""
        return data, int.from_bytes(items[0x99], "big")


class Terminal:
    """Drives a card object (``transmit(apdu) -> data‖SW``) like an inspection system."""

    def __init__(self, card: object) -> None:
        self.card = card
        self.sm: Session | None = None

    def raw(self, apdu: bytes) -> tuple[bytes, int]:
        r = self.card.transmit(apdu)  # type: ignore[attr-defined]
        return r[:-2], int.from_bytes(r[-2:], "big")

    def send(self, header: bytes, data: bytes = b"", le: int | None = None) -> tuple[bytes, int]:
        if self.sm is not None:
            protected = self.sm.protect(header, data, le)
            return self.sm.unprotect(self.card.transmit(protected))  # type: ignore[attr-defined]
        apdu = header + (bytes([len(data)]) + data if data else b"")
        apdu += bytes([le & 0xFF]) if le is not None else b""
        return self.raw(apdu)

    def ok(self, header: bytes, data: bytes = b"", le: int | None = None) -> bytes:
        out, sw = self.send(header, data, le)
        if sw != 0x9000:
            raise CardSaid(sw)
        return out

    def select_app(self) -> None:
        self.ok(h("00A4040C"), LDS1_AID)

    def read_file(self, fid: int, chunk: int = 0xDF) -> bytes:
        self.ok(h("00A4020C"), fid.to_bytes(2, "big"))
        head = self.ok(h("00B00000"), le=4)
        n = head[1]
        total = (2 + n) if n < 0x80 else 2 + (n & 0x7F) + int.from_bytes(head[2 : 2 + (n & 0x7F)], "big")
        data = b""
        while len(data) < total:
            offset = len(data)
            data += self.ok(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF]), le=min(chunk, total - offset))
        return data

    # --- BAC (9303-11 §9.7.3) --------------------------------------------------------------

    def bac(self, mrz_information: str, rnd_ifd: bytes | None = None, k_ifd: bytes | None = None) -> None:
        seed = hashlib.sha1(mrz_information.encode()).digest()[:16]
        k_enc, k_mac = kdf(seed, 1, "3DES"), kdf(seed, 2, "3DES")
        rnd_ic = self.ok(h("00840000"), le=8)
        rnd_ifd = rnd_ifd or secrets.token_bytes(8)
        k_ifd = k_ifd or secrets.token_bytes(16)
        e_ifd = _des(k_enc, rnd_ifd + rnd_ic + k_ifd)
        resp = self.ok(h("00820000"), e_ifd + _retail_mac(k_mac, pad(e_ifd, 8)), le=40)
        assert _retail_mac(k_mac, pad(resp[:32], 8)) == resp[32:], "M.IC does not verify"
        r = _des(k_enc, resp[:32], decrypt=True)
        assert r[:8] == rnd_ic and r[8:16] == rnd_ifd
        seed = bytes(a ^ b for a, b in zip(k_ifd, r[16:], strict=True))
        self.sm = Session("3DES", kdf(seed, 1, "3DES"), kdf(seed, 2, "3DES"),
                          int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big"), 8)

    # --- PACE generic mapping (9303-11 §4.4) -------------------------------------------------

    def pace(self, secret: str, *, can: bool, curve: str = "brainpoolP256r1", bits: int = 128,
             wrong_token: bool = False) -> None:
        ec_curve = ECDSA_CURVES[curve]
        size = ec_curve.baselen
        oid = h("04007F00070202040202")[:-1] + bytes([{128: 2, 192: 3, 256: 4}[bits]])
        key = secret.encode() if can else hashlib.sha1(secret.encode()).digest()
        k_pi = kdf(key, 3, "AES", bits)
        self.ok(h("0022C1A4"), tlv(0x80, oid) + tlv(0x83, b"\x02" if can else b"\x01")
                + tlv(0x84, bytes([PARAM_IDS[curve]])))

        def enc(p: ecdsa.ellipticcurve.PointJacobi) -> bytes:
            return b"\x04" + int(p.x()).to_bytes(size, "big") + int(p.y()).to_bytes(size, "big")

        def dec(b: bytes) -> ecdsa.ellipticcurve.PointJacobi:
            vk = ecdsa.VerifyingKey.from_string(b, curve=ec_curve)
            return ecdsa.ellipticcurve.PointJacobi.from_affine(vk.pubkey.point)

        def ga(data: bytes, last: bool = False) -> dict[int, bytes]:
            out, sw = self.raw(bytes([0x00 if last else 0x10]) + h("860000") + bytes([len(tlv(0x7C, data))])
                               + tlv(0x7C, data) + b"\x00")
            if sw != 0x9000:
                raise CardSaid(sw)
            return tlv_items(tlv_items(out)[0x7C])

        z = ga(b"")[0x80]
        s = int.from_bytes(_aes(k_pi, z, bytes(16), decrypt=True), "big")
        g, n = ec_curve.generator, ec_curve.order
        sk_map = secrets.randbelow(n - 1) + 1
        pk_map_ic = dec(ga(tlv(0x81, enc(g * sk_map)))[0x82])
        g_hat = g * s + pk_map_ic * sk_map
        sk = secrets.randbelow(n - 1) + 1
        pk_ifd = enc(g_hat * sk)
        pk_ic = ga(tlv(0x83, pk_ifd))[0x84]
        shared = int((dec(pk_ic) * sk).x()).to_bytes(size, "big")
        k_enc, k_mac = kdf(shared, 1, "AES", bits), kdf(shared, 2, "AES", bits)
        t_ifd = _cmac(k_mac, tlv(0x7F49, tlv(0x06, oid) + tlv(0x86, pk_ic)))
        if wrong_token:
            t_ifd = bytes([t_ifd[0] ^ 1]) + t_ifd[1:]
        t_ic = ga(tlv(0x85, t_ifd), last=True)[0x86]
        assert t_ic == _cmac(k_mac, tlv(0x7F49, tlv(0x06, oid) + tlv(0x86, pk_ifd))), "T_IC does not verify"
        self.sm = Session("AES", k_enc, k_mac, 0, 16)

    # --- Chip Authentication (9303-11 §6.2) -------------------------------------------------

    def chip_authenticate(self, chip_point: bytes, curve: str, cipher: str, bits: int, *,
                          via_general_authenticate: bool, oid: bytes = b"") -> None:
        ec_curve = ECDSA_CURVES[curve]
        sk = secrets.randbelow(ec_curve.order - 1) + 1
        pub = ec_curve.generator * sk
        size = ec_curve.baselen
        pk = b"\x04" + int(pub.x()).to_bytes(size, "big") + int(pub.y()).to_bytes(size, "big")
        if via_general_authenticate:
            self.ok(h("002241A4"), tlv(0x80, oid))
            out = self.ok(h("00860000"), tlv(0x7C, tlv(0x80, pk)), le=256)
            assert out == b"\x7c\x00"
        else:
            self.ok(h("002241A6"), tlv(0x91, pk))
        chip = ecdsa.VerifyingKey.from_string(chip_point, curve=ec_curve).pubkey.point
        shared = int((chip * sk).x()).to_bytes(size, "big")
        self.sm = Session(cipher, kdf(shared, 1, cipher, bits), kdf(shared, 2, cipher, bits), 0,
                          8 if cipher == "3DES" else 16)


# --- the terminal itself against the worked examples ------------------------------------------


def test_terminal_bac_kdf_matches_appendix_d1() -> None:
    d1 = WORKED["bac"]["D1_key_derivation_from_kseed"]
    assert kdf(h(d1["Kseed"]), 1, "3DES").hex().upper() == d1["enc"]["KEnc"]
    assert kdf(h(d1["Kseed"]), 2, "3DES").hex().upper() == d1["mac"]["KMAC"]


def test_terminal_sm_matches_appendix_d4() -> None:
    d4 = WORKED["secure_messaging_3des_D4"]
    s = Session("3DES", h(d4["KSEnc"]), h(d4["KSMAC"]), int(d4["SSC_initial"], 16), 8)
    first = d4["steps"][0]
    assert s.protect(h("00A4020C"), h("011E"), None).hex().upper() == first["protected_command"]
    assert s.unprotect(h(first["protected_response"])) == (b"", 0x9000)


def test_terminal_pace_kdf_matches_g1() -> None:
    g1 = WORKED["pace_gm_ecdh_G1"]
    k = hashlib.sha1(g1["MRZ_information"].encode()).digest()
    assert kdf(k, 3, "AES").hex().upper() == g1["K_pi"]
    secret = h(g1["key_agreement"]["shared_secret_x"])
    assert kdf(secret, 2, "AES").hex().upper() == g1["KSMAC"]
