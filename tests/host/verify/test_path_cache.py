"""The trust store's cache of validated paths, and the cache of parsed embedded certificates.

A cached answer must be exactly what validating again would say: outside its time window, after the
store changed, for a refused certificate, or for a certificate some CRL lists, validation runs again.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import x509

from partycard.errors import CertificateInvalid
from partycard.verify import PARTY_2025, AAExchange, Denylist, TrustStore, Verdict, verify_document
from partycard.verify import trust as trust_module
from partycard.verify.cms import parsed_certificate
from partycard.verify.memo import Memo
from partycard.verify.trust import Revocation

from . import factory as F

CHALLENGE = bytes.fromhex("0123456789abcdef")


@pytest.fixture(scope="module")
def pki() -> F.Pki:
    return F.build_pki("p256", "p256")


def _verify(card: F.Card, store: TrustStore, at: datetime = F.AT) -> Verdict:
    return verify_document(
        card.files,
        store,
        policy=PARTY_2025,
        denylist=Denylist(at - timedelta(hours=1), {}),
        card_number=card.card_number,
        aa=AAExchange(CHALLENGE, F.aa_response(card, CHALLENGE)),
        ca_ran=True,
        at=at,
    )


def _reasons(verdict: Verdict) -> set[str]:
    return {c.reason for c in verdict.checks if c.reason is not None and c.status == "failed"}


def test_second_card_of_the_same_signer_is_answered_from_the_cache(pki: F.Pki) -> None:
    store = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    first = _verify(F.build_card(pki.ds, card_number="PC-0000001"), store)
    validations = store.path_validations
    assert first.status == "valid"
    assert validations == 2  # the path alone, then with the CRL
    second = _verify(F.build_card(pki.ds, card_number="PC-0000002"), store, F.AT + timedelta(hours=3))
    assert second.status == "valid"
    assert (store.path_validations, store.path_cache_hits) == (validations, 2)


def test_a_time_past_the_crl_next_update_validates_again_and_fails(pki: F.Pki) -> None:
    store = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    card = F.build_card(pki.ds)
    assert _verify(card, store).status == "valid"
    late = F.AT + timedelta(days=7)  # make_crl: next update six days after AT
    verdict = _verify(card, store, late)
    assert verdict.status == "invalid"
    assert "crl.stale" in _reasons(verdict)
    assert store.path_validations == 3  # the path (still cached: certificates valid), then the CRL again


def test_a_time_past_the_ds_certificate_validates_again_and_fails(pki: F.Pki) -> None:
    ds = F.make_ds(pki.csca, not_after=F.AT + timedelta(days=2))
    store = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    card = F.build_card(ds)
    assert _verify(card, store).status == "valid"
    verdict = _verify(card, store, F.AT + timedelta(days=3))
    assert verdict.status == "invalid"
    assert store.path_cache_hits == 0


@pytest.mark.parametrize("how", ["append", "replace"])
def test_a_new_crl_that_revokes_the_signer_empties_the_cache(pki: F.Pki, how: str) -> None:
    store = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    card = F.build_card(pki.ds)
    assert _verify(card, store).status == "valid"
    revoking = F.make_crl(pki.csca, revoked=(pki.ds.cert.serial_number,))
    if how == "append":
        store.crls.append(revoking)
    else:
        store.crls[0] = revoking  # same length: only identity shows the change
    verdict = _verify(card, store)
    assert "ds.revoked" in _reasons(verdict)


def test_a_signer_listed_with_a_later_revocation_date_is_never_cached(pki: F.Pki) -> None:
    # Revoked from AT + 1 day on: at AT the path validates, but the answer must not outlive that date
    # although the CRL itself is current until AT + 6 days.
    listed = F.make_crl(pki.csca, revoked=(pki.ds.cert.serial_number,), revocation_date=F.AT + timedelta(days=1))
    store = TrustStore(roots=[pki.csca.cert], crls=[listed])
    card = F.build_card(pki.ds)
    # Point-in-time validation (RFC 5280 §6.3.3): at AT the signer is not revoked yet.
    assert _verify(card, store).status == "valid"
    later = _verify(card, store, F.AT + timedelta(days=2))
    assert "ds.revoked" in _reasons(later)
    # Only the CRL-free path check came from the cache; the check with the CRL ran both times.
    assert (store.path_cache_hits, store.path_validations) == (1, 3)


def test_refusals_are_not_cached(pki: F.Pki) -> None:
    other = F.build_pki("p256", "p256")
    store = TrustStore(roots=[other.csca.cert], crls=[other.crl])  # not pki's root
    card = F.build_card(pki.ds)
    for _ in range(2):
        assert "ds.not_trusted" in _reasons(_verify(card, store))
    assert store.path_cache_hits == 0
    assert store.path_validations == 2


def test_embedded_certificates_are_parsed_once_per_encoding(pki: F.Pki) -> None:
    der = pki.ds.cert.dump()
    first = parsed_certificate(der)
    assert parsed_certificate(bytes(der)) is first  # equal bytes, another object: still the same
    assert first.serial_number == pki.ds.cert.serial_number
    other = parsed_certificate(pki.csca.cert.dump())
    assert other is not first


def test_memo_is_bounded_and_keeps_nothing_when_deriving_fails() -> None:
    memo: Memo[int] = Memo(2)
    made: list[bytes] = []

    def make(der: bytes) -> int:
        made.append(der)
        return len(made)

    assert memo.get(b"a", lambda: make(b"a")) == 1
    assert memo.get(b"a", lambda: make(b"a")) == 1  # kept
    memo.get(b"b", lambda: make(b"b"))
    memo.get(b"a", lambda: make(b"a"))  # a is now the most recently used
    memo.get(b"c", lambda: make(b"c"))  # evicts b
    assert len(memo) == 2
    assert memo.get(b"b", lambda: make(b"b")) == 4  # made again
    with pytest.raises(ValueError, match="damaged"):
        memo.get(b"d", lambda: (_ for _ in ()).throw(ValueError("damaged")))
    assert memo.get(b"d", lambda: 99) == 99  # the failure kept nothing


# --- a cached answer is what a fresh store says: the cases a review found -------------------------


def _outcome(store: TrustStore, pki: F.Pki, at: datetime, revocation: Revocation = "require") -> str:
    try:
        store.validate(pki.ds.cert, at=at, algorithms=PARTY_2025.algorithms, revocation=revocation)
    except CertificateInvalid as exc:
        return exc.reason
    return "valid"


def _fresh(store: TrustStore) -> TrustStore:
    return TrustStore(roots=list(store.roots), intermediates=list(store.intermediates), crls=list(store.crls))


def _same_later(store: TrustStore, pki: F.Pki, later: datetime, revocation: Revocation = "require") -> str:
    assert _outcome(store, pki, F.AT, revocation) == "valid"
    got = _outcome(store, pki, later, revocation)
    assert got == _outcome(_fresh(store), pki, later, revocation)
    return got


def test_a_crl_without_next_update_is_never_taken_as_current_for_long(pki: F.Pki) -> None:
    # pyhanko gives such a CRL a freshness period of its own; the cache must not stretch it.
    store = TrustStore(
        roots=[pki.csca.cert], crls=[F.make_crl(pki.csca, this_update=F.AT - timedelta(minutes=10), next_update=None)]
    )
    assert _same_later(store, pki, F.AT + timedelta(days=30)) == "crl.stale"


def test_an_indirect_crl_that_becomes_current_later_is_heeded(pki: F.Pki) -> None:
    # A CRL signer certified by the CSCA lists the DS under the CSCA's name (certificateIssuer,
    # RFC 5280 §5.3.3), its thisUpdate an hour ahead of the first check (a skewed clock).
    signer = F.make_cert(F.name("CRL Signer"), F.new_key("p256"), issuer=pki.csca, ca=False, key_usage={"crl_sign"})
    entry = {
        "user_certificate": pki.ds.cert.serial_number,
        "revocation_date": F._time(F.AT - timedelta(days=2)),
        "crl_entry_extensions": [
            {
                "extn_id": "certificate_issuer",
                "critical": True,
                "extn_value": [x509.GeneralName(name="directory_name", value=pki.csca.cert.subject)],
            }
        ],
    }
    indirect = F.make_crl(signer, this_update=F.AT + timedelta(hours=1), entries=[entry])
    store = TrustStore(roots=[pki.csca.cert], intermediates=[signer.cert], crls=[pki.crl, indirect])
    assert _same_later(store, pki, F.AT + timedelta(hours=3)) == "ds.revoked"


@pytest.mark.parametrize("when", ["link expired", "link not yet valid"])
def test_a_crl_signed_by_the_new_csca_key_follows_its_link_certificate(pki: F.Pki, when: str) -> None:
    # After a CSCA key rollover the CRL is signed with the new key, known through a link
    # certificate; validating the CRL's issuer depends on that certificate's validity.
    new_key = F.new_key("p256")
    if when == "link expired":
        span, later = (F.AT - timedelta(days=30), F.AT + timedelta(days=1)), F.AT + timedelta(days=2)
    else:
        span, later = (F.AT - timedelta(hours=6), F.AT + timedelta(days=365)), F.AT - timedelta(hours=12)
    link = F.make_cert(pki.csca.cert.subject, new_key, issuer=pki.csca, ca=True, not_before=span[0], not_after=span[1])
    store = TrustStore(roots=[pki.csca.cert], intermediates=[link.cert], crls=[F.make_crl(F.Party(new_key, link.cert))])
    assert _same_later(store, pki, later) == "crl.unusable"


def test_a_copy_of_the_store_never_answers_for_the_original(pki: F.Pki) -> None:
    other = F.build_pki("p256", "p256")
    base = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    assert _outcome(base, pki, F.AT, "off") == "valid"
    variant = copy.copy(base)  # shares the cache object at first
    variant.roots = [*base.roots, other.csca.cert]
    assert _outcome(variant, other, F.AT, "off") == "valid"
    assert _outcome(base, other, F.AT, "off") == "ds.not_trusted"


def test_a_validation_that_outlives_a_store_change_is_not_kept(pki: F.Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    other = F.build_pki("p256", "p256")
    store = TrustStore(roots=[pki.csca.cert], crls=[pki.crl])
    reached, go = threading.Event(), threading.Event()
    check = trust_module._check_anchor_validity

    def held(path: Any, at: datetime) -> None:  # the last step of a validation, held in the worker
        check(path, at)
        if threading.current_thread().name == "worker":
            reached.set()
            assert go.wait(10)

    monkeypatch.setattr(trust_module, "_check_anchor_validity", held)
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(_outcome(store, pki, F.AT, "off")), name="worker")
    worker.start()
    assert reached.wait(10)
    store.roots[:] = [other.csca.cert]  # the CSCA is withdrawn meanwhile, and another card is checked
    assert _outcome(store, other, F.AT, "off") == "valid"
    go.set()
    worker.join(10)
    assert results == ["valid"]  # it began before the change
    assert _outcome(store, pki, F.AT, "off") == "ds.not_trusted"


def test_only_self_signed_certificates_become_roots(pki: F.Pki) -> None:
    store = TrustStore()
    store.add_certificate(pki.ds.cert)  # a DS certificate dropped among the trust files
    store.add_certificate(pki.csca.cert)
    assert (store.roots, store.intermediates) == ([pki.csca.cert], [pki.ds.cert])
    alone = TrustStore()
    alone.add_certificate(pki.ds.cert)
    assert _outcome(alone, pki, F.AT, "off") == "ds.not_trusted"


def test_a_root_present_only_during_a_validation_does_not_answer_later(
    pki: F.Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reload adds a CSCA and withdraws it again while a validation runs: that validation sees the
    # store as it was when it began, so nothing found with the passing root is kept for later.
    other = F.build_pki("p256", "p256")
    store = TrustStore(roots=[other.csca.cert])
    reached, go = threading.Event(), threading.Event()
    validate = TrustStore._validate

    def held(self: TrustStore, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "worker":
            reached.set()
            assert go.wait(10)
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(TrustStore, "_validate", held)
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(_outcome(store, pki, F.AT, "off")), name="worker")
    worker.start()
    assert reached.wait(10)
    store.roots.append(pki.csca.cert)
    go.set()
    worker.join(10)
    store.roots.remove(pki.csca.cert)
    assert results == ["ds.not_trusted"]  # judged with the roots it began with
    assert _outcome(store, pki, F.AT, "off") == "ds.not_trusted"
    assert store.path_cache_hits == 0


@pytest.mark.parametrize("order", ["expired-first", "renewed-first"])
def test_a_csca_certificate_renewed_on_the_same_key_is_found_in_either_order(order: str) -> None:
    # A master list may carry a CSCA's expired self-signed certificate beside its renewal on
    # the same key; path building may end on either, and only the current one may decide.
    key, subject = F.new_key("p256"), F.name("CSCA Renewed")
    expired = F.make_cert(subject, key, ca=True, not_before=datetime(2015, 1, 1, tzinfo=UTC),
                          not_after=datetime(2026, 1, 1, tzinfo=UTC))
    renewed = F.make_cert(subject, key, ca=True, not_before=datetime(2025, 6, 1, tzinfo=UTC),
                          not_after=datetime(2040, 1, 1, tzinfo=UTC))
    ds = F.make_ds(renewed)
    roots = [expired.cert, renewed.cert] if order == "expired-first" else [renewed.cert, expired.cert]
    store = TrustStore(roots=roots)
    store.validate(ds.cert, at=F.AT, algorithms=PARTY_2025.algorithms, revocation="off")
    with pytest.raises(CertificateInvalid) as info:  # the expired copy alone still says why
        TrustStore(roots=[expired.cert]).validate(ds.cert, at=F.AT, algorithms=PARTY_2025.algorithms,
                                                   revocation="off")
    assert info.value.reason == "chain.expired"
