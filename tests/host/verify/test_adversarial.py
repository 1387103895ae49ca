"""Adversarial review of card verification: an attacker with a card-personalisation kit and the
public CSCA certificate (sometimes also a leaked DS or issuer mistake, said per test).

Each test is one attack and the outcome it must get. Attacks that were already refused stay as
documentation of the defence; the ones marked FOUND reproduced a hole before its fix.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import cms, keys

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify import PARTY_2025, AAExchange, Denylist, TrustStore, Verdict, verify_document
from partycard.verify.aa import verify_active_authentication
from partycard.verify.denylist import DenyEntry
from partycard.verify.policy import ICAO_2025, Policy
from partycard.verify.signatures import load_public_key
from partycard.verify.sod import group_number
from partycard.verify.verdict import Check, decide

from . import factory as F
from . import factory_attacks as A

CH = bytes.fromhex("0123456789abcdef")


@pytest.fixture(scope="module")
def pki() -> F.Pki:
    return F.build_pki("bp256", "p256")


def _store(pki: F.Pki, **kw: Any) -> TrustStore:
    return TrustStore(roots=[pki.csca.cert], crls=kw.pop("crls", [pki.crl]), **kw)


def _run(
    pki: F.Pki,
    card: F.Card,
    *,
    store: TrustStore | None = None,
    aa: AAExchange | str | None = "auto",
    policy: Policy = PARTY_2025,
    denylist: Denylist | None = None,
    card_number: str | None = None,
    ca_ran: bool | None = True,
) -> Verdict:
    if aa == "auto":
        aa = AAExchange(CH, F.aa_response(card, CH)) if card.aa_key is not None else None
    return verify_document(
        card.files,
        store or _store(pki),
        policy=policy,
        denylist=denylist if denylist is not None else Denylist(F.AT - timedelta(hours=1), {}),
        card_number=card_number or card.card_number,
        aa=aa,  # type: ignore[arg-type]
        ca_ran=ca_ran,
        at=F.AT,
    )


def _failed(v: Verdict, check: str, reason: str) -> None:
    assert v.status == "invalid", v.checks
    c = v.check(check)
    assert (c.status, c.reason) == ("failed", reason), c


def _sod_card(pki: F.Pki, make: Any) -> F.Card:
    """A genuine-looking card whose EF.SOD is built by ``make(dgs, content) -> A.Sod``."""
    dgs, aa_key = A.groups()
    content = A.lso(A.hashes_of(dgs))
    return A.card(dgs, make(dgs, content).build(), aa_key)


def test_crafted_sod_baseline_is_valid(pki: F.Pki) -> None:
    """The attack builders produce a valid card when they do nothing wrong."""
    card = _sod_card(pki, lambda _d, c: A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c))], [pki.ds.cert]))
    assert _run(pki, card).status == "valid"


# --- SOD parsing confusion (RFC 5652 §5.3-5.6; ICAO 9303-10 §4.6.2.2) ---------------------------


def test_two_signer_infos_are_refused(pki: F.Pki) -> None:
    rogue = F.make_ds(F.build_pki().csca)

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(
            c,
            [A.Signer(rogue, A.correct_attrs(c)), A.Signer(pki.ds, A.correct_attrs(c))],
            [rogue.cert, pki.ds.cert],
        )

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


@pytest.mark.parametrize("first_good", [True, False])
def test_duplicate_message_digest_attributes(pki: F.Pki, first_good: bool) -> None:
    """Two message-digest attributes, one for the real content: must not pick the convenient one."""

    def make(_d: Any, c: bytes) -> A.Sod:
        good = A.attribute("message_digest", [hashlib.sha256(c).digest()])
        bad = A.attribute("message_digest", [hashlib.sha256(b"other").digest()])
        md = [good, bad] if first_good else [bad, good]
        return A.Sod(c, [A.Signer(pki.ds, [A.attribute("content_type", [A.LDS_OID]), *md])], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.message_digest_mismatch")


def test_message_digest_attribute_with_two_values(pki: F.Pki) -> None:
    def make(_d: Any, c: bytes) -> A.Sod:
        md = A.attribute("message_digest", [hashlib.sha256(c).digest(), hashlib.sha256(b"x").digest()])
        return A.Sod(c, [A.Signer(pki.ds, [A.attribute("content_type", [A.LDS_OID]), md])], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.message_digest_mismatch")


def test_duplicate_content_type_attributes(pki: F.Pki) -> None:
    def make(_d: Any, c: bytes) -> A.Sod:
        attrs = [*A.correct_attrs(c), A.attribute("content_type", [A.ID_DATA])]
        return A.Sod(c, [A.Signer(pki.ds, attrs)], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.content_type_mismatch")


def test_econtent_type_not_lds_security_object(pki: F.Pki) -> None:
    """A DS signature over id-data (e.g. some other document the DS signed) is not an LDS object."""

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c, A.ID_DATA))], [pki.ds.cert], A.ID_DATA)

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.content_type_unexpected")


def test_content_type_attribute_names_the_other_lds_oid(pki: F.Pki) -> None:
    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c, "1.3.27.1.1.1"))], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.content_type_mismatch")


def test_signature_over_content_without_signed_attributes(pki: F.Pki) -> None:
    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, None)], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


def test_detached_content_is_refused(pki: F.Pki) -> None:
    """The hash table must travel inside the SOD; a signature over external content is refused."""

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c))], [pki.ds.cert], detached=True)

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


def test_signed_attributes_shipped_in_non_der_order(pki: F.Pki) -> None:
    """The DS signed the DER SET OF; the card ships the same attributes unsorted (BER). The bytes
    verified are the bytes shipped, so the signature no longer matches: refused, never re-sorted
    into acceptance of something else."""

    def make(_d: Any, c: bytes) -> A.Sod:
        attrs = A.correct_attrs(c)
        encoded = sorted(cms.CMSAttribute(a).dump() for a in attrs)
        wire = F.tlv(b"\x31", b"".join(reversed(encoded)))
        assert wire != A.der_set_of(attrs)
        return A.Sod(c, [A.Signer(pki.ds, attrs, wire_attrs=wire)], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.signature_invalid")


def test_embedded_certificate_of_another_signer(pki: F.Pki) -> None:
    """The SOD embeds a genuine DS of another issuer, but the SignerInfo names this card's DS, which
    is neither embedded nor in the store: the embedded certificate must not be used instead."""
    other = F.build_pki(org="Foreign Ministry Party Committee")
    store = TrustStore(roots=[pki.csca.cert, other.csca.cert], crls=[pki.crl, other.crl])

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c))], [other.ds.cert])

    _failed(_run(pki, _sod_card(pki, make), store=store), "sod.signature", "sod.signer_not_found")


def test_sid_names_genuine_ds_but_attacker_signs(pki: F.Pki) -> None:
    attacker = F.new_key("p256")

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c), key=attacker)], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.signature_invalid")


@pytest.mark.parametrize("sid", ["ski", "issuer_serial"])
def test_attacker_certificate_claiming_genuine_identifiers(pki: F.Pki, sid: str) -> None:
    """A self-made certificate with the genuine DS's issuer, serial and key identifier but the
    attacker's key, embedded next to the genuine DS. Whichever of the two is taken for the signer,
    either the SOD signature or the path refuses it."""
    key = F.new_key("p256")
    fake = F.make_cert(
        pki.ds.cert.subject,
        key,
        issuer=pki.csca,
        ca=False,
        signing_key=F.new_key("bp256"),
        serial=pki.ds.cert.serial_number,
    )
    fake = F.Party(key, fake.cert)

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(fake, A.correct_attrs(c), sid=sid)], [fake.cert, pki.ds.cert])

    v = _run(pki, _sod_card(pki, make), store=_store(pki, intermediates=[pki.ds.cert]))
    assert v.status == "invalid"
    assert set(v.reasons) & {"sod.signature_invalid", "chain.invalid"}, v.reasons


# --- data-group confusion (9303-11 §5.1) --------------------------------------------------------


def test_group_names_are_canonical_only() -> None:
    assert [group_number(f"DG{n}") for n in (1, 13, 16)] == [1, 13, 16]
    for alias in (
        "DG013",
        "DG01",
        "DG\u0661\u0663",
        "DG\u0967\u0969",
        "DG 13",
        "DG13 ",
        "dg13",
        "DG0",
        "DG17",
    ):
        assert group_number(alias) is None, alias


def test_found_dg15_alias_cannot_swap_the_aa_key(pki: F.Pki) -> None:
    """FOUND: the genuine DG15 under an alias name ("DG015") was hashed as group 15 while AA used the
    attacker's key from "DG15": a clone answered AA with its own key and the verdict was valid."""
    card = F.build_card(pki.ds)
    attacker = F.new_key("p256")
    files = dict(card.files)
    files["DG15"] = F.dg15(attacker)
    files["DG015"] = card.files["DG15"]
    clone = F.Card(files, card.card_number, attacker)
    v = _run(pki, clone, aa=AAExchange(CH, F.aa_sign_ecdsa(attacker, CH)))
    _failed(v, "dg.hashes", "dg.hash_mismatch")
    assert v.check("chip.aa").status != "passed"


def test_found_dg13_alias_cannot_hide_the_member_record(pki: F.Pki) -> None:
    """FOUND (same root cause): a forged DG13 under "DG13" and the genuine one under an alias."""
    card = F.build_card(pki.ds)
    files = dict(card.files)
    files["DG13"] = F.dg13("PC-9999999")
    files["DG\u0661\u0663"] = card.files["DG13"]  # Arabic-Indic digits: str.isdigit() is True
    v = _run(pki, F.Card(files, "PC-9999999", card.aa_key))
    _failed(v, "dg.hashes", "dg.hash_mismatch")


def test_group_present_but_not_in_sod(pki: F.Pki) -> None:
    card = F.build_card(pki.ds, sod=F.SodOptions(omit=(13,)))
    v = _run(pki, card)
    _failed(v, "dg.hashes", "dg.not_covered")


def test_found_card_number_not_from_the_verified_group(pki: F.Pki) -> None:
    """FOUND: verify_document checked whatever card number the caller passed. A caller that took it
    from anywhere but the verified DG13 (a second read, the printed number, an unverified group)
    let a denylisted card through: valid. Now the signed number is looked up too."""
    card = F.build_card(pki.ds, card_number="PC-0000666")
    deny = Denylist(F.AT - timedelta(hours=1), {"PC-0000666": DenyEntry("PC-0000666", "expelled")})
    v = _run(pki, card, denylist=deny, card_number="PC-0000001")
    _failed(v, "card.status", "status.expelled")


def test_found_unbound_card_number_cannot_clear_the_card(pki: F.Pki) -> None:
    """FOUND (same): a number other than the signed one was reported as "not listed" and the
    verdict was valid; it proves nothing about this card, so the check is not performed."""
    card = F.build_card(pki.ds, card_number="PC-0000666")
    v = _run(pki, card, card_number="PC-0000001")
    assert v.status == "incomplete"
    c = v.check("card.status")
    assert (c.status, c.reason) == ("not_performed", "status.card_number_unverified")
    assert _run(pki, card, card_number="pc-0000666 ").status == "valid"  # same normalisation as lookup


def test_card_number_from_verified_dg13_still_checked(pki: F.Pki) -> None:
    card = F.build_card(pki.ds, card_number="PC-0000666")
    deny = Denylist(F.AT - timedelta(hours=1), {"PC-0000666": DenyEntry("PC-0000666", "expelled")})
    _failed(_run(pki, card, denylist=deny), "card.status", "status.expelled")
    assert _run(pki, card).status == "valid"


def test_card_number_when_dg13_not_covered(pki: F.Pki) -> None:
    card = F.build_card(pki.ds, sod=F.SodOptions(omit=(13,)))
    v = _run(pki, card)
    assert v.status == "invalid"
    assert v.check("card.status").status != "passed"


def test_repeated_group_number_in_sod(pki: F.Pki) -> None:
    def make(dgs: dict[int, bytes], _c: bytes) -> A.Sod:
        entries = A.hashes_of(dgs)
        content = A.lso([*entries, (13, hashlib.sha256(F.dg13("PC-9999999")).digest())])
        return A.Sod(content, [A.Signer(pki.ds, A.correct_attrs(content))], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


@pytest.mark.parametrize("number", [0, 17, -1])
def test_group_number_out_of_range_in_sod(pki: F.Pki, number: int) -> None:
    def make(dgs: dict[int, bytes], _c: bytes) -> A.Sod:
        content = A.lso([*A.hashes_of(dgs), (number, b"\x00" * 32)])
        return A.Sod(content, [A.Signer(pki.ds, A.correct_attrs(content))], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


def test_lds_hash_downgraded_to_sha1_under_sha256_cms(pki: F.Pki) -> None:
    """CMS digest SHA-256 (allowed) but the LDS hash table in SHA-1 (forbidden for party cards)."""

    def make(dgs: dict[int, bytes], _c: bytes) -> A.Sod:
        content = A.lso(A.hashes_of(dgs, "sha1"), "sha1")
        return A.Sod(content, [A.Signer(pki.ds, A.correct_attrs(content))], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "dg.hashes", "alg.disallowed")


def test_cms_digest_downgraded_to_sha1(pki: F.Pki) -> None:
    """LDS table in SHA-256 but the CMS digest and signature in SHA-1 (forbidden for party cards)."""

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(
            c, [A.Signer(pki.ds, A.correct_attrs(c, hash_name="sha1"), hash_name="sha1")], [pki.ds.cert]
        )

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "alg.disallowed")


def test_hash_length_mismatch(pki: F.Pki) -> None:
    """SHA-256 table whose DG1 entry is a 20-byte value (a SHA-1 or truncated hash)."""

    def make(dgs: dict[int, bytes], _c: bytes) -> A.Sod:
        entries = [(n, v[:20] if n == 1 else v) for n, v in A.hashes_of(dgs)]
        content = A.lso(entries)
        return A.Sod(content, [A.Signer(pki.ds, A.correct_attrs(content))], [pki.ds.cert])

    _failed(_run(pki, _sod_card(pki, make)), "dg.hashes", "dg.hash_mismatch")


# --- certificates (9303-12 §7.1; RFC 5280 §6) ---------------------------------------------------


def test_ds_with_ca_true(pki: F.Pki) -> None:
    ds = F.make_cert(
        F.name("DS"), F.new_key("p256"), issuer=pki.csca, ca=True, key_usage={"digital_signature"}
    )
    _failed(_run(pki, F.build_card(ds)), "ds.path", "ds.key_usage")


def test_ds_with_key_cert_sign(pki: F.Pki) -> None:
    ds = F.make_ds(pki.csca, key_usage={"digital_signature", "key_cert_sign"})
    _failed(_run(pki, F.build_card(ds)), "ds.path", "ds.key_usage")


def test_ds_issued_by_another_ds(pki: F.Pki) -> None:
    """With a leaked DS key: a second-level 'DS' under it. A DS is not a CA (basicConstraints)."""
    sub = F.make_cert(
        F.name("Sub DS"),
        F.new_key("p256"),
        issuer=pki.ds,
        ca=False,
        not_before=datetime(2025, 6, 1, tzinfo=UTC),
        not_after=datetime(2036, 6, 1, tzinfo=UTC),
    )
    store = _store(pki, intermediates=[pki.ds.cert])
    _failed(_run(pki, F.build_card(sub), store=store), "ds.path", "chain.invalid")


def test_ds_expired_now_although_valid_at_signing(pki: F.Pki) -> None:
    ds = F.make_ds(
        pki.csca, not_before=datetime(2025, 1, 1, tzinfo=UTC), not_after=datetime(2026, 5, 1, tzinfo=UTC)
    )
    _failed(_run(pki, F.build_card(ds)), "ds.path", "ds.expired")


def test_same_dn_fake_csca_embedded_in_sod(pki: F.Pki) -> None:
    """Name chaining alone is not trust: a self-made CSCA with the genuine subject DN, embedded in
    the SOD next to the DS it issued."""
    fake = F.make_cert(pki.csca.cert.subject, F.new_key("bp256"), ca=True, explicit=True)
    ds = F.make_ds(fake)

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(ds, A.correct_attrs(c))], [ds.cert, fake.cert])

    v = _run(pki, _sod_card(pki, make))
    assert v.status == "invalid"
    assert v.check("ds.path").reason in ("ds.not_trusted", "chain.invalid")


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ((datetime(2015, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)), "chain.expired"),
        ((datetime(2026, 7, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC)), "chain.not_yet_valid"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_found_csca_outside_its_validity(window: tuple[datetime, datetime], reason: str) -> None:
    """FOUND: path validation (RFC 5280 §6.1) ignores the trust anchor's own validity, so a DS
    under an expired CSCA was valid: whoever holds a retired CSCA key could issue new DS
    certificates. ICAO 9303-12 sizes CSCA validity to outlast everything it signs: trust ends with it."""
    csca = F.make_cert(
        F.name("CSCA Retired"),
        F.new_key("bp256"),
        ca=True,
        explicit=True,
        not_before=window[0],
        not_after=window[1],
    )
    pki = F.Pki(csca, F.make_ds(csca), F.make_crl(csca))
    _failed(_run(pki, F.build_card(pki.ds)), "ds.path", reason)


def test_crl_signed_by_wrong_key(pki: F.Pki) -> None:
    bad = F.make_crl(pki.csca, signing_key=F.new_key("bp256"))
    _failed(_run(pki, F.build_card(pki.ds), store=_store(pki, crls=[bad])), "ds.revocation", "crl.unusable")


def test_crl_for_another_issuer_only(pki: F.Pki) -> None:
    other = F.build_pki(org="Foreign Ministry Party Committee")
    store = TrustStore(roots=[pki.csca.cert, other.csca.cert], crls=[other.crl])
    _failed(_run(pki, F.build_card(pki.ds), store=store), "ds.revocation", "crl.missing")


def test_crl_with_unknown_critical_extension(pki: F.Pki) -> None:
    c = A.crl_with(pki.csca, crl_extensions=[A.unknown_critical_extension()])
    _failed(_run(pki, F.build_card(pki.ds), store=_store(pki, crls=[c])), "ds.revocation", "crl.unusable")


def test_found_crl_entry_with_unknown_critical_extension(pki: F.Pki) -> None:
    """FOUND: RFC 5280 §5.3 — a CRL with a critical entry extension we cannot process MUST NOT be
    used for any certificate. It was used (the entry was for another serial): ds.revocation passed."""
    c = A.crl_with(pki.csca, revoked=[(0x7777777, [A.unknown_critical_extension()])])
    _failed(_run(pki, F.build_card(pki.ds), store=_store(pki, crls=[c])), "ds.revocation", "crl.unusable")


def test_crl_entry_for_ds_with_unknown_critical_extension(pki: F.Pki) -> None:
    ds = F.make_ds(pki.csca)
    c = A.crl_with(pki.csca, revoked=[(ds.cert.serial_number, [A.unknown_critical_extension()])])
    v = _run(pki, F.build_card(ds), store=_store(pki, crls=[c]))
    assert v.status == "invalid"
    assert v.check("ds.revocation").status == "failed"


def test_crl_without_next_update_is_not_current(pki: F.Pki) -> None:
    """A year-old CRL that leaves out nextUpdate must not count as current."""
    c = A.crl_with(pki.csca, this_update=F.AT - timedelta(days=365), next_update=None)
    v = _run(pki, F.build_card(pki.ds), store=_store(pki, crls=[c]))
    assert v.status == "invalid"
    assert v.check("ds.revocation").reason in ("crl.stale", "crl.unusable")


def test_crl_issued_in_the_future_is_not_used(pki: F.Pki) -> None:
    c = A.crl_with(pki.csca, this_update=F.AT + timedelta(days=2), next_update=F.AT + timedelta(days=9))
    _failed(_run(pki, F.build_card(pki.ds), store=_store(pki, crls=[c])), "ds.revocation", "crl.unusable")


@pytest.mark.parametrize("newest_first", [True, False])
def test_older_crl_cannot_hide_a_revocation(pki: F.Pki, newest_first: bool) -> None:
    """Offering an older CRL (before the DS was revoked) next to the current one."""
    ds = F.make_ds(pki.csca)
    old = F.make_crl(pki.csca, this_update=F.AT - timedelta(days=3), next_update=F.AT + timedelta(days=4))
    new = F.make_crl(pki.csca, revoked=(ds.cert.serial_number,))
    store = _store(pki, crls=[new, old] if newest_first else [old, new])
    _failed(_run(pki, F.build_card(ds), store=store), "ds.revocation", "ds.revoked")


def _explicit_with(spki: keys.PublicKeyInfo, **changes: Any) -> keys.PublicKeyInfo:
    spec = spki["algorithm"]["parameters"].chosen.native
    for k, v in changes.items():
        if k in ("a", "b"):
            spec["curve"][k] = v
        else:
            spec[k] = v
    return keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="specified", value=keys.SpecifiedECDomain(spec)),
            },
            "public_key": spki["public_key"].native,
        }
    )


def test_explicit_parameters_with_another_generator_rejected() -> None:
    """Same p, a, b, n as brainpoolP256r1 but G = 2·G: not the named curve, must not load."""
    import ecdsa

    key = F.new_key("bp256")
    g2 = 2 * ecdsa.BRAINPOOLP256r1.generator
    size = ecdsa.BRAINPOOLP256r1.baselen
    base = b"\x04" + g2.x().to_bytes(size, "big") + g2.y().to_bytes(size, "big")
    with pytest.raises(VerificationError) as err:
        load_public_key(_explicit_with(F.spki(key, explicit=True), base=base))
    assert err.value.reason == "key.curve_unsupported"


def test_explicit_parameters_with_other_order_or_cofactor_rejected() -> None:
    key = F.new_key("p256")
    explicit = F.spki(key, explicit=True)
    n = explicit["algorithm"]["parameters"].chosen["order"].native
    for change in ({"order": n + 2}, {"cofactor": 2}):
        with pytest.raises(VerificationError) as err:
            load_public_key(_explicit_with(explicit, **change))
        assert err.value.reason == "key.curve_unsupported"


def test_ds_with_non_named_explicit_curve_refused(pki: F.Pki) -> None:
    """The issuer's CSCA signed a DS key on a curve that is not a named one: the SOD cannot verify."""
    key = F.new_key("p256")
    explicit = F.spki(key, explicit=True)
    b = explicit["algorithm"]["parameters"].chosen["curve"]["b"].native
    bad = _explicit_with(explicit, b=(int.from_bytes(b, "big") ^ 1).to_bytes(len(b), "big"))
    ds = F.make_ds(pki.csca)
    tbs = ds.cert["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = bad
    sig = F.sign(pki.csca.key, tbs.dump())
    cert = F.x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": ds.cert["signature_algorithm"],
            "signature_value": sig,
        }
    )
    ds = F.Party(key, F.x509.Certificate.load(cert.dump()))
    _failed(_run(pki, F.build_card(ds)), "sod.signature", "sod.algorithm_unsupported")


@pytest.mark.parametrize("e", [1, 2])
def test_rsa_exponent_one_or_even_rejected(e: int) -> None:
    n = F.new_key("rsa2048").private_numbers().public_numbers.n
    spki = keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "rsa"}, "public_key": {"modulus": n, "public_exponent": e}}
    )
    with pytest.raises(VerificationError) as err:
        load_public_key(spki)
    assert err.value.reason == "key.malformed"


def test_small_rsa_ds_refused(pki: F.Pki) -> None:
    ds = F.make_ds(pki.csca, "rsa1024")
    v = _run(pki, F.build_card(ds))
    assert v.status == "invalid"
    assert "alg.disallowed" in v.reasons


def test_small_rsa_aa_key_refused(pki: F.Pki) -> None:
    card = F.build_card(pki.ds, aa="rsa1024", aa_hash="sha256")
    _failed(_run(pki, card), "chip.aa", "alg.disallowed")


# --- Active Authentication (9303-11 §6.1) -------------------------------------------------------


def test_aa_response_for_another_challenge(pki: F.Pki) -> None:
    card = F.build_card(pki.ds)
    other = bytes(8)
    v = _run(pki, card, aa=AAExchange(CH, F.aa_response(card, other)))
    _failed(v, "chip.aa", "aa.signature_invalid")


@pytest.mark.parametrize("which", ["r0", "s0", "r=n", "s=n", "r>n"])
def test_aa_ecdsa_r_or_s_out_of_range(pki: F.Pki, which: str) -> None:
    card = F.build_card(pki.ds)
    good = F.aa_response(card, CH)
    n = int(F.ecdsa.NIST256p.order)
    r, s = int.from_bytes(good[:32], "big"), int.from_bytes(good[32:], "big")
    r, s = {"r0": (0, s), "s0": (r, 0), "r=n": (n, s), "s=n": (r, n), "r>n": (n + 1, s)}[which]
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    _failed(_run(pki, card, aa=AAExchange(CH, sig)), "chip.aa", "aa.signature_invalid")


def _rsa_card(pki: F.Pki) -> F.Card:
    return F.build_card(pki.ds, aa="rsa2048", aa_hash="sha256")


def test_found_iso9796_representative_with_leading_zeros(pki: F.Pki) -> None:
    """FOUND (hardening): the recovered representative had its leading zero bytes stripped, so a
    short F = 00 00 6A ‖ M1 ‖ H ‖ T was accepted. ISO/IEC 9796-2 fixes F's length to the modulus
    size; accepting shorter ones widens the set of values a forger has to hit."""
    card = _rsa_card(pki)
    k = 256
    m1 = b"\x11" * (k - 3 - 1 - 32 - 2)
    f = b"\x00\x00\x6a" + m1 + hashlib.sha256(m1 + CH).digest() + b"\x34\xcc"
    sig = A.rsa_sign_representative(card.aa_key, f)
    _failed(_run(pki, card, aa=AAExchange(CH, sig)), "chip.aa", "aa.signature_invalid")


def test_iso9796_genuine_and_complemented_still_accepted(pki: F.Pki) -> None:
    card = _rsa_card(pki)
    for complement in (False, True):
        sig = F.aa_response(card, CH, complement=complement)
        assert _run(pki, card, aa=AAExchange(CH, sig)).status == "valid"


@pytest.mark.parametrize(
    "trailer",
    [b"\x33\xcc", b"\xbc", b"\x99\xcc", b"\x34\xbc", b"\xcc"],
    ids=["sha1-id", "implicit", "unk", "mix", "bare"],
)
def test_iso9796_trailer_tricks(pki: F.Pki, trailer: bytes) -> None:
    """SHA-1 trailers (explicit 0x33CC or implicit 0xBC) are disallowed for party cards; unknown or
    malformed trailers never verify."""
    card = _rsa_card(pki)
    hname = "sha1" if trailer in (b"\x33\xcc", b"\xbc") else "sha256"
    hlen = hashlib.new(hname).digest_size
    m1 = b"\x22" * (256 - 1 - hlen - len(trailer))
    f = b"\x6a" + m1 + hashlib.new(hname, m1 + CH).digest() + trailer
    sig = A.rsa_sign_representative(card.aa_key, f)
    v = _run(pki, card, aa=AAExchange(CH, sig))
    assert v.status == "invalid"
    assert v.check("chip.aa").reason in ("alg.disallowed", "aa.signature_invalid")


def test_iso9796_header_not_partial_recovery(pki: F.Pki) -> None:
    card = _rsa_card(pki)
    m1 = b"\x33" * (256 - 1 - 32 - 2)
    f = b"\x4a" + m1 + hashlib.sha256(m1 + CH).digest() + b"\x34\xcc"
    with pytest.raises(SignatureInvalid):
        verify_active_authentication(
            card.files["DG15"],
            AAExchange(CH, A.rsa_sign_representative(card.aa_key, f)),
            algorithms=PARTY_2025.algorithms,
        )


def test_aa_key_not_covered_by_sod(pki: F.Pki) -> None:
    card = F.build_card(pki.ds, sod=F.SodOptions(omit=(15,)))
    v = _run(pki, card, ca_ran=None)
    _failed(v, "chip.aa", "aa.key_unauthenticated")


def test_aa_key_swapped_for_attacker_key(pki: F.Pki) -> None:
    card = F.build_card(pki.ds)
    attacker = F.new_key("p256")
    card.files["DG15"] = F.dg15(attacker)
    v = _run(pki, card, aa=AAExchange(CH, F.aa_sign_ecdsa(attacker, CH)), ca_ran=None)
    _failed(v, "dg.hashes", "dg.hash_mismatch")
    assert v.check("chip.aa").status == "failed"


def test_found_hostile_dg14_is_a_reason_not_a_crash(pki: F.Pki) -> None:
    """FOUND (robustness): an ActiveAuthenticationInfo whose algorithm is a REAL instead of an OID
    made asn1crypto raise AttributeError out of verify_document: no verdict at all (a kiosk error
    instead of "invalid"). Hostile ASN.1 now maps to the check's malformed reason."""
    dgs, aa_key = A.groups()
    bad = b"\x06\x06\x67\x81\x08\x01\x01\x05" + b"\x02\x01\x01" + b"\x09\x01\x40"
    dgs[14] = F.tlv(b"\x6e", F.tlv(b"\x31", F.tlv(b"\x30", bad)))
    content = A.lso(A.hashes_of(dgs))
    card = A.card(
        dgs, A.Sod(content, [A.Signer(pki.ds, A.correct_attrs(content))], [pki.ds.cert]).build(), aa_key
    )
    _failed(_run(pki, card, ca_ran=None), "chip.aa", "aa.dg14_malformed")


def test_found_hostile_sod_certificate_is_a_reason_not_a_crash(pki: F.Pki) -> None:
    """FOUND (robustness, same root cause): an embedded certificate whose signatureAlgorithm
    parameters are a REAL crashed verify_document with AttributeError."""
    cert = pki.ds.cert
    alg = cert["signature_algorithm"].dump()
    bad_alg = F.tlv(b"\x30", alg[2:] + b"\x09\x01\x40")
    tbs, sig = cert["tbs_certificate"].dump(), cert["signature_value"].dump()
    hostile = F.x509.Certificate.load(F.tlv(b"\x30", tbs + bad_alg + sig))

    def make(_d: Any, c: bytes) -> A.Sod:
        return A.Sod(c, [A.Signer(pki.ds, A.correct_attrs(c))], [hostile])

    _failed(_run(pki, _sod_card(pki, make)), "sod.signature", "sod.malformed")


# --- verdict logic --------------------------------------------------------------------------------


def test_decide_precedence() -> None:
    p = PARTY_2025
    names = ("sod.signature", "dg.hashes", "ds.path", "ds.revocation", "chip.aa", "chip.ca", "card.status")
    all_passed = [Check.passed(n) for n in names]
    assert decide(all_passed, p) == "valid"
    skipped = [
        Check.skipped("card.status", "status.no_list") if c.name == "card.status" else c for c in all_passed
    ]
    assert decide(skipped, p) == "incomplete"
    failed = [*skipped[:-2], Check.failed("chip.ca", "ca.failed"), skipped[-1]]
    assert decide(failed, p) == "invalid"  # failed wins over not performed, and over AA having passed
    assert decide([], p) == "incomplete"


def test_required_check_not_performed_is_never_valid(pki: F.Pki) -> None:
    card = F.build_card(pki.ds)
    v = verify_document(
        card.files,
        _store(pki),
        policy=PARTY_2025,
        denylist=None,
        card_number=card.card_number,
        aa=None,
        ca_ran=None,
        at=F.AT,
    )
    assert v.status == "incomplete"
    assert {c.name for c in v.checks if c.status == "not_performed"} >= {"chip.aa", "chip.ca", "card.status"}


def test_icao_policy_does_not_make_a_failed_optional_check_valid(pki: F.Pki) -> None:
    """Under the ICAO policy chip.aa is not required, but a failed AA still makes the card invalid."""
    card = F.build_card(pki.ds)
    v = _run(pki, card, aa=AAExchange(CH, F.aa_response(card, bytes(8))), policy=ICAO_2025)
    _failed(v, "chip.aa", "aa.signature_invalid")


def test_exception_in_a_check_is_not_swallowed(pki: F.Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error inside a check must surface, never turn into a skipped or passed check."""
    from partycard.verify import document

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(document, "check_ds_certificate", boom)
    with pytest.raises(RuntimeError):
        _run(pki, F.build_card(pki.ds))


def test_a_number_signed_by_an_untrusted_signer_does_not_clear_the_status(pki: F.Pki) -> None:
    """FOUND: the status check passed for a card whose SOD verified under its own (untrusted) DS: a
    number anyone can sign cannot clear a card; a listed number still refuses it."""
    stranger = F.build_pki("bp256", "p256")
    card = F.build_card(stranger.ds, card_number="PC-0000777")
    v = _run(pki, card)
    assert v.check("ds.path").status == "failed"
    status = v.check("card.status")
    assert (status.status, status.reason) == ("not_performed", "status.card_number_unverified"), status
    listed = Denylist(F.AT - timedelta(hours=1), {"PC-0000777": DenyEntry("PC-0000777", "expelled")})
    _failed(_run(pki, card, denylist=listed), "card.status", "status.expelled")


def test_unwitnessed_ca_and_aa_prove_nothing_without_the_issued_challenge(pki: F.Pki) -> None:
    card = F.build_card(pki.ds)
    exchange = AAExchange(CH, F.aa_response(card, CH))
    common: dict[str, Any] = {
        "policy": PARTY_2025, "denylist": Denylist(F.AT - timedelta(hours=1), {}),
        "card_number": card.card_number, "aa": exchange, "ca_ran": True, "at": F.AT,
    }
    v = verify_document(card.files, _store(pki), witnessed=False, **common)
    assert v.status == "incomplete"
    assert v.check("chip.aa").reason == "aa.not_witnessed" and v.check("chip.ca").reason == "ca.not_witnessed"
    v = verify_document(card.files, _store(pki), witnessed=False, expected_challenge=CH, **common)
    assert v.status == "valid" and v.check("chip.aa").status == "passed"
    assert verify_document(card.files, _store(pki), **common).status == "valid"  # the kiosk ran the read


def test_a_chip_that_withholds_the_groups_its_sod_lists_is_a_clone(pki: F.Pki) -> None:
    """FOUND: a clone answering 'file not found' for DG14 and DG15 came out incomplete
    (ca/aa.not_supported_by_card) instead of invalid, though the signed SOD lists both."""
    card = F.build_card(pki.ds)
    files = {k: v for k, v in card.files.items() if k not in ("DG14", "DG15")}
    common: dict[str, Any] = {
        "policy": PARTY_2025, "denylist": Denylist(F.AT - timedelta(hours=1), {}),
        "card_number": card.card_number, "aa": None, "ca_ran": None, "at": F.AT,
    }
    v = verify_document(files, _store(pki), withheld={"DG14", "DG15"}, **common)
    assert v.status == "invalid"
    assert v.check("chip.aa").reason == "aa.key_withheld" and v.check("chip.ca").reason == "ca.key_withheld"
    # Not asked for is not withheld: a partial read stays incomplete.
    v = verify_document(files, _store(pki), **common)
    assert v.status == "incomplete" and v.check("chip.aa").reason == "aa.not_supported_by_card"
    # A card whose SOD does not list them does not have them.
    bare = F.build_card(pki.ds, aa=None, ca=False)
    common["card_number"] = bare.card_number
    v = verify_document(bare.files, _store(pki), withheld={"DG14", "DG15"}, **common)
    assert v.check("chip.aa").reason == "aa.not_supported_by_card"
    assert v.check("chip.ca").reason == "ca.not_supported_by_card"
