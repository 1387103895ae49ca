"""The committed constant modules are exactly what gen_codes.py makes from codes.toml (no drift)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ["host/partycard/link/codes.py", "firmware/lib/reader/link/codes.py"]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codes")
    subprocess.run(
        [sys.executable, str(ROOT / "protocol" / "tools" / "gen_codes.py"), "--out-dir", str(out)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("rel", GENERATED)
def test_generated_module_matches_committed(fresh: Path, rel: str) -> None:
    committed = (ROOT / rel).read_text(encoding="utf-8")
    regenerated = (fresh / rel).read_text(encoding="utf-8")
    assert committed == regenerated, f"{rel} drifted from codes.toml: run protocol/tools/gen_codes.py"


def test_generated_modules_carry_every_error_code(fresh: Path) -> None:
    import tomllib

    codes = tomllib.loads((ROOT / "protocol" / "codes.toml").read_text(encoding="utf-8"))
    host = (fresh / GENERATED[0]).read_text(encoding="utf-8")
    firmware = (fresh / GENERATED[1]).read_text(encoding="utf-8")
    for name, value in codes["error"].items():
        assert f"    {name} = 0x{value:02X}" in host
        assert f"{name} = const(0x{value:02X})" in firmware
