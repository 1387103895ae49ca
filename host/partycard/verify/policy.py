"""Verify layer: verification policy as versioned data; must not verify anything itself.

Must not verify anything itself; other verify modules ask it questions. A policy is versioned: the
version string goes into every verdict so a recorded result can be re-read against its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from partycard.errors import VerificationError
from partycard.verify.signatures import PublicKey, SignatureScheme

#: Where a hash or signature is used; SHA-1 can be allowed per use (legacy SODs, AA trailer 0xBC).
Use = Literal["dg_hash", "sod_signature", "certificate", "crl", "aa"]

# Check names of a verdict (docs/reason-codes.md lists them with their reasons).
SOD_SIGNATURE = "sod.signature"
DG_HASHES = "dg.hashes"
DS_PATH = "ds.path"
DS_REVOCATION = "ds.revocation"
CHIP_AA = "chip.aa"
CHIP_CA = "chip.ca"
CARD_STATUS = "card.status"
CHECK_ORDER = (SOD_SIGNATURE, DG_HASHES, DS_PATH, DS_REVOCATION, CHIP_AA, CHIP_CA, CARD_STATUS)


@dataclass(frozen=True)
class AlgorithmPolicy:
    """Accepted signature mechanisms and sizes (ICAO 9303-12 §5; BSI TR-03116-2 for minimum sizes)."""

    hashes: frozenset[str] = frozenset({"sha224", "sha256", "sha384", "sha512"})
    sha1_uses: frozenset[str] = frozenset()
    min_rsa_bits: int = 2048
    min_ec_bits: int = 224
    curves: frozenset[str] = frozenset(
        {
            "secp224r1",
            "secp256r1",
            "secp384r1",
            "secp521r1",
            "brainpoolP224r1",
            "brainpoolP256r1",
            "brainpoolP320r1",
            "brainpoolP384r1",
            "brainpoolP512r1",
        }
    )
    min_dsa_bits: int | None = None  # None: DSA not accepted

    def check_hash(self, name: str, use: Use) -> None:
        if name == "sha1" and use in self.sha1_uses:
            return
        if name not in self.hashes:
            raise VerificationError("alg.disallowed", f"{name} is not allowed for {use}")

    def check_key(self, key: PublicKey, use: Use) -> None:
        if key.kind == "rsa" and key.bits < self.min_rsa_bits:
            raise VerificationError(
                "alg.disallowed", f"RSA-{key.bits} is below {self.min_rsa_bits} bits ({use})"
            )
        if key.kind == "ec":
            curve = key.curve.name if key.curve is not None else "unknown"
            if curve not in self.curves or key.bits < self.min_ec_bits:
                raise VerificationError("alg.disallowed", f"curve {curve} is not allowed ({use})")
        if key.kind == "dsa" and (self.min_dsa_bits is None or key.bits < self.min_dsa_bits):
            raise VerificationError("alg.disallowed", f"DSA-{key.bits} is not allowed ({use})")

    def check(self, scheme: SignatureScheme, key: PublicKey, use: Use) -> None:
        """Raise VerificationError("alg.disallowed") unless scheme and key are acceptable for ``use``."""
        self.check_hash(scheme.hash, use)
        if scheme.pss is not None:
            self.check_hash(scheme.pss.mgf_hash, use)
        self.check_key(key, use)


@dataclass(frozen=True)
class Policy:
    """What a verdict requires. ``required`` is a tuple of alternatives: each inner tuple is satisfied
    when any one of its checks passed (e.g. AA or CA proves the chip is not a clone)."""

    version: str
    required: tuple[tuple[str, ...], ...]
    algorithms: AlgorithmPolicy = field(default_factory=AlgorithmPolicy)
    #: Data groups that must be present and covered by the SOD (9303-10 §4.7: DG1 always; DG13 holds
    #: the party member record).
    required_groups: frozenset[int] = frozenset({1})
    #: A current CRL from the DS issuer must be present (RFC 5280 §6.3; 9303-12 §7.1.4).
    crl_required: bool = True
    #: Older denylists cannot prove a card is current (None: any age accepted).
    denylist_max_age: timedelta | None = timedelta(days=2)

    def is_required(self, check: str) -> bool:
        return any(check in group for group in self.required)


PARTY_2025 = Policy(
    version="party-2025.1",
    required=(
        (SOD_SIGNATURE,),
        (DG_HASHES,),
        (DS_PATH,),
        (DS_REVOCATION,),
        (CHIP_AA, CHIP_CA),
        (CARD_STATUS,),
    ),
    required_groups=frozenset({1, 13}),
)

#: ICAO travel documents and the citizen ID card: passive authentication only is required; SHA-1
#: remains acceptable where 9303-12 still allows it (older SODs, AA with trailer 0xBC).
ICAO_2025 = Policy(
    version="icao-9303-2025.1",
    required=((SOD_SIGNATURE,), (DG_HASHES,), (DS_PATH,)),
    algorithms=AlgorithmPolicy(
        hashes=frozenset({"sha224", "sha256", "sha384", "sha512"}),
        sha1_uses=frozenset({"dg_hash", "sod_signature", "certificate", "crl", "aa"}),
        min_rsa_bits=1024,
    ),
    required_groups=frozenset({1}),
    crl_required=False,
    denylist_max_age=None,
)

POLICIES = {p.version: p for p in (PARTY_2025, ICAO_2025)}


def policy_by_version(version: str) -> Policy:
    try:
        return POLICIES[version]
    except KeyError:
        raise VerificationError("policy.unknown", f"no policy {version!r}") from None
