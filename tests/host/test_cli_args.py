"""Bad numbers on the command line are one usage line and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from partycard.cli import main
from partycard.cli._argtypes import heap_size, seconds

BAD = [
    (["read", "--port", "p", "--wait", "nan"], "--wait: seconds must be from 0 to 86400"),
    (["read", "--port", "p", "--wait", "inf"], "--wait: seconds must be from 0 to 86400"),
    (["read", "--port", "p", "--wait", "1e300"], "--wait: seconds must be from 0 to 86400"),
    (["read", "--port", "p", "--wait", "soon"], "--wait: not a number of seconds"),
    (["backend", "serve", "--port", "99999"], "--port: a TCP port is 1 to 65535"),
    (["backend", "serve", "--port", "-1"], "--port: a TCP port is 1 to 65535"),
    (["sim", "--heap", "abc"], "--heap: a heap size is a number of bytes"),
    (["sim", "--heap", "1k"], "--heap: the heap must be from 64k to 1024m"),
    (["sim", "--heap", "16wk"], "--heap: the heap must be from 64k to 1024m"),
    (["watch", "--port", "p", "--trust", "t", "--taps", "0"], "--taps: needs a whole number of at least 1"),
    (["bench", "--round-trip-ms", "-1"], "--round-trip-ms: milliseconds must be from 0 to 60000"),
    (["bench", "--host-baud", "fast"], "--host-baud: needs a whole number of at least 1"),
    (["outbox", "drain", "--deadline", "nan"], "--deadline: seconds must be from 0 to 86400"),
    # FOUND: accepted, and then every tap failed to record (the record schema's id pattern).
    (["watch", "--port", "p", "--trust", "t", "--site", "Office 12"], "--site: a site id is 1 to 64 printable"),
    (["sim", "--serial", "K 7"], "--serial: a reader serial is 1 to 32 printable"),
    (["deploy", "--port", "p", "--serial", "a;rm -rf /"], "--serial: a reader serial is 1 to 32 printable"),
    (["deploy", "--port", "p", "--serial", "Ünï"], "--serial: a reader serial is 1 to 32 printable"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_numbers_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_good_values_pass_through() -> None:
    assert seconds("0") == 0.0 and seconds("2.5") == 2.5
    assert heap_size("128k") == "128k" and heap_size("1m") == "1m" and heap_size("65536") == "65536"
    assert heap_size("64wk") == "64wk" and heap_size("32wk") == "32wk"  # 32 KiB of 32-bit words = 64 KiB here
