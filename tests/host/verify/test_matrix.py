"""Crafted-card matrix: each forged, cloned, tampered or withdrawn card with the reason it must get,
and valid variants that must pass. Cards come from factory.py (independent of the verifier)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core

from partycard.verify import PARTY_2025, AAExchange, Denylist, TrustStore, Verdict, verify_document
from partycard.verify.denylist import REASONS, DenyEntry
from partycard.verify.policy import ICAO_2025, Policy

from . import factory as F

CHALLENGE = bytes.fromhex("0123456789abcdef")
REASON_DOC = (Path(__file__).resolve().parents[3] / "docs" / "reason-codes.md").read_text(encoding="utf-8")


def _documented(verdict: Verdict) -> None:
    for check in verdict.checks:
        if check.reason is not None:
            assert f"`{check.reason}`" in REASON_DOC, check.reason


@dataclass
class Case:
    card: F.Card
    store: TrustStore
    aa: AAExchange | None = None
    ca_ran: bool | None = True
    denylist: Denylist | None = field(default_factory=lambda: Denylist(F.AT - timedelta(hours=1), {}))
    policy: Policy = PARTY_2025
    at: datetime = F.AT
    card_number: str | None = None

    expected_challenge: bytes | None = None

    def run(self) -> Verdict:
        return verify_document(
            self.card.files,
            self.store,
            policy=self.policy,
            denylist=self.denylist,
            card_number=self.card_number or self.card.card_number,
            aa=self.aa,
            ca_ran=self.ca_ran,
            at=self.at,
            expected_challenge=self.expected_challenge,
        )


@pytest.fixture(scope="module")
def pki() -> F.Pki:
    return F.build_pki("bp256", "p256")


def _store(pki: F.Pki, *, crl: bool = True) -> TrustStore:
    return TrustStore(roots=[pki.csca.cert], crls=[pki.crl] if crl else [])


def _genuine(pki: F.Pki, card: F.Card | None = None, **kw: object) -> Case:
    card = card or F.build_card(pki.ds)
    aa = AAExchange(CHALLENGE, F.aa_response(card, CHALLENGE)) if card.aa_key is not None else None
    return Case(card, kw.pop("store", None) or _store(pki), aa=aa, **kw)  # type: ignore[arg-type]


def _tamper(files: dict[str, bytes], name: str) -> dict[str, bytes]:
    out = dict(files)
    data = bytearray(out[name])
    data[-1] ^= 0x01
    out[name] = bytes(data)
    return out


# Each builder returns a Case; the id is the expected reason code (plus a suffix when repeated).
def m_tampered_dg1(p: F.Pki) -> Case:
    c = _genuine(p)
    c.card.files = _tamper(c.card.files, "DG1")
    return c


def m_tampered_dg13(p: F.Pki) -> Case:
    c = _genuine(p)
    c.card.files = _tamper(c.card.files, "DG13")
    return c


def m_dg_absent_from_sod(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, extra_files={"DG11": F.tlv(b"\x6b", b"\x00" * 8)}))


def m_dg13_omitted_from_sod(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(omit=(13,))))


def m_sod_hash_for_missing_group(p: F.Pki) -> Case:
    c = _genuine(p)
    del c.card.files["DG13"]
    return c


def m_signature_over_other_content(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(sign_other_content=True)))


def m_wrong_message_digest(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(bad_message_digest=True)))


def m_wrong_content_type_attr(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(bad_content_type=True)))


def m_sod_missing(p: F.Pki) -> Case:
    c = _genuine(p)
    del c.card.files["EF.SOD"]
    return c


def m_sod_garbage(p: F.Pki) -> Case:
    c = _genuine(p)
    c.card.files["EF.SOD"] = b"\x77\x03\x30\x01\x00"
    return c


def m_sod_signature_byte_flipped(p: F.Pki) -> Case:
    c = _genuine(p)
    c.card.files = _tamper(c.card.files, "EF.SOD")  # last byte = end of the signature
    return c


def m_signer_not_found(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(embed=False)))


def m_ds_not_chaining(p: F.Pki) -> Case:
    rogue = F.build_pki("p256", "p256")
    return _genuine(p, F.build_card(rogue.ds), store=TrustStore(roots=[p.csca.cert], crls=[p.crl, rogue.crl]))


def m_ds_forged_issuer_name(p: F.Pki) -> Case:
    # Right issuer name and key identifier, signed by another key: only the signature check catches it.
    forged = F.make_ds(p.csca, signing_key=F.new_key("bp256"))
    return _genuine(p, F.build_card(forged))


def m_expired_ds(p: F.Pki) -> Case:
    ds = F.make_ds(
        p.csca, not_before=datetime(2015, 1, 1, tzinfo=UTC), not_after=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return _genuine(p, F.build_card(ds))


def m_ds_not_yet_valid(p: F.Pki) -> Case:
    ds = F.make_ds(p.csca, not_before=datetime(2026, 7, 1, tzinfo=UTC))
    return _genuine(p, F.build_card(ds))


def m_revoked_ds(p: F.Pki) -> Case:
    ds = F.make_ds(p.csca)
    store = TrustStore(roots=[p.csca.cert], crls=[F.make_crl(p.csca, revoked=(ds.cert.serial_number,))])
    return _genuine(p, F.build_card(ds), store=store)


def m_stale_crl(p: F.Pki) -> Case:
    old = F.make_crl(p.csca, this_update=F.AT - timedelta(days=30), next_update=F.AT - timedelta(days=2))
    return _genuine(p, store=TrustStore(roots=[p.csca.cert], crls=[old]))


def m_missing_crl(p: F.Pki) -> Case:
    return _genuine(p, store=_store(p, crl=False))


def m_crl_bad_signature(p: F.Pki) -> Case:
    bad = F.make_crl(p.csca, signing_key=F.new_key("bp256"))
    return _genuine(p, store=TrustStore(roots=[p.csca.cert], crls=[bad]))


def m_unknown_critical_extension(p: F.Pki) -> Case:
    ext = {
        "extn_id": "1.3.6.1.4.1.99999.1",
        "critical": True,
        "extn_value": core.OctetString(b"\x05\x00").dump(),
    }
    ds = F.make_ds(p.csca, extra_extensions=[ext])
    return _genuine(p, F.build_card(ds))


def m_wrong_key_usage(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(F.make_ds(p.csca, key_usage={"key_encipherment"})))


def m_sod_sha1_disallowed(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, sod=F.SodOptions(hash_name="sha1")))


def m_ds_rsa1024_disallowed(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(F.make_ds(p.csca, "rsa1024")))


def m_cloned_chip(p: F.Pki) -> Case:
    c = _genuine(p)
    # Same signed data, but the clone's chip holds another AA key (it cannot extract the original).
    c.aa = AAExchange(CHALLENGE, F.aa_response(c.card, CHALLENGE, key=F.new_key("p256")))
    return c


def m_replayed_aa(p: F.Pki) -> Case:
    c = _genuine(p)
    recorded = F.aa_response(c.card, bytes.fromhex("fedcba9876543210"))  # from an earlier read
    c.aa = AAExchange(CHALLENGE, recorded)
    return c


def m_replayed_aa_pair(p: F.Pki) -> Case:
    # A recorded (challenge, response) pair from an earlier read, presented whole; only the nonce the
    # verifier itself issued exposes it.
    c = _genuine(p)
    old = bytes.fromhex("fedcba9876543210")
    c.aa = AAExchange(old, F.aa_response(c.card, old))
    c.expected_challenge = CHALLENGE
    return c


def m_aa_short_challenge(p: F.Pki) -> Case:
    c = _genuine(p)
    c.aa = AAExchange(CHALLENGE[:4], F.aa_response(c.card, CHALLENGE[:4]))
    return c


def m_aa_key_not_in_sod(p: F.Pki) -> Case:
    card = F.build_card(p.ds, sod=F.SodOptions(omit=(15,)))
    return _genuine(p, card)


def m_aa_rsa_sha1_disallowed(p: F.Pki) -> Case:
    card = F.build_card(p.ds, aa="rsa2048", aa_hash="sha1")
    return _genuine(p, card)


def m_ca_failed(p: F.Pki) -> Case:
    return _genuine(p, ca_ran=False)


def m_ca_dg14_not_in_sod(p: F.Pki) -> Case:
    return _genuine(p, F.build_card(p.ds, aa=None, sod=F.SodOptions(omit=(14,))))


def _listed(reason: str) -> Callable[[F.Pki], Case]:
    def build(p: F.Pki) -> Case:
        c = _genuine(p)
        c.denylist = Denylist(
            F.AT - timedelta(hours=1), {c.card.card_number: DenyEntry(c.card.card_number, reason)}
        )
        return c

    return build


MATRIX: list[tuple[str, Callable[[F.Pki], Case], str]] = [
    ("tampered-dg1", m_tampered_dg1, "dg.hash_mismatch"),
    ("tampered-dg13", m_tampered_dg13, "dg.hash_mismatch"),
    ("dg-absent-from-sod", m_dg_absent_from_sod, "dg.not_covered"),
    ("dg13-omitted-from-sod", m_dg13_omitted_from_sod, "dg.not_covered"),
    ("sod-hash-for-missing-group", m_sod_hash_for_missing_group, "dg.missing"),
    ("signature-over-other-content", m_signature_over_other_content, "sod.signature_invalid"),
    ("sod-signature-byte-flipped", m_sod_signature_byte_flipped, "sod.signature_invalid"),
    ("wrong-message-digest", m_wrong_message_digest, "sod.message_digest_mismatch"),
    ("wrong-content-type-attribute", m_wrong_content_type_attr, "sod.content_type_mismatch"),
    ("sod-missing", m_sod_missing, "sod.missing"),
    ("sod-garbage", m_sod_garbage, "sod.malformed"),
    ("signer-not-found", m_signer_not_found, "sod.signer_not_found"),
    ("ds-not-chaining", m_ds_not_chaining, "ds.not_trusted"),
    ("ds-forged-issuer", m_ds_forged_issuer_name, "chain.invalid"),
    ("expired-ds", m_expired_ds, "ds.expired"),
    ("ds-not-yet-valid", m_ds_not_yet_valid, "ds.not_yet_valid"),
    ("revoked-ds", m_revoked_ds, "ds.revoked"),
    ("stale-crl", m_stale_crl, "crl.stale"),
    ("missing-crl", m_missing_crl, "crl.missing"),
    ("crl-bad-signature", m_crl_bad_signature, "crl.unusable"),
    ("unknown-critical-extension", m_unknown_critical_extension, "ds.unknown_critical_extension"),
    ("wrong-key-usage", m_wrong_key_usage, "ds.key_usage"),
    ("sod-sha1", m_sod_sha1_disallowed, "alg.disallowed"),
    ("ds-rsa1024", m_ds_rsa1024_disallowed, "alg.disallowed"),
    ("cloned-chip", m_cloned_chip, "aa.signature_invalid"),
    ("replayed-aa", m_replayed_aa, "aa.signature_invalid"),
    ("replayed-aa-pair", m_replayed_aa_pair, "aa.challenge_mismatch"),
    ("aa-short-challenge", m_aa_short_challenge, "aa.challenge_invalid"),
    ("aa-key-not-in-sod", m_aa_key_not_in_sod, "aa.key_unauthenticated"),
    ("aa-rsa-sha1", m_aa_rsa_sha1_disallowed, "alg.disallowed"),
    ("ca-failed", m_ca_failed, "ca.failed"),
    ("ca-dg14-not-in-sod", m_ca_dg14_not_in_sod, "ca.key_unauthenticated"),
    *((f"denylist-{r}", _listed(r), f"status.{r}") for r in REASONS),
]


def test_matrix_size() -> None:
    assert len(MATRIX) >= 30


@pytest.mark.parametrize(("builder", "reason"), [(b, r) for _, b, r in MATRIX], ids=[i for i, _, _ in MATRIX])
def test_crafted_card_rejected(pki: F.Pki, builder: Callable[[F.Pki], Case], reason: str) -> None:
    verdict = builder(pki).run()
    assert verdict.status == "invalid", verdict.checks  # zero false accepts
    assert reason in verdict.reasons, verdict.checks
    assert verdict.to_json()["verdict"] == "invalid"
    _documented(verdict)


def test_incomplete_cases(pki: F.Pki) -> None:
    """Nothing failed, but something the policy requires was not performed."""
    expectations = []
    c = _genuine(pki)
    c.denylist = None
    expectations.append((c, "card.status", "status.no_list"))
    c = _genuine(pki)
    c.denylist = Denylist(F.AT - timedelta(days=3), {})
    expectations.append((c, "card.status", "status.list_stale"))
    c = _genuine(pki, F.build_card(pki.ds, aa="p256"), ca_ran=None)
    c.aa = None
    expectations.append((c, "chip.aa", "aa.not_run"))
    c = _genuine(pki, F.build_card(pki.ds, aa=None, ca=False), ca_ran=None)
    expectations.append((c, "chip.ca", "ca.not_supported_by_card"))
    for case, name, reason in expectations:
        verdict = case.run()
        assert verdict.status == "incomplete", verdict.checks
        assert verdict.check(name).status == "not_performed"
        assert verdict.check(name).reason == reason
        _documented(verdict)


def test_crl_optional_under_icao_policy(pki: F.Pki) -> None:
    c = _genuine(pki, store=_store(pki, crl=False), policy=ICAO_2025)
    verdict = c.run()
    assert verdict.status == "valid"
    assert verdict.check("ds.revocation").reason == "crl.missing"
    assert verdict.check("ds.revocation").status == "not_performed"


def test_denylisted_even_when_list_is_old(pki: F.Pki) -> None:
    c = _genuine(pki)
    c.denylist = Denylist(
        F.AT - timedelta(days=30), {c.card.card_number: DenyEntry(c.card.card_number, "forged")}
    )
    assert c.run().check("card.status").reason == "status.forged"


def test_verdict_json_shape(pki: F.Pki) -> None:
    doc = _genuine(pki).run().to_json()
    assert set(doc) == {"verdict", "policy_version", "issuer", "checks"}
    assert [c["name"] for c in doc["checks"]] == [
        "sod.signature",
        "dg.hashes",
        "ds.path",
        "ds.revocation",
        "chip.aa",
        "chip.ca",
        "card.status",
    ]
