"""Benchmark, verification throughput against the raw cost of the cryptography it needs.

Full verification is what the kiosk runs per tap (``DocumentVerifier``: SOD, hashes, DS path and
CRL, AA, CA, status, verdict), on one core, timed in CPU seconds. The raw bound is the
cryptography a verifier with the DS path already validated (paths cached) cannot avoid: one
digest per data group read, the eContent digest, the SOD signature and the AA signature, on keys
and signatures decoded beforehand. The path's own signatures (DS certificate and CRL, both by the
root) are timed too and reported beside it, for a verifier that does not cache paths.

Where full verification is far from the bound, a profile of it says where the time goes, summed
by top-level package.
"""

from __future__ import annotations

import cProfile
import hashlib
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from partycard.bench.cards import BenchCard
from partycard.card.reader import DocumentRead
from partycard.verify.aa import ecdsa_hash_from_dg14, parse_dg15
from partycard.verify.signatures import load_public_key
from partycard.verify.sod import group_number, unwrap_sod

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _ec_key(native: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(native, ec.EllipticCurvePublicKey):
        raise TypeError("the raw bound covers EC keys that cryptography handles natively")
    return native


def raw_operations(read: DocumentRead, card: BenchCard) -> tuple[Callable[[], None], Callable[[], None]]:
    """(the cryptography of one verification with the path cached, the path's two signatures).

    Everything that is parsing or decoding happens here, once, outside the timed calls.
    """
    files = read.files
    signed = cms.ContentInfo.load(unwrap_sod(files["EF.SOD"]))["content"]
    si = signed["signer_infos"][0]
    digest_name = si["digest_algorithm"]["algorithm"].native
    content = signed["encap_content_info"]["content"].native
    signed_attrs = b"\x31" + si["signed_attrs"].dump()[1:]  # RFC 5652 §5.4: explicit SET OF tag
    sod_sig = si["signature"].native
    ds_asn1 = signed["certificates"][0].chosen
    ds_key = _ec_key(load_public_key(ds_asn1.public_key).native)
    groups = [data for name, data in files.items() if group_number(name) is not None]

    aa = read.aa
    if aa is None:
        raise TypeError("the read has no Active Authentication exchange")
    aa_pub = parse_dg15(files["DG15"])
    aa_key = _ec_key(aa_pub.native)
    aa_hash = ecdsa_hash_from_dg14(files.get("DG14"), aa_pub)
    half = len(aa.signature) // 2
    aa_sig = encode_dss_signature(
        int.from_bytes(aa.signature[:half], "big"), int.from_bytes(aa.signature[half:], "big")
    )
    sod_alg = ec.ECDSA(_HASHES[digest_name]())
    aa_alg = ec.ECDSA(_HASHES[aa_hash]())

    def cached() -> None:
        for data in groups:
            hashlib.new(digest_name, data).digest()
        hashlib.new(digest_name, content).digest()
        ds_key.verify(sod_sig, signed_attrs, sod_alg)
        aa_key.verify(aa_sig, aa.challenge, aa_alg)

    root = x509.load_pem_x509_certificate(card.pki.root_cert.read_bytes())
    root_key = _ec_key(root.public_key())
    ds = x509.load_der_x509_certificate(ds_asn1.dump())
    crl = x509.load_pem_x509_crl(card.pki.crl.read_bytes())
    ds_hash, crl_hash = ds.signature_hash_algorithm, crl.signature_hash_algorithm
    if ds_hash is None or crl_hash is None:
        raise TypeError("the path signatures name no hash")

    def path() -> None:
        root_key.verify(ds.signature, ds.tbs_certificate_bytes, ec.ECDSA(ds_hash))
        root_key.verify(crl.signature, crl.tbs_certlist_bytes, ec.ECDSA(crl_hash))

    return cached, path


def per_second(fn: Callable[[], object], min_s: float) -> float:
    """Calls per CPU second of ``fn`` on this core, over at least ``min_s`` CPU seconds."""
    fn()  # warm: first-call imports and caches are not the steady state
    n = 0
    start = time.process_time()
    while True:
        fn()
        n += 1
        spent = time.process_time() - start
        if spent >= min_s:
            return n / spent


#: The steps of one verification (functions of partycard.verify.document and the kiosk verifier).
_STEPS = {
    ("verify/document.py", "_passive"): "SOD signature + DG hashes",
    ("verify/document.py", "_chain"): "DS path + CRL (pyhanko)",
    ("verify/document.py", "_aa"): "Active Authentication",
    ("verify/document.py", "_ca"): "Chip Authentication",
    ("verify/document.py", "_status"): "card status",
    ("kiosk/compose.py", "member_summary"): "member summary (DG13 parse)",
}


def profile(fn: Callable[[], object], calls: int) -> tuple[dict[str, float], dict[str, float]]:
    """Where ``fn``'s time goes: (share per verification step, share of own time per package)."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    raw: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    by_pkg: dict[str, float] = {}
    steps: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        pkg = _package(str(filename))
        by_pkg[pkg] = by_pkg.get(pkg, 0.0) + float(tottime)
        for (suffix, func), label in _STEPS.items():
            if name == func and str(filename).endswith(suffix):
                steps[label] = steps.get(label, 0.0) + float(cumtime)
    total = sum(by_pkg.values()) or 1.0
    top = sorted(by_pkg.items(), key=lambda kv: -kv[1])[:6]
    return (
        {k: round(v / total, 3) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])},
        {k: round(v / total, 3) for k, v in top},
    )


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/partycard/" in filename:
        parts = filename.split("/partycard/", 1)[1].split("/")
        return "partycard." + parts[0].removesuffix(".py")
    if filename.startswith("<") or filename == "~":
        return "C calls (hashes, signatures, builtins)"
    return "stdlib"


@dataclass(frozen=True)
class VerifyCost:
    cards_per_s: float
    raw_bound_per_s: float
    raw_with_path_per_s: float
    steps: dict[str, float]
    packages: dict[str, float]
    verdict: str
    path_cache: tuple[int, int]  #: (answers from the trust store's path cache, validations run)

    @property
    def ratio(self) -> float:
        return self.cards_per_s / self.raw_bound_per_s

    def to_json(self) -> dict[str, Any]:
        return {
            "cards_per_s": round(self.cards_per_s, 1),
            "raw_bound_per_s": round(self.raw_bound_per_s, 1),
            "ratio": round(self.cards_per_s / self.raw_bound_per_s, 3),
            "raw_with_path_per_s": round(self.raw_with_path_per_s, 1),
            "verdict": self.verdict,
            "path_cache_hits": self.path_cache[0],
            "path_validations": self.path_cache[1],
            "profile_share_by_step": self.steps,
            "profile_share_by_package": self.packages,
            "method": "CPU seconds on one core; full = DocumentVerifier on the photo read, DS paths cached "
            "(path_cache_hits); raw = digests of "
            "the read data groups and eContent, SOD and AA ECDSA verifications (path cached); "
            "raw_with_path adds the DS certificate and CRL signatures",
        }


def measure(read: DocumentRead, nonce: bytes, card: BenchCard, min_s: float) -> VerifyCost:
    verdict, _ = card.verifier(read, nonce)

    def full() -> None:
        card.verifier(read, nonce)

    cached, path = raw_operations(read, card)

    def with_path() -> None:
        cached()
        path()

    cards = per_second(full, min_s)
    raw = per_second(cached, min_s)
    raw_path = per_second(with_path, min_s)
    steps, packages = profile(full, 10)
    trust = card.verifier.trust
    return VerifyCost(
        cards,
        raw,
        raw_path,
        steps,
        packages,
        str(verdict["verdict"]),
        (trust.path_cache_hits, trust.path_validations),
    )
