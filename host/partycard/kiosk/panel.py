"""Kiosk terminal panel: renders one tap's outcome as text. Pure: no I/O, no logging.

The panel is what the member and the office clerk see on the kiosk screen, so it does show the
member's name and card number; it is never written to a log (logs carry only the record id).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

WIDTH = 72
_MARK = {"passed": "✔", "failed": "✘", "not_performed": "–"}
_HEADLINE = {
    "valid": "VALID — genuine and current card",
    "invalid": "INVALID — do not accept this card",
    "incomplete": "INCOMPLETE — the card could not be fully verified",
}


#: What each check means, in the words an office clerk reads (check names: verify.verdict).
CHECK_LABELS = {
    "sod.signature": "Card data signed by the issuer",
    "dg.hashes": "Card data unchanged since signing",
    "ds.path": "Issuer certified by the trusted authority",
    "ds.revocation": "Issuer certificate not revoked",
    "chip.aa": "Chip is the original (Active Authentication)",
    "chip.ca": "Chip is the original (Chip Authentication)",
    "card.status": "Card not reported withdrawn, lost or replaced",
}


def shown(text: str) -> str:
    """``text`` with every character a terminal would act on (ESC, CR, other controls) replaced:
    an issuer name in a forged card's signer certificate must not be able to redraw the panel."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def _line(text: str = "") -> str:
    return "│ " + shown(text)[: WIDTH - 4].ljust(WIDTH - 4) + " │"


def _lines(text: str, indent: str = "") -> list[str]:
    return [_line(part) for part in textwrap.wrap(shown(text), WIDTH - 4, subsequent_indent=indent) or [""]]


def render_verdict(
    verdict: Mapping[str, Any],
    member: Sequence[tuple[str, str]] = (),
    *,
    access: str | None = None,
    recorded: str | None = None,
    problem: str | None = None,
) -> str:
    """A boxed panel: headline, member fields, every check with its outcome and reason.

    ``verdict`` is the pinned verdict JSON (``verdict``, ``policy_version``, ``issuer``, ``checks``);
    ``member`` is (label, value) pairs to show; ``recorded`` the outbox record id once committed;
    ``problem`` what went wrong after the verdict (it could not be recorded).
    """
    status = str(verdict.get("verdict"))
    out = ["┌" + "─" * (WIDTH - 2) + "┐", _line(_HEADLINE.get(status, status.upper())), _line()]
    if member and status != "valid":
        # What the chip says is shown so the clerk can compare it with the person, but it is not
        # vouched for: on a forged or tampered card it is exactly what the forger wrote.
        out.append(_line("As written on the chip (NOT verified):"))
    for label, value in member:
        out.append(_line(f"{label:<16} {value}"))
    if verdict.get("issuer"):
        out.append(_line(f"{'Issued by':<16} {verdict['issuer']}"))
    if access:
        out.append(_line(f"{'Access control':<16} {access}"))
    out.append(_line())
    for check in verdict.get("checks", []):
        mark = _MARK.get(str(check.get("status")), "?")
        name = str(check.get("name"))
        reason = f" [{check['reason']}]" if check.get("reason") else ""
        out += _lines(f"{mark} {CHECK_LABELS.get(name, name)}{reason}", "    ")
    out.append(_line())
    if problem:
        out += _lines(problem)
    out.append(_line(f"policy {verdict.get('policy_version')}"
                     + (f" · recorded {recorded}" if recorded else " · NOT recorded")))
    out.append("└" + "─" * (WIDTH - 2) + "┘")
    return "\n".join(out)


def render_message(title: str, text: str) -> str:
    """A boxed panel for a tap that produced no verdict (card removed, reader error)."""
    rule = "─" * (WIDTH - 2)
    return "\n".join(["┌" + rule + "┐", _line(title), *_lines(text), "└" + rule + "┘"])
