"""Verify layer: trust store and certificate path validation; must not parse SODs or decide verdicts.

Must not parse the SOD or decide verdicts; it answers "does this certificate chain to a trusted root
at time T, and is it revoked?" with a path or a CertificateInvalid carrying a reason code. Path
validation is pyhanko-certvalidator (RFC 5280 §6.1) with its signature check routed through our
adapter (explicit EC parameters, ICAO 9303-12 §4.1.6.3) and our algorithm policy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from asn1crypto import algos, crl, keys, pem, x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    NO_REVOCATION,
    AlgorithmUsageConstraint,
    AlgorithmUsagePolicy,
    CertRevTrustPolicy,
    PKIXValidationParams,
)
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from partycard.errors import CertificateInvalid, ConfigError, VerificationError
from partycard.verify.masterlist import parse_master_list
from partycard.verify.policy import AlgorithmPolicy, Use
from partycard.verify.signatures import hash_name, load_public_key, scheme_from_algorithm, verify_signature

Revocation = Literal["off", "if-present", "require"]
T = TypeVar("T")


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run pyhanko's coroutine to completion, also when the caller already runs an event loop
    (an integrator's asyncio application): then in a worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class AdapterSignatureValidator(SignatureValidator):
    """pyhanko's signature hook, answered by our adapter (one place that talks to cryptography)."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        try:
            if context.prehashed:
                raise VerificationError("crypto.algorithm_unsupported", "pre-hashed input")
            key = load_public_key(public_key_info)
            scheme = scheme_from_algorithm(signature_algorithm, digest_hint=context.contextual_md_algorithm)
            verify_signature(key, scheme, signed_data, signature)
        except VerificationError as exc:
            # pyhanko expects cryptography's InvalidSignature; it turns it into a PathValidationError.
            raise InvalidSignature(str(exc)) from exc


class PolicyBridge(AlgorithmUsagePolicy):
    """Our AlgorithmPolicy in pyhanko's terms, for certificates and CRLs on the path."""

    def __init__(self, algorithms: AlgorithmPolicy, use: Use = "certificate") -> None:
        self._alg = algorithms
        self._use: Use = use

    def digest_algorithm_allowed(
        self, algo: algos.DigestAlgorithm, moment: datetime | None
    ) -> AlgorithmUsageConstraint:
        try:
            self._alg.check_hash(hash_name(algo["algorithm"].native), self._use)
        except VerificationError as exc:
            return AlgorithmUsageConstraint(allowed=False, failure_reason=str(exc))
        return AlgorithmUsageConstraint(allowed=True)

    def signature_algorithm_allowed(
        self,
        algo: algos.SignedDigestAlgorithm,
        moment: datetime | None,
        public_key: keys.PublicKeyInfo | None,
    ) -> AlgorithmUsageConstraint:
        try:
            scheme = scheme_from_algorithm(algo)
            self._alg.check_hash(scheme.hash, self._use)
            if public_key is not None:
                self._alg.check(scheme, load_public_key(public_key), self._use)
        except VerificationError as exc:
            return AlgorithmUsageConstraint(allowed=False, failure_reason=str(exc))
        return AlgorithmUsageConstraint(allowed=True)


def _der_or_pem_blocks(data: bytes) -> list[bytes]:
    if pem.detect(data):
        return [der for _kind, _hdr, der in pem.unarmor(data, multiple=True)]
    return [data]


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or more) or DER, or the CSCA certificates of an ICAO master list."""
    out: list[x509.Certificate] = []
    try:
        for der in _der_or_pem_blocks(data):
            if der[:1] == b"\x30" and _looks_like_cms(der):
                out.extend(parse_master_list(der))
                continue
            cert = x509.Certificate.load(der)
            cert.native  # noqa: B018 - force a full parse so bad input fails here, not mid-validation
            out.append(cert)
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"not a certificate, PEM bundle or master list: {exc}") from exc
    return out


def _looks_like_cms(der: bytes) -> bool:
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der)
        return bool(info["content_type"].native == "signed_data")
    except (ValueError, TypeError):
        return False


def load_crls(data: bytes) -> list[crl.CertificateList]:
    out = []
    try:
        for der in _der_or_pem_blocks(data):
            item = crl.CertificateList.load(der)
            item.native  # noqa: B018 - full parse now
            out.append(item)
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"not a CRL: {exc}") from exc
    return out


#: CRL entry extensions path validation processes (RFC 5280 §5.3.1-5.3.3; holdInstructionCode: RFC 3280).
_KNOWN_CRL_ENTRY_EXTENSIONS = frozenset(
    {"crl_reason", "hold_instruction_code", "invalidity_date", "certificate_issuer"}
)


def crl_usable(item: crl.CertificateList) -> bool:
    """False when a CRL entry has a critical extension we cannot process: RFC 5280 §5.3 says such a
    CRL must not be used for any certificate. pyhanko only looks at the entry of the certificate
    being checked, so a CRL whose other entries we cannot read would still count as current."""
    entries = item["tbs_cert_list"]["revoked_certificates"]
    return not any(entry.critical_extensions - _KNOWN_CRL_ENTRY_EXTENSIONS for entry in entries or [])


@dataclass(frozen=True)
class _CachedPath:
    """A path that validated, and the time window over which that answer cannot change."""

    path: ValidationPath
    not_before: datetime
    not_after: datetime


#: Validated paths kept per store. One DS certificate signs the documents of months of issuance,
#: so a kiosk meets a handful; the bound only limits what hostile input could make it hold.
PATH_CACHE_SIZE = 256


@dataclass
class TrustStore:
    """Trusted roots (CSCAs), other certificates offered to path building (link certificates, DS
    certificates for SODs that do not embed theirs), and CRLs.

    Validated paths are cached (``validate``): a card then costs its own signatures and hashes, not
    a path build and the path's signatures again. Changing the roots, intermediates or CRLs (adding,
    removing or replacing one) empties the cache."""

    roots: list[x509.Certificate] = field(default_factory=list)
    intermediates: list[x509.Certificate] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)
    _paths: OrderedDict[tuple[object, ...], _CachedPath] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )
    _contents: tuple[object, ...] = field(default=(), init=False, repr=False, compare=False)
    #: Answers served from the cache, and validations run (passed or not), since the store was made.
    path_cache_hits: int = field(default=0, init=False, compare=False)
    path_validations: int = field(default=0, init=False, compare=False)

    @classmethod
    def from_paths(
        cls, trust: Sequence[Path], crls: Sequence[Path] = (), others: Sequence[Path] = ()
    ) -> TrustStore:
        """Roots from files or directories (PEM/DER/.ml); self-signed ones become roots, the rest
        (link certificates) intermediates."""
        store = cls()
        for path in _expand(trust):
            for cert in load_certificates(_read(path)):
                store.add_certificate(cert)
        for path in _expand(others):
            store.intermediates.extend(load_certificates(_read(path)))
        for path in _expand(crls):
            store.crls.extend(load_crls(_read(path)))
        return store

    def add_certificate(self, cert: x509.Certificate) -> None:
        (self.roots if cert.self_signed else self.intermediates).append(cert)

    def crls_from(self, issuer: x509.Name) -> list[crl.CertificateList]:
        # Equal encodings are equal names; otherwise compare as RFC 5280 §7.1 says (slower).
        der = issuer.dump()
        return [c for c in self.crls if c.issuer.dump() == der or c.issuer == issuer]

    def find_by_issuer_serial(self, issuer: x509.Name, serial: int) -> x509.Certificate | None:
        for cert in self.intermediates:
            if cert.issuer == issuer and cert.serial_number == serial:
                return cert
        return None

    def find_by_key_id(self, key_id: bytes) -> x509.Certificate | None:
        for cert in self.intermediates:
            if cert.key_identifier == key_id:
                return cert
        return None

    def validate(
        self,
        cert: x509.Certificate,
        *,
        at: datetime,
        algorithms: AlgorithmPolicy,
        revocation: Revocation,
        extra: Iterable[x509.Certificate] = (),
        explicit_path: Sequence[x509.Certificate] | None = None,
        pkix_params: PKIXValidationParams | None = None,
    ) -> ValidationPath:
        """Validate ``cert`` to a root at ``at``; return the path or raise CertificateInvalid.

        A path that validated before is answered from the cache when ``at`` lies in its window (see
        ``_window``); failures are never cached, so a refused certificate is refused afresh."""
        extra = list(extra)
        key: tuple[object, ...] | None = None
        if explicit_path is None and pkix_params is None:
            key = (cert.dump(), tuple(c.dump() for c in extra), revocation, algorithms)
            hit = self._cached(key, at)
            if hit is not None:
                self.path_cache_hits += 1
                return hit
        self.path_validations += 1
        path = self._validate(
            cert,
            at=at,
            algorithms=algorithms,
            revocation=revocation,
            extra=extra,
            explicit_path=explicit_path,
            pkix_params=pkix_params,
        )
        if key is not None:
            window = self._window(path, revocation)
            if window is not None:
                self._paths[key] = _CachedPath(path, *window)
                if len(self._paths) > PATH_CACHE_SIZE:
                    self._paths.popitem(last=False)
        return path

    def _cached(self, key: tuple[object, ...], at: datetime) -> ValidationPath | None:
        # Identity, not equality: a certificate or CRL put in place of another empties the cache
        # even if it compared equal, and checking costs one pass over a few references.
        contents = (*self.roots, None, *self.intermediates, None, *self.crls)
        same = len(contents) == len(self._contents) and all(
            a is b for a, b in zip(contents, self._contents, strict=True)
        )
        if not same:
            self._paths.clear()
            self._contents = contents
            return None
        entry = self._paths.get(key)
        if entry is None or not entry.not_before <= at <= entry.not_after:
            return None
        self._paths.move_to_end(key)
        return entry.path

    def _window(self, path: ValidationPath, revocation: Revocation) -> tuple[datetime, datetime] | None:
        """The times over which the same validation must succeed again, or None to not cache it.

        What validation reads from the time is: the validity of every certificate on the path (the
        anchor's too, ``_check_anchor_validity``), and with revocation on, whether each CRL from an
        issuer on the path is current and whether it lists a certificate of the path as revoked by
        then (RFC 5280 §6.3.3). The window is where every certificate is valid and every such CRL
        is current; a path with any certificate listed on such a CRL, whatever the date, is not
        cached, so a revocation dated after the first answer is never missed."""
        certs = list(path.iter_certs(include_root=True))
        lo = max(c["tbs_certificate"]["validity"]["not_before"].native for c in certs)
        hi = min(c["tbs_certificate"]["validity"]["not_after"].native for c in certs)
        if revocation != "off":
            checked = list(path.iter_certs(include_root=False))  # the anchor is never revocation-checked
            for item in self.crls:
                serials = {c.serial_number for c in checked if c.issuer == item.issuer}
                if not serials:
                    continue
                tbs = item["tbs_cert_list"]
                lo = max(lo, tbs["this_update"].native)
                if tbs["next_update"].native is not None:
                    hi = min(hi, tbs["next_update"].native)
                if any(entry["user_certificate"].native in serials for entry in tbs["revoked_certificates"] or []):
                    return None
        return (lo, hi) if lo <= hi else None

    def _validate(
        self,
        cert: x509.Certificate,
        *,
        at: datetime,
        algorithms: AlgorithmPolicy,
        revocation: Revocation,
        extra: list[x509.Certificate],
        explicit_path: Sequence[x509.Certificate] | None,
        pkix_params: PKIXValidationParams | None,
    ) -> ValidationPath:
        others = [*self.intermediates, *extra]
        if revocation == "off":
            ctx = ValidationContext(
                trust_roots=list(self.roots),
                other_certs=others,
                moment=at,
                allow_fetching=False,
                revinfo_policy=CertRevTrustPolicy(NO_REVOCATION),
                algorithm_usage_policy=PolicyBridge(algorithms),
                signature_validator=AdapterSignatureValidator(),
            )
        else:
            ctx = ValidationContext(
                trust_roots=list(self.roots),
                other_certs=others,
                moment=at,
                allow_fetching=False,
                crls=[c for c in self.crls if crl_usable(c)],  # the rest: crl.unusable
                revocation_mode="soft-fail" if revocation == "if-present" else "require",
                algorithm_usage_policy=PolicyBridge(algorithms),
                signature_validator=AdapterSignatureValidator(),
            )
        try:
            if explicit_path is not None:
                from pyhanko_certvalidator.validate import async_validate_path

                anchor = CertTrustAnchor(explicit_path[0])
                path = ValidationPath(anchor, list(explicit_path[1:]), cert)
                _run_sync(async_validate_path(ctx, path, parameters=pkix_params))
            else:
                validator = CertificateValidator(cert, others, validation_context=ctx, pkix_params=pkix_params)
                path = _run_sync(validator.async_validate_path())
        except (pv_errors.PathError, pv_errors.ValidationError) as exc:
            raise CertificateInvalid(_reason(exc), str(exc)) from exc
        _check_anchor_validity(path, at)
        return path


def _check_anchor_validity(path: ValidationPath, at: datetime) -> None:
    """RFC 5280 §6.1 leaves the trust anchor's validity alone (pyhanko follows it); the ICAO PKI
    does not: 9303-12 sizes a CSCA certificate's validity to outlast every DS certificate and
    document it signed, so an expired CSCA ends the trust in everything below it, and a DS that a
    retired CSCA key (perhaps no longer protected) could still sign is refused."""
    for cert in path.iter_certs(include_root=True):
        if cert is path.leaf:
            continue
        validity = cert["tbs_certificate"]["validity"]
        if at < validity["not_before"].native:
            raise CertificateInvalid("chain.not_yet_valid", "a CA certificate on the path is not yet valid")
        if at > validity["not_after"].native:
            raise CertificateInvalid("chain.expired", "a CA certificate on the path has expired")


#: pyhanko's error classes → our reason codes (docs/reason-codes.md); first match wins, so the
#: subclass StaleRevinfoError comes before InsufficientRevinfoError.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (pv_errors.PathBuildingError, "ds.not_trusted"),
    (pv_errors.RevokedError, "ds.revoked"),
    (pv_errors.StaleRevinfoError, "crl.stale"),
    (pv_errors.InsufficientRevinfoError, "crl.unusable"),
    (pv_errors.ExpiredError, "chain.expired"),
    (pv_errors.NotYetValidError, "chain.not_yet_valid"),
    (pv_errors.DisallowedAlgorithmError, "alg.disallowed"),
)


def _reason(exc: Exception) -> str:
    return next((reason for cls, reason in _REASONS if isinstance(exc, cls)), "chain.invalid")


def _expand(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.is_file()))
        else:
            out.append(path)
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
