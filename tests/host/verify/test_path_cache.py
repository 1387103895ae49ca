"""The trust store's cache of validated paths, and the cache of parsed embedded certificates.

A cached answer must be exactly what validating again would say: outside its time window, after the
store changed, for a refused certificate, or for a certificate some CRL lists, validation runs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from partycard.verify import PARTY_2025, AAExchange, Denylist, TrustStore, Verdict, verify_document
from partycard.verify.cms import parsed_certificate
from partycard.verify.memo import Memo

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
