"""``partycard config`` against the simulated reader: show, store (checked by the firmware), restart."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from partycard.cli import main
from partycard.cli.config import parse_assignments
from partycard.errors import ConfigError
from partycard.link.client import open_reader
from partycard.sim.runner import SimulatedReader

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["config", *argv])
    return code, out.getvalue(), err.getvalue()


def test_values_are_json_when_they_parse_and_text_otherwise() -> None:
    assert parse_assignments(["pn532_baud=1288000", "serial=K-7", "serial2=null", "x={\"a\": [1]}"]) == {
        "pn532_baud": 1288000, "serial": "K-7", "serial2": None, "x": {"a": [1]},
    }
    assert parse_assignments(["serial=12345", "board=null"]) == {"serial": "12345", "board": None}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignments(["pn532_baud"])


def test_config_shows_stores_refuses_and_restarts() -> None:
    with SimulatedReader(auto_restart=True) as sim:
        assert _run("--port", sim.port)[:2] == (0, "{}\n")
        code, out, _ = _run("--port", sim.port, "--set", "pn532_baud=1288000", "--set", "serial=KIOSK-9")
        assert code == 0 and json.loads(out) == {"pn532_baud": 1288000, "serial": "KIOSK-9"}
        code, _, err = _run("--port", sim.port, "--set", "pn532_baud=12")  # not a rate the PN532 has
        assert code == 2 and "E_BAD_ARGUMENT" in err
        assert json.loads(_run("--port", sim.port)[1]) == {"pn532_baud": 1288000, "serial": "KIOSK-9"}
        code, out, _ = _run("--port", sim.port, "--reboot")
        assert code == 0 and out.endswith("reader restarting\n")
        with open_reader(sim.port, timeout_s=15.0) as reader:
            assert reader.hello().serial == "KIOSK-9"  # the stored serial, after the restart


def test_the_largest_config_fits_the_message_limits() -> None:
    """Every UI pattern at its longest (8 steps) is the largest message of SPEC.md §4: it must stay
    within MAX_ENTRIES both ways, as config.set and in config.get's answer."""
    step = [1, 1, 4000, 1000]
    patterns = {name: [step] * 8 for name in ("ok", "fail", "busy", "off", "error")}
    with SimulatedReader() as sim:
        code, out, err = _run("--port", sim.port, "--set", "serial=KIOSK-9", "--set", "pn532_baud=1288000",
                              "--set", "patterns=" + json.dumps(patterns))
        assert code == 0, err
        assert json.loads(out)["patterns"] == patterns
        assert json.loads(_run("--port", sim.port)[1])["patterns"] == patterns
