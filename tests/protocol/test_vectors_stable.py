"""Re-running gen_vectors.py yields the committed vector files byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from protocol.tools.vectorlib import encode
from protocol.tools.wire import encode_frame

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "protocol" / "vectors"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vectors")
    subprocess.run(
        [sys.executable, str(ROOT / "protocol" / "tools" / "gen_vectors.py"), "--out-dir", str(out)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return out


def _jsonl_files(base: Path) -> set[Path]:
    return {p.relative_to(base) for p in base.rglob("*.jsonl")}


def test_same_set_of_files(fresh: Path) -> None:
    assert _jsonl_files(fresh) == _jsonl_files(VECTORS)


def _differs(a: Path, b: Path) -> bool:
    return a.read_bytes() != b.read_bytes()


def test_files_identical(fresh: Path) -> None:
    different = [
        str(rel)
        for rel in sorted(_jsonl_files(fresh))
        if (fresh / rel).read_bytes() != (VECTORS / rel).read_bytes()
    ]
    assert different == [], "run protocol/tools/gen_vectors.py and commit the result"


def test_readme_transcript_matches_encoding() -> None:
    # The hand-readable hello exchange in vectors/README.md must show the real frames.
    from protocol.tools.cases_messages import all_cases

    items = {cid: item for cid, item, _ in all_cases()}
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    compact = "".join(readme.split())
    for cid in ("hello-request", "hello-response-no-frontend"):
        payload = encode(items[cid])
        assert payload.hex() in compact, f"{cid} payload missing from README"
        assert encode_frame(payload).hex() in compact, f"{cid} frame missing from README"
