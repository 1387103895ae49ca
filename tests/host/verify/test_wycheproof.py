"""Wycheproof ECDSA / RSA PKCS#1 v1.5 / RSA-PSS vectors through the signature adapter (C2SP v1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify.signatures import (
    PssParams,
    SignatureScheme,
    hash_name,
    load_public_key,
    verify_signature,
)

WYCHEPROOF = Path(__file__).resolve().parents[2] / "vectors" / "wycheproof" / "testvectors_v1"
FILES = sorted(
    p.name for p in WYCHEPROOF.glob("*.json") if p.name.startswith(("ecdsa_", "rsa_signature_", "rsa_pss_"))
)


def _hash(name: str) -> str:
    return hash_name(name.lower().replace("-", ""))


def _scheme(doc: dict[str, object], group: dict[str, object], fname: str) -> SignatureScheme:
    if fname.startswith("ecdsa_"):
        return SignatureScheme("ecdsa", _hash(str(group["sha"])), "plain" if "p1363" in fname else "der")
    if fname.startswith("rsa_signature_"):
        return SignatureScheme("rsa-pkcs1v15", _hash(str(group["sha"])))
    pss = PssParams(_hash(str(group["sha"])), _hash(str(group["mgfSha"])), int(str(group["sLen"])))
    return SignatureScheme("rsa-pss", pss.hash, pss=pss)


def test_vector_files_present() -> None:
    assert len(FILES) == 53


@pytest.mark.parametrize("fname", FILES)
def test_wycheproof_file(fname: str) -> None:
    doc = json.loads((WYCHEPROOF / fname).read_text())
    disagreements: list[str] = []
    counted = 0
    for group in doc["testGroups"]:
        key = load_public_key(bytes.fromhex(group["publicKeyDer"]))
        try:
            scheme = _scheme(doc, group, fname)
        except VerificationError:
            # A hash outside our set (none in the copied files): every case must then be non-valid.
            assert all(t["result"] != "valid" for t in group["tests"])
            continue
        for case in group["tests"]:
            counted += 1
            try:
                verify_signature(key, scheme, bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
                accepted = True
            except SignatureInvalid:
                accepted = False
            # Strict policy: "acceptable" (PKCS#1 MissingNull, weak params) must be rejected.
            expected = case["result"] == "valid"
            if accepted != expected:
                disagreements.append(f"tcId {case['tcId']} {case['result']} {case['comment']}")
    assert counted == doc["numberOfTests"]
    assert disagreements == []
