"""Genuine cards in many shapes must all be valid (zero false rejects)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from partycard.verify import PARTY_2025, AAExchange, Denylist, TrustStore, Verdict, verify_document
from partycard.verify.policy import ICAO_2025, Policy
from partycard.verify.trust import load_certificates

from . import factory as F

CHALLENGE = bytes.fromhex("a1b2c3d4e5f60718")


def _run(
    card: F.Card,
    store: TrustStore,
    *,
    aa: bool = True,
    ca_ran: bool | None = True,
    policy: Policy = PARTY_2025,
    complement: bool = False,
) -> Verdict:
    exchange = None
    if aa and card.aa_key is not None:
        exchange = AAExchange(CHALLENGE, F.aa_response(card, CHALLENGE, complement=complement))
    return verify_document(
        card.files,
        store,
        policy=policy,
        denylist=Denylist(F.AT - timedelta(hours=3), {}),
        card_number=card.card_number,
        aa=exchange,
        ca_ran=ca_ran,
        at=F.AT,
    )


def _simple(csca: str, ds: str, explicit: bool = True, **card_kw: object) -> Callable[[], Verdict]:
    def run() -> Verdict:
        pki = F.build_pki(csca, ds, explicit=explicit)
        ca_ran = True if card_kw.get("ca", True) else None
        card = F.build_card(pki.ds, **card_kw)  # type: ignore[arg-type]
        return _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]), ca_ran=ca_ran)

    return run


def v_rsa_pss_sod() -> Verdict:
    pki = F.build_pki("rsa3072", "rsa2048")
    card = F.build_card(pki.ds, aa="rsa2048", sod=F.SodOptions(pss=True))
    return _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]))


def v_ski_signer_from_store() -> Verdict:
    pki = F.build_pki("bp256", "bp256")
    card = F.build_card(pki.ds, sod=F.SodOptions(sid="ski", embed=False))
    store = TrustStore(roots=[pki.csca.cert], intermediates=[pki.ds.cert], crls=[pki.crl])
    return _run(card, store)


def v_link_certificate() -> Verdict:
    # CSCA key rollover (9303-12 §7.1.2): the terminal still trusts only the old CSCA; the new CSCA
    # reaches it through a link certificate (new key, signed by the old one).
    old = F.make_cert(F.name("CSCA 2025"), F.new_key("bp256"), ca=True, explicit=True)
    new_key = F.new_key("bp384")
    new_root = F.make_cert(F.name("CSCA 2026"), new_key, ca=True, explicit=True)
    link = F.make_cert(F.name("CSCA 2026"), new_key, issuer=old, ca=True, explicit=True)
    ds = F.make_ds(new_root, "p256")
    card = F.build_card(ds)
    store = TrustStore(
        roots=[old.cert], intermediates=[link.cert], crls=[F.make_crl(new_root), F.make_crl(old)]
    )
    return _run(card, store)


def v_master_list_trust() -> Verdict:
    pki = F.build_pki("bp512", "bp256")
    other = F.build_pki("p384", "p256")
    ml_signer = F.make_cert(F.name("Master List Signer"), F.new_key("p256"), issuer=pki.csca, ca=False)
    ml = F.make_master_list([pki.csca.cert, other.csca.cert], ml_signer)
    store = TrustStore(crls=[pki.crl])
    for cert in load_certificates(ml):
        store.add_certificate(cert)
    assert len(store.roots) == 2
    return _run(F.build_card(pki.ds), store)


def v_older_lds_oid() -> Verdict:
    pki = F.build_pki("p256", "p256")
    card = F.build_card(pki.ds, sod=F.SodOptions(content_oid="1.3.27.1.1.1"))
    return _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]))


def v_icao_rsa_aa_bc_complement() -> Verdict:
    # An older-style document under the ICAO policy: SHA-1 DG hashes, RSA-1024 AA with trailer 0xBC,
    # response sent as min(s, n - s) (ISO/IEC 9796-2); no CRL configured (not required there).
    pki = F.build_pki("rsa2048", "rsa2048", explicit=False)
    card = F.build_card(pki.ds, aa="rsa1024", aa_hash="sha1", ca=False, sod=F.SodOptions(hash_name="sha1"))
    v = _run(card, TrustStore(roots=[pki.csca.cert]), policy=ICAO_2025, ca_ran=None, complement=True)
    assert v.check("chip.aa").status == "passed"
    return v


VARIANTS: list[tuple[str, Callable[[], Verdict]]] = [
    ("p256-csca-explicit/p256-ds/ecdsa-aa/ca/dg2", _simple("p256", "p256")),
    ("bp256-explicit/bp256-ds/bp256-aa", _simple("bp256", "bp256", aa="bp256")),
    (
        "bp512-explicit/bp384-ds/sha384/bp384-aa",
        _simple("bp512", "bp384", aa="bp384", aa_hash="sha384", sod=F.SodOptions(hash_name="sha384")),
    ),
    ("rsa3072/rsa2048-pkcs1/rsa-aa-sha256", _simple("rsa3072", "rsa2048", explicit=False, aa="rsa2048")),
    ("rsa-pss-sod/rsa-aa", v_rsa_pss_sod),
    ("no-dg2/ca-only", _simple("bp256", "p256", with_dg2=False, aa=None)),
    ("aa-only/ca-not-run", _simple("bp256", "p256", ca=False, aa="p256")),
    (
        "p384-ds/sha512",
        _simple("p384", "p384", aa="p384", aa_hash="sha384", sod=F.SodOptions(hash_name="sha512")),
    ),
    ("ski-signer-from-store", v_ski_signer_from_store),
    ("link-certificate", v_link_certificate),
    ("master-list-trust", v_master_list_trust),
    ("older-lds-oid", v_older_lds_oid),
    ("named-curve-csca", _simple("bp256", "p256", explicit=False)),
    ("icao-rsa-aa-bc-complement", v_icao_rsa_aa_bc_complement),
]


def test_enough_variants() -> None:
    assert len(VARIANTS) >= 10


@pytest.mark.parametrize("build", [b for _, b in VARIANTS], ids=[i for i, _ in VARIANTS])
def test_genuine_card_valid(build: Callable[[], Verdict]) -> None:
    verdict = build()
    assert verdict.status == "valid", verdict.checks
    assert verdict.issuer == "Central Organization Commission"
    assert not verdict.reasons


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("plain", [False, True], ids=["der", "plain"])
def test_sod_hashes_and_ecdsa_encodings(hash_name: str, plain: bool) -> None:
    """Every SOD hash 9303-12 lists, with DER and plain r‖s ECDSA SignerInfos (ICAO policy: SHA-1 ok)."""
    pki = F.build_pki("p256", "p384")
    card = F.build_card(pki.ds, aa=None, ca=False, sod=F.SodOptions(hash_name=hash_name, plain_ecdsa=plain))
    v = _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]), policy=ICAO_2025, ca_ran=None)
    assert v.status == "valid", v.checks
    assert v.check("sod.signature").detail == f"ecdsa-{hash_name}/{'plain' if plain else 'der'}"
    party = _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]), ca_ran=None)
    if hash_name == "sha1":
        assert "alg.disallowed" in party.reasons


def test_verify_inside_running_event_loop() -> None:
    """Integrators call verify_document from asyncio code; path validation must still work."""
    import asyncio

    pki = F.build_pki("bp256", "p256")
    card = F.build_card(pki.ds)

    async def main() -> Verdict:
        return _run(card, TrustStore(roots=[pki.csca.cert], crls=[pki.crl]))

    assert asyncio.run(main()).status == "valid"
