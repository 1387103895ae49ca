"""Explicit EC parameters (ICAO 9303-12 §4.1.6.3), the ISO 9796-2 AA message (9303-11 Appendix F),
AA trailer variants and the master-list loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asn1crypto import keys

from partycard.errors import ConfigError, SignatureInvalid, VerificationError
from partycard.verify.aa import AAExchange, check_iso9796_2_message, verify_active_authentication
from partycard.verify.policy import ICAO_2025, PARTY_2025
from partycard.verify.signatures import SignatureScheme, load_public_key, verify_signature
from partycard.verify.trust import load_certificates

from . import factory as F

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


@pytest.mark.parametrize("kind", ["p256", "p384", "bp256", "bp384", "bp512"])
def test_explicit_parameters_map_to_named_curve(kind: str) -> None:
    key = F.new_key(kind)
    explicit = F.spki(key, explicit=True)
    assert explicit["algorithm"]["parameters"].name == "specified"
    loaded = load_public_key(explicit.dump())
    named = load_public_key(F.spki(key).dump())
    assert loaded.curve == named.curve
    sig = key.sign(b"msg", F.ec.ECDSA(F.hashes.SHA256()))
    verify_signature(loaded, SignatureScheme("ecdsa", "sha256"), b"msg", sig)


def test_cryptography_alone_cannot_load_explicit_parameters() -> None:
    """Why the adapter exists: a valid verdict with an explicit-parameter CSCA (test_valid_variants)
    is only possible because pyhanko's signature check is routed through our key loader."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    # cryptography 50 maps explicit NIST P-curves itself, but no Brainpool curve (ICAO's usual choice).
    with pytest.raises((ValueError, UnsupportedAlgorithm)):
        load_der_public_key(F.spki(F.new_key("bp256"), explicit=True).dump())


def _with_b(spki: keys.PublicKeyInfo, b: bytes) -> bytes:
    params = spki["algorithm"]["parameters"].chosen
    specified = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": params["field_id"].native,
            "curve": {"a": params["curve"]["a"].native, "b": b},
            "base": params["base"].native,
            "order": params["order"].native,
            "cofactor": 1,
        }
    )
    return bytes(
        keys.PublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": "ec",
                    "parameters": keys.ECDomainParameters(name="specified", value=specified),
                },
                "public_key": spki["public_key"].native,
            }
        ).dump()
    )


def test_explicit_parameters_of_unknown_curve_rejected() -> None:
    spki = F.spki(F.new_key("bp256"), explicit=True)
    b = bytearray(spki["algorithm"]["parameters"].chosen["curve"]["b"].native)
    b[-1] ^= 1
    with pytest.raises(VerificationError) as info:
        load_public_key(_with_b(spki, bytes(b)))
    assert info.value.reason == "key.curve_unsupported"


def test_bsi_explicit_brainpool_p224_key_loads() -> None:
    # DG14_pk.bin: explicit brainpoolP224r1 parameters, a curve cryptography cannot load at all.
    key = load_public_key((VECTORS / "bsi-reference-dataset" / "DG14_pk.bin").read_bytes())
    assert key.curve is not None and key.curve.name == "brainpoolP224r1"


def test_icao_appendix_f_message() -> None:
    f_vec = json.loads((VECTORS / "icao-worked-examples" / "icao-9303-11-worked-examples.json").read_text())
    aa = f_vec["active_authentication_F"]
    f = bytes.fromhex(aa["F"])
    assert check_iso9796_2_message(f, bytes.fromhex(aa["RND_IFD"]), ICAO_2025.algorithms) == "sha1"
    with pytest.raises(SignatureInvalid):
        check_iso9796_2_message(f, bytes.fromhex("0000000000000000"), ICAO_2025.algorithms)
    with pytest.raises(VerificationError) as info:  # SHA-1 AA is not allowed for party cards
        check_iso9796_2_message(f, bytes.fromhex(aa["RND_IFD"]), PARTY_2025.algorithms)
    assert info.value.reason == "alg.disallowed"
    with pytest.raises(SignatureInvalid):  # header other than 6A
        check_iso9796_2_message(b"\x4b" + f[1:], bytes.fromhex(aa["RND_IFD"]), ICAO_2025.algorithms)


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("complement", [False, True])
def test_rsa_aa_trailers(hash_name: str, complement: bool) -> None:
    key = F.new_key("rsa2048")
    challenge = bytes(range(8))
    sig = F.aa_sign_rsa(key, challenge, hash_name, complement=complement)
    res = verify_active_authentication(
        F.dg15(key), AAExchange(challenge, sig), algorithms=ICAO_2025.algorithms
    )
    assert res.mechanism == f"rsa-iso9796-2-{hash_name}"
    with pytest.raises(SignatureInvalid):
        verify_active_authentication(F.dg15(key), AAExchange(bytes(8), sig), algorithms=ICAO_2025.algorithms)


@pytest.mark.parametrize(
    ("kind", "hash_name"), [("p256", "sha256"), ("bp384", "sha384"), ("bp512", "sha512")]
)
def test_ecdsa_aa_plain_and_der_refused(kind: str, hash_name: str) -> None:
    key = F.new_key(kind)
    challenge = bytes.fromhex("1122334455667788")
    plain = F.aa_sign_ecdsa(key, challenge, hash_name)
    dg14 = F.dg14(hash_name)
    res = verify_active_authentication(
        F.dg15(key), AAExchange(challenge, plain), algorithms=PARTY_2025.algorithms, dg14=dg14
    )
    assert res.mechanism == f"ecdsa-plain-{hash_name}"
    # Without DG14 the hash follows the curve size, which is what these keys used.
    verify_active_authentication(F.dg15(key), AAExchange(challenge, plain), algorithms=PARTY_2025.algorithms)
    der = key.sign(challenge, F.ec.ECDSA(F._HASH[hash_name]()))
    with pytest.raises(SignatureInvalid):  # 9303-11 §6.1: plain format only
        verify_active_authentication(
            F.dg15(key), AAExchange(challenge, der), algorithms=PARTY_2025.algorithms, dg14=dg14
        )


def test_master_list_tampered_or_foreign_signer() -> None:
    pki = F.build_pki("bp256", "p256")
    signer = F.make_cert(F.name("ML Signer"), F.new_key("p256"), issuer=pki.csca, ca=False)
    ml = F.make_master_list([pki.csca.cert], signer)
    assert [c.dump() for c in load_certificates(ml)] == [pki.csca.cert.dump()]
    broken = bytearray(ml)
    broken[-3] ^= 0x01
    with pytest.raises((VerificationError, ConfigError)):
        load_certificates(bytes(broken))
    stranger = F.build_pki("p256", "p256")
    foreign = F.make_cert(F.name("ML Signer"), F.new_key("p256"), issuer=stranger.csca, ca=False)
    with pytest.raises(VerificationError) as info:
        load_certificates(F.make_master_list([pki.csca.cert], foreign))
    assert info.value.reason == "ml.signer_not_trusted"
