"""Verify layer: orchestration of all checks into a Verdict; must not read cards, files or log PII.

Must not read the card, load files or log personal data; callers pass the files read, the trust
store, the policy, the card status list and what the reading side did (AA exchange, CA outcome).
Each check is independent and reports passed / failed(reason) / not_performed(reason), so one
failure never hides another (ICAO 9303-11 §5.1 passive authentication; §6.1 AA; §6.2 CA).
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509

from partycard.errors import CertificateInvalid, ParseError, VerificationError
from partycard.verify import policy as P
from partycard.verify.aa import AAExchange, verify_active_authentication
from partycard.verify.certs import check_ds_certificate, organisation
from partycard.verify.denylist import Denylist
from partycard.verify.sod import (
    SecurityObject,
    check_groups,
    group_number,
    read_security_object_unverified,
    verify_sod,
)
from partycard.verify.trust import TrustStore
from partycard.verify.verdict import Check, Verdict, decide

SOD_FILE = "EF.SOD"


@dataclass(frozen=True)
class _PA:
    """Passive-authentication facts later checks depend on."""

    sod: SecurityObject | None
    covered: frozenset[int]  # groups whose hash matched a SOD whose signature verified


def _lookup(trust: TrustStore):  # type: ignore[no-untyped-def]
    def find(sid: cms.SignerIdentifier) -> x509.Certificate | None:
        if sid.name == "issuer_and_serial_number":
            return trust.find_by_issuer_serial(sid.chosen["issuer"], sid.chosen["serial_number"].native)
        return trust.find_by_key_id(sid.chosen.native)

    return find


def _passive(files: Mapping[str, bytes], trust: TrustStore, policy: P.Policy) -> tuple[_PA, list[Check]]:
    groups = {n: data for name, data in files.items() if (n := group_number(name)) is not None}
    raw = files.get(SOD_FILE)
    if raw is None:
        return _PA(None, frozenset()), [
            Check.failed(P.SOD_SIGNATURE, "sod.missing", "EF.SOD was not read"),
            Check.skipped(P.DG_HASHES, "sod.unavailable"),
        ]
    sod: SecurityObject | None = None
    try:
        sod = verify_sod(raw, algorithms=policy.algorithms, lookup=_lookup(trust))
        sig_check = Check.passed(P.SOD_SIGNATURE, f"{sod.signed.scheme.describe()}")
        table: tuple[str, dict[int, bytes]] | None = (sod.hash_algorithm, dict(sod.hashes))
    except VerificationError as exc:
        sig_check = Check.failed(P.SOD_SIGNATURE, exc.reason, str(exc))
        table = read_security_object_unverified(raw)
    if table is None:
        return _PA(None, frozenset()), [sig_check, Check.skipped(P.DG_HASHES, "sod.unavailable")]
    algo, hashes = table
    try:
        policy.algorithms.check_hash(algo, "dg_hash")
    except VerificationError as exc:
        return _PA(sod, frozenset()), [sig_check, Check.failed(P.DG_HASHES, exc.reason, str(exc))]
    result = check_groups(algo, hashes, groups, policy.required_groups)  # type: ignore[arg-type]
    dg_check = (
        Check.passed(P.DG_HASHES, result.detail)
        if result.reason is None
        else Check.failed(P.DG_HASHES, result.reason, result.detail)
    )
    covered = result.matched if sod is not None else frozenset()
    return _PA(sod, covered), [sig_check, dg_check]


def _chain(sod: SecurityObject | None, trust: TrustStore, policy: P.Policy, at: datetime) -> list[Check]:
    if sod is None:
        return [
            Check.skipped(P.DS_PATH, "sod.unavailable"),
            Check.skipped(P.DS_REVOCATION, "sod.unavailable"),
        ]
    ds = sod.signed.signer
    extra = [c for c in sod.signed.certificates if c is not ds]
    try:
        check_ds_certificate(ds, at=at, algorithms=policy.algorithms)
        trust.validate(ds, at=at, algorithms=policy.algorithms, revocation="off", extra=extra)
        path = Check.passed(P.DS_PATH)
    except CertificateInvalid as exc:
        return [
            Check.failed(P.DS_PATH, exc.reason, str(exc)),
            Check.skipped(P.DS_REVOCATION, "ds.path_failed"),
        ]
    if not trust.crls_from(ds.issuer):
        if policy.crl_required:
            return [path, Check.failed(P.DS_REVOCATION, "crl.missing", "no CRL from the DS issuer")]
        return [path, Check.skipped(P.DS_REVOCATION, "crl.missing", "no CRL from the DS issuer")]
    try:
        trust.validate(ds, at=at, algorithms=policy.algorithms, revocation="require", extra=extra)
    except CertificateInvalid as exc:
        return [path, Check.failed(P.DS_REVOCATION, exc.reason, str(exc))]
    return [path, Check.passed(P.DS_REVOCATION)]


def _aa_precondition(
    dg15: bytes | None, exchange: AAExchange | None, expected_challenge: bytes | None
) -> Check | None:
    """The AA outcome when the response cannot or must not be verified; None to go on."""
    if exchange is None:
        if dg15 is None:
            return Check.skipped(P.CHIP_AA, "aa.not_supported_by_card")
        return Check.skipped(P.CHIP_AA, "aa.not_run", "the card has DG15 but no AA response was given")
    if dg15 is None:
        return Check.failed(P.CHIP_AA, "aa.key_missing", "AA response without DG15")
    if expected_challenge is not None and not hmac.compare_digest(expected_challenge, exchange.challenge):
        # The response answers some other challenge than the one this verifier issued: a replay.
        return Check.failed(P.CHIP_AA, "aa.challenge_mismatch", "response is for another challenge")
    return None


def _aa(
    files: Mapping[str, bytes],
    pa: _PA,
    exchange: AAExchange | None,
    policy: P.Policy,
    expected_challenge: bytes | None,
    *,
    witnessed: bool,
    withheld: Collection[str],
) -> Check:
    dg15 = files.get("DG15")
    if dg15 is None and _withheld(15, pa, withheld):
        return Check.failed(P.CHIP_AA, "aa.key_withheld", "the SOD lists DG15; the chip refused to give it")
    early = _aa_precondition(dg15, exchange, expected_challenge)
    if early is not None or exchange is None or dg15 is None:
        return early or Check.skipped(P.CHIP_AA, "aa.not_run")
    try:
        result = verify_active_authentication(
            dg15, exchange, algorithms=policy.algorithms, dg14=files.get("DG14")
        )
    except VerificationError as exc:
        return Check.failed(P.CHIP_AA, exc.reason, str(exc))
    if 15 not in pa.covered:
        # The signature is right, but nothing ties the key to the issuer: proves nothing about cloning.
        return Check.failed(
            P.CHIP_AA,
            "aa.key_unauthenticated",
            f"{result.mechanism} verified; DG15 not covered by a valid SOD",
        )
    if expected_challenge is None and not witnessed:
        # A signature over a challenge nobody here issued is what a replayed response looks like
        # too: it shows that the chip once signed it, not that the chip was read (9303-11 §6.1
        # relies on a fresh nonce).
        return Check.skipped(
            P.CHIP_AA,
            "aa.not_witnessed",
            f"{result.mechanism} verifies over the read's own challenge; no challenge issued by this verifier",
        )
    origin = "supplied by the reading side" if expected_challenge is None else "issued by this verifier"
    return Check.passed(P.CHIP_AA, f"{result.mechanism}; challenge {origin}")


def _withheld(group: int, pa: _PA, withheld: Collection[str]) -> bool:
    """Whether the chip refused a group that its verified SOD says it has: a clone that cannot
    answer AA or CA would otherwise pass for a card without them (9303-10 §4.6.2: the SOD hashes
    every group present)."""
    return f"DG{group}" in withheld and pa.sod is not None and group in pa.sod.hashes


def _ca_not_run(files: Mapping[str, bytes], pa: _PA, withheld: Collection[str]) -> Check:
    if "DG14" in files:
        return Check.skipped(P.CHIP_CA, "ca.not_run")
    if _withheld(14, pa, withheld):
        return Check.failed(P.CHIP_CA, "ca.key_withheld", "the SOD lists DG14; the chip refused to give it")
    return Check.skipped(P.CHIP_CA, "ca.not_supported_by_card")


def _ca(
    files: Mapping[str, bytes], pa: _PA, ca_ran: bool | None, witnessed: bool, withheld: Collection[str]
) -> Check:
    if ca_ran is None:
        return _ca_not_run(files, pa, withheld)
    if not ca_ran:
        return Check.failed(P.CHIP_CA, "ca.failed", "Chip Authentication was attempted and failed")
    if 14 not in pa.covered:
        return Check.failed(P.CHIP_CA, "ca.key_unauthenticated", "DG14 not covered by a valid SOD")
    if not witnessed:
        # CA v1 proves the chip only to the terminal that ran it (its session keys, 9303-11 §6.2);
        # a record saying it ran is a claim anyone can write.
        return Check.skipped(P.CHIP_CA, "ca.not_witnessed", "the read says CA ran; this verifier did not run it")
    return Check.passed(P.CHIP_CA, "CA completed with the DG14 key")


def _signed_card_number(files: Mapping[str, bytes], pa: _PA, chain: list[Check]) -> str | None:
    """The card number as the issuer signed it: DG13's for a party card, else DG1's document number,
    and only from a group whose hash matched a verified SOD whose signer is trusted (its path
    passed, its revocation check did not fail); None otherwise."""
    from partycard.card.lds.dg1 import parse_dg1
    from partycard.card.lds.dg13 import parse_dg13

    if any(c.status == "failed" for c in chain) or chain[0].status != "passed":
        return None  # signed, but by a key nobody vouches for: the number is anybody's
    try:
        if "DG13" in files:
            return parse_dg13(files["DG13"]).card_number if 13 in pa.covered else None
        if 1 in pa.covered:
            return parse_dg1(files["DG1"]).document_number
    except ParseError:
        return None
    return None


def _status(
    denylist: Denylist | None,
    card_number: str | None,
    signed_number: str | None,
    policy: P.Policy,
    at: datetime,
) -> Check:
    if denylist is None:
        return Check.skipped(P.CARD_STATUS, "status.no_list")
    if not card_number:
        return Check.skipped(P.CARD_STATUS, "status.no_card_number")
    # Being listed under either number refuses the card; only the signed number can clear it.
    for number in (card_number, signed_number):
        entry = denylist.lookup(number) if number else None
        if entry is not None:
            return Check.failed(
                P.CARD_STATUS, f"status.{entry.reason}", f"listed since {entry.since or 'unknown'}"
            )
    if signed_number is None or card_number.strip().upper() != signed_number.strip().upper():
        return Check.skipped(
            P.CARD_STATUS,
            "status.card_number_unverified",
            "the card number is not the one in a data group covered by a valid SOD from a trusted signer",
        )
    if policy.denylist_max_age is not None and at - denylist.generated_at > policy.denylist_max_age:
        return Check.skipped(
            P.CARD_STATUS, "status.list_stale", f"list generated {denylist.generated_at:%Y-%m-%d %H:%M}Z"
        )
    return Check.passed(P.CARD_STATUS, f"not listed (list of {denylist.generated_at:%Y-%m-%d %H:%M}Z)")


def verify_document(
    files: Mapping[str, bytes],
    trust: TrustStore,
    *,
    policy: P.Policy,
    denylist: Denylist | None,
    card_number: str | None,
    aa: AAExchange | None,
    ca_ran: bool | None,
    at: datetime,
    expected_challenge: bytes | None = None,
    witnessed: bool = True,
    withheld: Collection[str] = (),
) -> Verdict:
    """Verify one read card. ``files``: "EF.SOD", "DG1".."DG16" (others ignored) as read from the chip.
    ``at`` must be timezone-aware; it is the validation time for certificates, CRLs and the denylist.
    ``card_number`` clears the status check only when it is the number in DG13 (DG1 when there is no
    DG13) and that group is covered by a valid SOD; otherwise ``status.card_number_unverified``.

    AA freshness: the reading side generates the challenge for each read and passes it in ``aa``.
    When the challenge was issued elsewhere (a backend re-verifying a forwarded read, an offline
    dump), pass the issued nonce as ``expected_challenge`` so a response replayed from an earlier
    read is refused (``aa.challenge_mismatch``).

    ``witnessed``: whether the caller ran the read itself (a kiosk) or judges files that someone
    else read (a dump, a forwarded record). Without a witness, a "CA ran" outcome is a claim and is
    reported ``ca.not_witnessed``, and an AA response is proof of a live chip only when it answers
    ``expected_challenge`` (otherwise ``aa.not_witnessed``).

    ``withheld``: files the reading side asked for and the chip refused (``DocumentRead.skipped``).
    DG14 or DG15 among them while the SOD lists it is ``ca.key_withheld`` / ``aa.key_withheld``."""
    if at.tzinfo is None:
        raise VerificationError("input.naive_time", "validation time needs a timezone")
    pa, checks = _passive(files, trust, policy)
    chain = _chain(pa.sod, trust, policy, at)
    checks += chain
    checks += [
        _aa(files, pa, aa, policy, expected_challenge, witnessed=witnessed, withheld=withheld),
        _ca(files, pa, ca_ran, witnessed, withheld),
        _status(denylist, card_number, _signed_card_number(files, pa, chain), policy, at),
    ]
    issuer = organisation(pa.sod.signed.signer) if pa.sod is not None else None
    return Verdict(decide(checks, policy), tuple(checks), policy.version, issuer, card_number)
