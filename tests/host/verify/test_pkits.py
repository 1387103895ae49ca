"""NIST PKITS §4.1–4.7 through TrustStore.validate (pyhanko-certvalidator wired to our adapter)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import cryptography_vectors
import pytest
from pyhanko_certvalidator.policy_decl import PKIXValidationParams

from partycard.errors import CertificateInvalid
from partycard.verify.policy import AlgorithmPolicy
from partycard.verify.trust import TrustStore, load_certificates, load_crls

PKITS = Path(os.path.dirname(cryptography_vectors.__file__)) / "x509" / "PKITS_data"
TABLE = Path(__file__).resolve().parents[2] / "vectors" / "pkits" / "pkits.json"
CASES = [c for c in json.loads(TABLE.read_text()) if 401 <= int(c["id"][:3]) <= 407]
AT = datetime(2022, 5, 1, tzinfo=UTC)
# PKITS uses SHA-1/RSA-1024 throughout and DSA-1024 in §4.1.4-5: a permissive, test-only policy.
PERMISSIVE = AlgorithmPolicy(
    sha1_uses=frozenset({"certificate", "crl"}), min_rsa_bits=1024, min_dsa_bits=1024
)
# pyHanko error class -> our reason codes (PROVENANCE.md mapping).
EXPECTED = {
    "RevokedError": {"ds.revoked"},
    "InsufficientRevinfoError": {"crl.unusable", "crl.missing"},
    "StaleRevinfoError": {"crl.stale"},
}


def _cert(name: str):  # type: ignore[no-untyped-def]
    return load_certificates((PKITS / "certs" / name).read_bytes())[0]


def test_section_counts() -> None:
    assert len(CASES) == 76


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['name']}" for c in CASES])
def test_pkits(case: dict) -> None:  # type: ignore[type-arg]
    store = TrustStore(roots=[_cert("TrustAnchorRootCertificate.crt")])
    store.intermediates = [_cert(n) for n in case.get("other_certs", [])]
    for name in ["TrustAnchorRootCRL.crl", *case.get("crls", [])]:
        store.crls.extend(load_crls((PKITS / "crls" / name).read_bytes()))
    params = None
    if "params" in case:
        p = case["params"]
        params = PKIXValidationParams(
            user_initial_policy_set=frozenset(p.get("user_initial_policy_set", ["any_policy"])),
            initial_explicit_policy=p.get("initial_explicit_policy", False),
            initial_policy_mapping_inhibit=p.get("initial_policy_mapping_inhibit", False),
            initial_any_policy_inhibit=p.get("initial_any_policy_inhibit", False),
        )
    explicit = None
    if "path_intermediates" in case:
        explicit = [store.roots[0], *(_cert(n) for n in case["path_intermediates"])]
    cert = _cert(case["cert"])
    revocation = "if-present" if case.get("revocation") is False else "require"
    error = case.get("error")
    if error is None:
        path = store.validate(
            cert,
            at=AT,
            algorithms=PERMISSIVE,
            revocation=revocation,
            explicit_path=explicit,
            pkix_params=params,
        )
        assert path.pkix_len + 1 == case["path_len"]
    else:
        with pytest.raises(CertificateInvalid) as info:
            store.validate(
                cert,
                at=AT,
                algorithms=PERMISSIVE,
                revocation=revocation,
                explicit_path=explicit,
                pkix_params=params,
            )
        allowed = EXPECTED.get(error["class"])
        if allowed is not None:
            assert info.value.reason in allowed, str(info.value)
        else:
            assert info.value.reason not in {"ds.revoked", "crl.stale", "crl.unusable"}, str(info.value)
