"""Verify layer: EF.SOD security object and data-group hashes; must not judge the DS certificate.

Must not judge the DS certificate's trust (trust.py does); it unwraps EF.SOD (ICAO 9303-10 §4.6.2,
tag 0x77), verifies the CMS signature with the DS key, and compares data-group hashes.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from asn1crypto import algos, cms, core

from partycard.errors import VerificationError
from partycard.verify.cms import SignedContent, SignerLookup, verify_signed_data
from partycard.verify.der import ASN1_ERRORS, unwrap
from partycard.verify.policy import AlgorithmPolicy
from partycard.verify.signatures import HashName, digest, hash_name

#: id-icao-mrtd-security-ldsSecurityObject (9303-10 §4.6.2.2) and the older id-icao-ldsSecurityObject
#: under 1.3.27 still found in earlier documents.
LDS_SECURITY_OBJECT_OIDS = ("2.23.136.1.1.1", "1.3.27.1.1.1")


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]  # noqa: RUF012 - asn1crypto schema


class DataGroupHashes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):  # type: ignore[misc]
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]  # noqa: RUF012 - asn1crypto schema


class LDSSecurityObject(core.Sequence):  # type: ignore[misc]
    """9303-10 §4.6.2.3: version v0 (v1 adds ldsVersionInfo)."""

    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class SecurityObject:
    hash_algorithm: HashName
    hashes: Mapping[int, bytes]
    signed: SignedContent


def unwrap_sod(data: bytes) -> bytes:
    """The ContentInfo inside EF.SOD's application tag 0x77 (9303-10 §4.6.2)."""
    return unwrap(data, 0x77, "sod.malformed")


def parse_security_object(content: bytes) -> tuple[HashName, dict[int, bytes]]:
    try:
        lso = LDSSecurityObject.load(content)
        lso.native  # noqa: B018 - parse fully
        version = lso["version"].native
        algo = hash_name(lso["hash_algorithm"]["algorithm"].native)
        hashes: dict[int, bytes] = {}
        for item in lso["data_group_hash_values"]:
            number = int(item["data_group_number"].native)
            if not 1 <= number <= 16 or number in hashes:
                raise VerificationError("sod.malformed", f"data-group number {number} invalid or repeated")
            hashes[number] = bytes(item["data_group_hash_value"].native)
    except VerificationError:
        raise
    except ASN1_ERRORS as exc:
        raise VerificationError("sod.malformed", f"LDSSecurityObject: {exc}") from exc
    if version not in (0, 1) or (version == 1) != bool(lso["lds_version_info"].native):
        raise VerificationError("sod.malformed", "LDSSecurityObject version and ldsVersionInfo disagree")
    return algo, hashes


def verify_sod(
    data: bytes, *, algorithms: AlgorithmPolicy, lookup: SignerLookup | None = None
) -> SecurityObject:
    """Unwrap, verify the SignedData and parse the security object; raise VerificationError("sod.*")."""
    signed = verify_signed_data(
        unwrap_sod(data),
        prefix="sod",
        content_types=LDS_SECURITY_OBJECT_OIDS,
        algorithms=algorithms,
        use="sod_signature",
        lookup=lookup,
    )
    algo, hashes = parse_security_object(signed.content)
    return SecurityObject(algo, hashes, signed)


def read_security_object_unverified(data: bytes) -> tuple[HashName, dict[int, bytes]] | None:
    """The hash table even when the signature is bad, so the verdict can still name tampered groups."""
    try:
        info = cms.ContentInfo.load(unwrap_sod(data))
        return parse_security_object(info["content"]["encap_content_info"]["content"].native)
    except VerificationError:
        return None
    except ASN1_ERRORS:
        return None


@dataclass(frozen=True)
class GroupResult:
    """Outcome of the hash comparison: reason None when every present group matched."""

    reason: str | None
    detail: str
    matched: frozenset[int]


def check_groups(
    algo: HashName, hashes: Mapping[int, bytes], groups: Mapping[int, bytes], required: frozenset[int]
) -> GroupResult:
    """Compare each present data group with its SOD hash (9303-11 §5.1 step 3)."""
    mismatched = sorted(
        n
        for n, data in groups.items()
        if n in hashes and not hmac.compare_digest(digest(algo, data), hashes[n])
    )
    uncovered = sorted(n for n in groups if n not in hashes)
    missing = sorted(n for n in required if n not in groups)
    matched = frozenset(n for n in groups if n in hashes and n not in mismatched)
    if mismatched:
        return GroupResult(
            "dg.hash_mismatch", f"hash differs for DG{', DG'.join(map(str, mismatched))}", matched
        )
    if uncovered:
        return GroupResult("dg.not_covered", f"DG{', DG'.join(map(str, uncovered))} not in the SOD", matched)
    if missing:
        return GroupResult("dg.missing", f"required DG{', DG'.join(map(str, missing))} not read", matched)
    unread = sorted(n for n in hashes if n not in groups)
    note = f"; not read: DG{', DG'.join(map(str, unread))}" if unread else ""
    return GroupResult(None, f"{len(matched)} groups match ({algo}){note}", matched)


#: The one spelling of each data-group name: "DG1".."DG16", ASCII digits, no leading zero.
_GROUP_NAMES = {f"DG{n}": n for n in range(1, 17)}


def group_number(name: str) -> int | None:
    """'DG13' -> 13; anything else None. Only the canonical spelling counts: were "DG013" or "DG١٣"
    (str.isdigit() accepts any script's digits) also group 13, a genuine copy under an alias could be
    hashed while another file under "DG13"/"DG15" is what the member data and AA key come from."""
    return _GROUP_NAMES.get(name)
