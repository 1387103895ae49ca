"""Verify layer: the Verdict and its overall status; must not perform checks.

Must not perform checks; it records them. Shape pinned for the forwarding record and the terminal
panel: ``to_json()`` = {"verdict", "policy_version", "issuer", "checks": [{name, status, reason}]}.
``detail`` is human text for the operator and never carries personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from partycard.verify.policy import Policy

CheckStatus = Literal["passed", "failed", "not_performed"]
VerdictStatus = Literal["valid", "invalid", "incomplete"]


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    reason: str | None = None  # stable reason code (docs/reason-codes.md); None only when passed
    detail: str | None = None

    @classmethod
    def passed(cls, name: str, detail: str | None = None) -> Check:
        return cls(name, "passed", None, detail)

    @classmethod
    def failed(cls, name: str, reason: str, detail: str | None = None) -> Check:
        return cls(name, "failed", reason, detail)

    @classmethod
    def skipped(cls, name: str, reason: str, detail: str | None = None) -> Check:
        return cls(name, "not_performed", reason, detail)


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    checks: tuple[Check, ...]
    policy_version: str
    issuer: str | None
    card_number: str | None

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Reason codes of failed checks, in check order."""
        return tuple(c.reason for c in self.checks if c.status == "failed" and c.reason)

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.status,
            "policy_version": self.policy_version,
            "issuer": self.issuer,
            "checks": [{"name": c.name, "status": c.status, "reason": c.reason} for c in self.checks],
        }


def decide(checks: Iterable[Check], policy: Policy) -> VerdictStatus:
    """``invalid`` if any check failed; ``valid`` if every requirement of the policy has a passed
    check; otherwise ``incomplete``."""
    items = list(checks)
    if any(c.status == "failed" for c in items):
        return "invalid"
    passed = {c.name for c in items if c.status == "passed"}
    if all(any(name in passed for name in group) for group in policy.required):
        return "valid"
    return "incomplete"
