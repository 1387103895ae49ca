"""Verify layer: trust store and certificate path validation; must not parse SODs or decide verdicts.

Must not parse the SOD or decide verdicts; it answers "does this certificate chain to a trusted root
at time T, and is it revoked?" with a path or a CertificateInvalid carrying a reason code. Path
validation is pyhanko-certvalidator (RFC 5280 §6.1) with its signature check routed through our
adapter (explicit EC parameters, ICAO 9303-12 §4.1.6.3) and our algorithm policy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
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
from partycard.verify.memo import Memo
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


_name_matches: Memo[bool] = Memo(256)


def same_name(a: x509.Name, b: x509.Name) -> bool:
    """RFC 5280 §7.1 name matching, kept per pair of encodings: a CRL and the certificates it
    covers often spell the same issuer with other string types, and the comparison then runs
    LDAP string preparation on every attribute, for every card."""
    da, db = a.dump(), b.dump()
    if da == db:
        return True
    return _name_matches.get(len(da).to_bytes(4, "big") + da + db, lambda: bool(a == b))


def _indirect(item: crl.CertificateList) -> bool:
    """Whether a CRL may speak for certificates of issuers other than its own (RFC 5280 §5.2.5
    indirectCRL, or an entry naming another issuer with the certificateIssuer extension, §5.3.3)."""
    idp = item.issuing_distribution_point_value
    if idp is not None and idp["indirect_crl"].native:
        return True
    entries = item["tbs_cert_list"]["revoked_certificates"]
    return any(entry.certificate_issuer_value is not None for entry in entries or [])


#: Validated paths kept per store. One DS certificate signs the documents of months of issuance,
#: so a kiosk meets a handful; the bound only limits what hostile input could make it hold.
PATH_CACHE_SIZE = 256


@dataclass(frozen=True)
class _CachedPath:
    """A path that validated, and the time window over which that answer cannot change."""

    path: ValidationPath
    not_before: datetime
    not_after: datetime


class _PathCache:
    """Validated paths for one content of the store (its roots, intermediates and CRLs, by
    identity). A store whose content changed starts a new one rather than clearing this one, so a
    copy of the store that shares it cannot empty or fill it for the original."""

    def __init__(self, contents: tuple[object, ...]) -> None:
        self.contents = contents
        self.entries: OrderedDict[tuple[object, ...], _CachedPath] = OrderedDict()
        self.lock = threading.Lock()

    def holds(self, contents: tuple[object, ...]) -> bool:
        # Identity, not equality: a certificate or CRL put in place of another starts a new cache
        # even if it compared equal, and checking costs one pass over a few references.
        return len(contents) == len(self.contents) and all(a is b for a, b in zip(contents, self.contents, strict=True))

    def get(self, key: tuple[object, ...], at: datetime) -> ValidationPath | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or not entry.not_before <= at <= entry.not_after:
                return None
            self.entries.move_to_end(key)
            return entry.path

    def put(self, key: tuple[object, ...], entry: _CachedPath) -> None:
        with self.lock:
            self.entries[key] = entry
            if len(self.entries) > PATH_CACHE_SIZE:
                self.entries.popitem(last=False)


@dataclass
class TrustStore:
    """Trusted roots (CSCAs), other certificates offered to path building (link certificates, DS
    certificates for SODs that do not embed theirs), and CRLs.

    Validated paths are cached (``validate``): a card then costs its own signatures and hashes, not
    a path build and the path's signatures again. Changing the roots, intermediates or CRLs (adding,
    removing or replacing one) empties the cache. Certificates and CRLs are values: replace one to
    change it, never edit it in place (the cache could not see that)."""

    roots: list[x509.Certificate] = field(default_factory=list)
    intermediates: list[x509.Certificate] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)
    _cache: _PathCache = field(default_factory=lambda: _PathCache(()), init=False, repr=False, compare=False)
    #: Answers served from the cache, and validations run (passed or not), since the store was made.
    path_cache_hits: int = field(default=0, init=False, compare=False)
    path_validations: int = field(default=0, init=False, compare=False)

    @classmethod
    def from_paths(cls, trust: Sequence[Path], crls: Sequence[Path] = (), others: Sequence[Path] = ()) -> TrustStore:
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
        """A root when self-signed, else an intermediate. asn1crypto answers "yes", "maybe" (names
        match, no key identifiers to compare) or "no" (a DS or a link certificate, whose keys differ
        from its issuer's): all three are true as strings, so the answer must be compared."""
        (self.roots if cert.self_signed in ("yes", "maybe") else self.intermediates).append(cert)

    def crls_from(self, issuer: x509.Name) -> list[crl.CertificateList]:
        return [c for c in self.crls if same_name(c.issuer, issuer)]

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
        # One snapshot for the cache choice, the validation and its window: another thread may
        # change the store meanwhile, and an answer found with other content must not be kept
        # for this one.
        roots, intermediates, crls = tuple(self.roots), tuple(self.intermediates), tuple(self.crls)
        contents = (*roots, None, *intermediates, None, *crls)
        cache = self._cache
        if not cache.holds(contents):
            cache = self._cache = _PathCache(contents)
        key: tuple[object, ...] | None = None
        if explicit_path is None and pkix_params is None:
            key = (cert.dump(), tuple(c.dump() for c in extra), revocation, algorithms)
            hit = cache.get(key, at)
            if hit is not None:
                self.path_cache_hits += 1
                return hit
        self.path_validations += 1
        path = self._validate(
            cert,
            roots,
            (*intermediates, *extra),
            crls,
            at=at,
            algorithms=algorithms,
            revocation=revocation,
            explicit_path=explicit_path,
            pkix_params=pkix_params,
        )
        # Kept only in the cache made for the content this validation began with: a store changed
        # meanwhile (another thread) has a new cache, and this answer does not go into it.
        window = _window(path, revocation, (*intermediates, *extra), crls, at) if key is not None else None
        if key is not None and window is not None:
            cache.put(key, _CachedPath(path, *window))
        return path

    def _validate(
        self,
        cert: x509.Certificate,
        roots: Sequence[x509.Certificate],
        others: Sequence[x509.Certificate],
        crls: Sequence[crl.CertificateList],
        *,
        at: datetime,
        algorithms: AlgorithmPolicy,
        revocation: Revocation,
        explicit_path: Sequence[x509.Certificate] | None,
        pkix_params: PKIXValidationParams | None,
    ) -> ValidationPath:
        """Validate through the roots valid at ``at`` first. Path building stops at the first path it
        accepts and RFC 5280 does not judge the anchor's validity, so with a CSCA certificate renewed
        on the same key beside its expired copy the answer would hang on the order of the roots.
        Only when no current root leads anywhere are all tried, to name why (an expired CSCA)."""
        build = functools.partial(
            _build_path, cert, others=others, crls=crls, at=at, algorithms=algorithms,
            revocation=revocation, explicit_path=explicit_path, pkix_params=pkix_params,
        )
        if explicit_path is not None:
            return build(roots)
        current = [r for r in roots if _valid_at(r, at)]
        if len(current) == len(roots):
            return build(roots)
        try:
            return build(current)
        except CertificateInvalid as exc:
            if exc.reason != "ds.not_trusted":
                raise
        return build(roots)


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= at <= validity["not_after"].native)


def _window(
    path: ValidationPath,
    revocation: Revocation,
    others: Sequence[x509.Certificate],
    crls: Sequence[crl.CertificateList],
    at: datetime,
) -> tuple[datetime, datetime] | None:
    """The times around ``at`` over which the same validation must succeed again, or None to not
    cache it.

    What validation reads from the time is the validity of every certificate on the path (the
    anchor's too, ``_check_anchor_validity``). With revocation on, pyhanko may consult any CRL
    of the store and validate a CRL's issuer through any certificate offered to it (a link
    certificate after a CSCA key rollover, a CRL signer), so the window is also where every
    CRL is current and every such certificate valid; and it is not cached at all when a CRL
    lists one of those certificates' serial numbers (under any issuer, at any date: RFC 5280
    §6.3.3 judges a revocation by its date, which may lie after the first answer), has no
    nextUpdate (pyhanko then applies its own freshness period), or is indirect (RFC 5280 §5.2.5,
    §5.3.3), since its scope is then wider than the issuer it names."""
    certs = list(path.iter_certs(include_root=True))
    if revocation != "off":
        checked = [*path.iter_certs(include_root=False), *others]
        serials = {c.serial_number for c in checked}
        certs += checked
    lo = max(c["tbs_certificate"]["validity"]["not_before"].native for c in certs)
    hi = min(c["tbs_certificate"]["validity"]["not_after"].native for c in certs)
    if revocation != "off":
        for item in crls:
            tbs = item["tbs_cert_list"]
            next_update = tbs["next_update"].native
            if next_update is None or _indirect(item):
                return None
            lo = max(lo, tbs["this_update"].native)
            hi = min(hi, next_update)
            if any(entry["user_certificate"].native in serials for entry in tbs["revoked_certificates"] or []):
                return None
    # The window must hold the time the answer was found for: a CRL that is not current yet
    # at ``at`` did not take part, and must not be taken as cleared when it becomes current.
    return (lo, hi) if lo <= at <= hi else None

def _build_path(
    cert: x509.Certificate,
    roots: Sequence[x509.Certificate],
    *,
    others: Sequence[x509.Certificate],
    crls: Sequence[crl.CertificateList],
    at: datetime,
    algorithms: AlgorithmPolicy,
    revocation: Revocation,
    explicit_path: Sequence[x509.Certificate] | None,
    pkix_params: PKIXValidationParams | None,
) -> ValidationPath:
    """One pyhanko validation of ``cert`` against ``roots``, then the anchor's own validity."""
    if revocation == "off":
        ctx = ValidationContext(
            trust_roots=list(roots),
            other_certs=list(others),
            moment=at,
            allow_fetching=False,
            revinfo_policy=CertRevTrustPolicy(NO_REVOCATION),
            algorithm_usage_policy=PolicyBridge(algorithms),
            signature_validator=AdapterSignatureValidator(),
        )
    else:
        ctx = ValidationContext(
            trust_roots=list(roots),
            other_certs=list(others),
            moment=at,
            allow_fetching=False,
            crls=[c for c in crls if crl_usable(c)],  # the rest: crl.unusable
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
            validator = CertificateValidator(cert, list(others), validation_context=ctx, pkix_params=pkix_params)
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
