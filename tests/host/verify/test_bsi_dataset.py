"""BSI TR-03105-5 reference data set (and the ETSI TR 103 200 prototype SOD): passive authentication
against the embedded DS, no published root, and AA with the set's DG15 private key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from partycard.verify import ICAO_2025, PARTY_2025, AAExchange, TrustStore, verify_document
from partycard.verify.aa import verify_active_authentication
from partycard.verify.sod import verify_sod
from partycard.verify.trust import load_certificates

from . import factory as F

BSI = Path(__file__).resolve().parents[2] / "vectors" / "bsi-reference-dataset"
ETSI = BSI / "extras-etsi-tr103200-EACAA"
DURING = datetime(2014, 6, 1, tzinfo=UTC)  # inside the DS validity 2013-12-16 .. 2014-12-11
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _files(root: Path, groups: tuple[int, ...]) -> dict[str, bytes]:
    files = {f"DG{n}": (root / f"Datagroup{n}.bin").read_bytes() for n in groups}
    files["EF.SOD"] = (root / "EF_SOD.bin").read_bytes()
    return files


def test_sod_signature_and_hashes_with_embedded_ds() -> None:
    sod = verify_sod((BSI / "EF_SOD.bin").read_bytes(), algorithms=ICAO_2025.algorithms)
    assert sod.signed.signer_embedded
    assert sod.signed.scheme.kind == "rsa-pss" and sod.signed.scheme.pss is not None
    assert sod.signed.scheme.pss.salt_len == 32
    assert sorted(sod.hashes) == [1, 2, 3, 4, 14]
    # The DS embedded equals the separately published certificate (extras-dsc).
    published = load_certificates((BSI / "extras-dsc" / "dsc_de_0142fd5cf927.cer").read_bytes())[0]
    assert sod.signed.signer.dump() == published.dump()


@pytest.mark.parametrize("at", [DURING, NOW], ids=["during-ds-validity", "now"])
def test_no_root_never_valid(at: datetime) -> None:
    files = _files(BSI, (1, 2, 3, 4, 14))
    verdict = verify_document(
        files, TrustStore(), policy=ICAO_2025, denylist=None, card_number=None, aa=None, ca_ran=None, at=at
    )
    assert verdict.check("sod.signature").status == "passed"
    assert verdict.check("dg.hashes").status == "passed"
    assert verdict.status == "invalid"
    expected = "ds.not_trusted" if at == DURING else "ds.expired"
    assert verdict.check("ds.path").reason == expected
    assert verdict.issuer == "HJP Consulting"


def test_party_policy_also_rejects() -> None:
    files = _files(BSI, (1, 2, 3, 4, 14))
    verdict = verify_document(
        files,
        TrustStore(),
        policy=PARTY_2025,
        denylist=None,
        card_number=None,
        aa=None,
        ca_ran=None,
        at=DURING,
    )
    assert verdict.status == "invalid"
    assert "ds.not_trusted" in verdict.reasons


def test_tampered_group_and_signature() -> None:
    files = _files(BSI, (1, 2, 3, 4, 14))
    dg1 = bytearray(files["DG1"])
    dg1[10] ^= 0x20
    v = verify_document(
        {**files, "DG1": bytes(dg1)},
        TrustStore(),
        policy=ICAO_2025,
        denylist=None,
        card_number=None,
        aa=None,
        ca_ran=None,
        at=DURING,
    )
    assert v.check("dg.hashes").reason == "dg.hash_mismatch"
    sod = bytearray(files["EF.SOD"])
    sod[-5] ^= 0x01
    v = verify_document(
        {**files, "EF.SOD": bytes(sod)},
        TrustStore(),
        policy=ICAO_2025,
        denylist=None,
        card_number=None,
        aa=None,
        ca_ran=None,
        at=DURING,
    )
    assert v.check("sod.signature").reason == "sod.signature_invalid"


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
def test_aa_with_dataset_key_is_unauthenticated(hash_name: str) -> None:
    key = serialization.load_der_private_key((BSI / "DG15_sk.pkcs8").read_bytes(), password=None)
    challenge = bytes.fromhex("96302b0f3d7e7864")
    files = _files(BSI, (1, 2, 3, 4, 14, 15))
    signature = F.aa_sign_rsa(key, challenge, hash_name)
    # The signature itself verifies against DG15 ...
    assert verify_active_authentication(
        files["DG15"], AAExchange(challenge, signature), algorithms=ICAO_2025.algorithms
    ).mechanism.startswith("rsa-iso9796-2")
    verdict = verify_document(
        files,
        TrustStore(),
        policy=ICAO_2025,
        denylist=None,
        card_number=None,
        aa=AAExchange(challenge, signature),
        ca_ran=None,
        at=DURING,
    )
    # ... but DG15 is not in the SOD, so it proves nothing about the document.
    assert verdict.check("chip.aa").reason == "aa.key_unauthenticated"
    assert verdict.check("dg.hashes").reason == "dg.not_covered"
    assert verdict.status == "invalid"
    # A different RSA-1024 key (a cloned chip) does not verify at all.
    clone = F.new_key("rsa1024")
    bad = verify_document(
        files,
        TrustStore(),
        policy=ICAO_2025,
        denylist=None,
        card_number=None,
        aa=AAExchange(challenge, F.aa_sign_rsa(clone, challenge, hash_name)),
        ca_ran=None,
        at=DURING,
    )
    assert bad.check("chip.aa").reason == "aa.signature_invalid"


def test_etsi_prototype_covers_dg15() -> None:
    files = {f"DG{n}": (ETSI / f"Datagroup{n}.bin").read_bytes() for n in (1, 14, 15)}
    files |= {f"DG{n}": (BSI / f"Datagroup{n}.bin").read_bytes() for n in (2, 3, 4)}
    files["EF.SOD"] = (ETSI / "EF_SOD.bin").read_bytes()
    at = datetime(2012, 1, 1, tzinfo=UTC)
    verdict = verify_document(
        files, TrustStore(), policy=ICAO_2025, denylist=None, card_number=None, aa=None, ca_ran=None, at=at
    )
    assert verdict.check("sod.signature").status == "passed"
    assert verdict.check("dg.hashes").status == "passed", verdict.check("dg.hashes")
    assert verdict.check("ds.path").reason == "ds.not_trusted"
    assert verdict.check("chip.aa").reason == "aa.not_run"
