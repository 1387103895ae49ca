"""Protocol tools, command line: check protocol/vectors/ against reader.cddl and SPEC.md; read-only.

Usage: python protocol/tools/check_vectors.py [--vectors DIR]

Prints one line per problem and exits 1 if there is any. Each check_* function returns the problems
of one file, so tests can run them one by one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cbor2
import pycddl  # type: ignore[import-untyped]

# Run as a script, this file sees only its own folder; the tools import each other as protocol.tools.*.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol.tools import strict_cbor
from protocol.tools.triage import ReaderVerdict, triage
from protocol.tools.vectorlib import Json, diag, encode, example, from_json, match
from protocol.tools.wire import CODES, MAX_RUN, FrameDrop, encode_frame, receive

PROTOCOL = Path(__file__).resolve().parents[1]
VECTORS = PROTOCOL / "vectors"
CDDL = PROTOCOL / "reader.cddl"
MAX_KEY_LEN: int = CODES["limit"]["MAX_KEY_LEN"]
OPS = [v for k, v in CODES["op"].items() if not k.startswith("EV_")]
EVENTS = [v for k, v in CODES["op"].items() if k.startswith("EV_")]
TYPE_CODES = {"request": 0, "response": 1, "event": 2, "error": 3}


class Schema:
    """reader.cddl; validate() returns the validator's complaint about a payload, or None.

    A payload is checked against `message` and against the one rule its type and op select (see the
    header of reader.cddl for why both).
    """

    def __init__(self, path: Path = CDDL) -> None:
        self._text = path.read_text(encoding="utf-8")
        self._compiled: dict[str, Any] = {}

    def _rule(self, root: str) -> Any:
        if root not in self._compiled:
            # pycddl validates against the first rule of the text.
            self._compiled[root] = pycddl.Schema(f"partycard-root = {root}\n{self._text}")
        return self._compiled[root]

    @staticmethod
    def rule_for(item: object) -> str | None:
        """The rule of reader.cddl for this item's type and op, or None when no rule fits."""
        if not isinstance(item, dict):
            return None
        kind, op = item.get(1), item.get(3)
        if kind == 3:
            return {
                (False, False): "error-bare",
                (True, False): "error-with-id",
                (False, True): "error-with-op",
                (True, True): "error-with-id-op",
            }[(2 in item, 3 in item)]
        names = {0: (OPS, "req"), 1: (OPS, "resp"), 2: (EVENTS, "ev")}
        if kind not in names or not isinstance(op, str) or op not in names[kind][0]:
            return None
        return f"{op.replace('.', '-')}-{names[kind][1]}"

    def validate(self, payload: bytes, *, request: bool = False) -> str | None:
        """None when payload fits reader.cddl (as a request, the only type a reader accepts)."""
        try:
            item = cbor2.loads(payload)
        except (cbor2.CBORDecodeError, ValueError) as exc:
            return f"not CBOR: {exc}"
        rule = self.rule_for(item)
        if request and rule is not None and not rule.endswith("-req"):
            return f"{rule} is not a request"
        if rule is None:
            return "no rule of reader.cddl for this type and op"
        for root in ("message", rule):
            try:
                self._rule(root).validate_cbor(payload)
            except pycddl.ValidationError as exc:
                return f"{root}: " + (str(exc).splitlines() or ["invalid"])[0]
        return None


def load_jsonl(path: Path) -> list[dict[str, Json]]:
    """Parse one JSON Lines file; every line must be an object."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not all(isinstance(r, dict) for r in records):
        raise ValueError(f"{path.name}: every line must be a JSON object")
    return records


def _common(name: str, records: list[dict[str, Json]], fields: set[str]) -> list[str]:
    problems: list[str] = []
    ids = [r.get("id") for r in records]
    problems += [f"{name}: duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1}, key=str)]
    for r in records:
        if not fields <= set(r):
            problems.append(f"{name}/{r.get('id')}: missing {sorted(fields - set(r))}")
        if not isinstance(r.get("note"), str) or not r["note"]:
            problems.append(f"{name}/{r.get('id')}: empty note")
        if (
            not isinstance(r.get("id"), str)
            or not r["id"].replace("-", "").isalnum()
            or r["id"] != r["id"].lower()
        ):
            problems.append(f"{name}/{r.get('id')}: id is not kebab-case")
    return problems


def check_framing(records: list[dict[str, Json]]) -> list[str]:
    """Each frame is the encoding of its payload, decodes back to it, and is not over-long."""
    problems = _common("framing", records, {"id", "payload_hex", "frame_hex", "note"})
    for r in records:
        payload, frame = bytes.fromhex(r["payload_hex"]), bytes.fromhex(r["frame_hex"])
        if encode_frame(payload) != frame:
            problems.append(f"framing/{r['id']}: frame_hex is not the encoding of payload_hex")
        if frame.count(0) != 1 or frame[-1] != 0 or len(frame) - 1 > MAX_RUN:
            problems.append(f"framing/{r['id']}: not one run of at most {MAX_RUN} bytes and a delimiter")
        if receive(frame) != [payload] or receive(b"\x00" + frame + frame) != [payload, payload]:
            problems.append(f"framing/{r['id']}: does not decode to payload_hex")
    return problems


def _key_lengths(item: object, path: str = "$") -> list[str]:
    problems: list[str] = []
    if isinstance(item, dict):
        for key, value in item.items():
            if isinstance(key, str) and len(key.encode("utf-8")) > MAX_KEY_LEN:
                problems.append(f"{path}: key {key[:30]!r} longer than MAX_KEY_LEN")
            problems += _key_lengths(value, f"{path}[{key!r}]")
    elif isinstance(item, list):
        for i, value in enumerate(item):
            problems += _key_lengths(value, f"{path}[{i}]")
    return problems


def _message_problems(r: dict[str, Json], schema: Schema) -> list[str]:
    where = f"messages/{r['id']}"
    item = from_json(r["value"])
    data = bytes.fromhex(r["cbor_hex"])
    problems = [f"{where}: {p}" for p in _key_lengths(item)]
    if encode(item) != data:
        problems.append(f"{where}: cbor_hex is not the deterministic encoding of value")
    if cbor2.loads(data) != item:
        problems.append(f"{where}: cbor2 decodes cbor_hex to something else than value")
    if diag(item) != r["diag"]:
        problems.append(f"{where}: diag does not match value")
    try:
        strict_cbor.check(data)
    except strict_cbor.CborReject as exc:
        problems.append(f"{where}: strict CBOR check fails: {exc}")
    complaint = schema.validate(data)
    if complaint is not None:
        problems.append(f"{where}: fails reader.cddl: {complaint}")
    want_dir = "host>reader" if r["type"] == "request" else "reader>host"
    if not isinstance(item, dict) or item.get(1) != TYPE_CODES.get(r["type"]) or item.get(3) != r["op"]:
        problems.append(f"{where}: type or op disagree with value")
    if r["direction"] != want_dir:
        problems.append(f"{where}: direction should be {want_dir}")
    return problems


def _coverage(records: list[dict[str, Json]]) -> list[str]:
    seen = {(r["type"], r["op"]) for r in records}
    problems = [
        f"messages: no {kind} for {op}"
        for op in OPS
        for kind in ("request", "response")
        if (kind, op) not in seen
    ]
    problems += [f"messages: no event {op}" for op in EVENTS if ("event", op) not in seen]
    errors = [from_json(r["value"]) for r in records if r["type"] == "error"]
    if not any(2 in e and 3 in e for e in errors) or not any(2 not in e and 3 not in e for e in errors):
        problems.append("messages: need errors both with and without id and op")
    if not any(e[5]["code"] == CODES["error"]["E_VERSION"] and "supported" in e[5] for e in errors):
        problems.append("messages: no E_VERSION error with supported")
    return problems


def check_messages(records: list[dict[str, Json]], schema: Schema) -> list[str]:
    """Each message is deterministic, strict, fits reader.cddl; every op and event is covered."""
    fields = {"id", "direction", "type", "op", "value", "cbor_hex", "diag", "note"}
    problems = _common("messages", records, fields)
    for r in records:
        if fields <= set(r):
            problems += _message_problems(r, schema)
    return problems + _coverage(records)


def _frame_problems(where: str, r: dict[str, Json], data: bytes) -> list[str]:
    results = receive(data)
    dropped = data.endswith(b"\x00") and all(isinstance(x, FrameDrop) for x in results)
    return [] if r["error"] == "drop" and dropped else [f"{where}: a receiver would not drop every run"]


def _invalid_problems(r: dict[str, Json], schema: Schema) -> list[str]:
    where = f"invalid/{r['id']}"
    data = bytes.fromhex(r["bytes_hex"])
    if r["layer"] == "frame":
        return _frame_problems(where, r, data)
    try:
        strict_cbor.check(data)
    except strict_cbor.CborReject as exc:
        if r["layer"] == "cbor" and exc.error == r["error"]:
            return []
        return [f"{where}: strict CBOR check says {exc}, record says {r['layer']} {r['error']}"]
    if r["layer"] == "cbor":
        return [f"{where}: the strict CBOR check accepts it"]
    return _reader_problems(where, r, data, schema)


def _reader_problems(where: str, r: dict[str, Json], data: bytes, schema: Schema) -> list[str]:
    """The reader's §3.2 verdict on well-formed CBOR, and reader.cddl's, agree with the record."""
    verdict: ReaderVerdict = triage(data, lambda payload: schema.validate(payload, request=True))
    expected = (r["error"], r.get("reply_id"), r.get("reply_op"))
    if (verdict.error, verdict.reply_id, verdict.reply_op) != expected:
        return [f"{where}: the §3.2 order gives {verdict}, record says {expected}"]
    cddl_fails = schema.validate(data, request=True) is not None
    if cddl_fails != (r["error"] != "E_BAD_ARGUMENT"):
        verb = "rejects" if cddl_fails else "accepts"
        return [f"{where}: reader.cddl {verb} it, but the error is {r['error']}"]
    return []


def check_invalid(records: list[dict[str, Json]], schema: Schema) -> list[str]:
    """Each record is refused at its layer, with its error, echoing reply_id and reply_op."""
    problems = _common("invalid", records, {"id", "layer", "bytes_hex", "error", "note"})
    for r in records:
        if r.get("layer") in ("envelope", "body") and not {"reply_id", "reply_op"} <= set(r):
            problems.append(f"invalid/{r['id']}: reply_id and reply_op are required at layer {r['layer']}")
            continue
        problems += _invalid_problems(r, schema)
    return problems


def _session_line(where: str, line: dict[str, Json], schema: Schema) -> tuple[list[str], bool]:
    """Problems of one line, and whether it is a request the reader must refuse."""
    if line.get("dir") == "host>reader" and ("value" in line) != ("payload_hex" in line):
        if "payload_hex" in line:
            payload = bytes.fromhex(line["payload_hex"])
        else:
            payload = encode(from_json(line["value"]))
        try:
            strict_cbor.check(payload)
        except strict_cbor.CborReject:
            return [], True
        return [], schema.validate(payload, request=True) is not None
    if line.get("dir") == "reader>host" and "match" in line:
        sample: Any = example(line["match"])
        problems = [f"{where}: {p}" for p in match(line["match"], sample)]
        complaint = schema.validate(encode(sample))
        return problems + (
            [] if complaint is None else [f"{where}: matcher admits no CDDL-valid reply: {complaint}"]
        ), False
    return [f"{where}: needs dir and value or payload_hex (host>reader) or match (reader>host)"], False


def check_session(name: str, lines: list[dict[str, Json]], schema: Schema) -> list[str]:
    """Lines are well-formed; each matcher admits a CDDL-valid reply; a refused request gets an error."""
    problems = [
        f"sessions/{name}:{i + 1}: empty note" for i, line in enumerate(lines) if not line.get("note")
    ]
    refused = False
    for i, line in enumerate(lines):
        where = f"sessions/{name}:{i + 1}"
        previous = lines[i - 1].get("dir") if i else None
        if line.get("dir") == previous or (i == 0 and line.get("dir") != "host>reader"):
            problems.append(f"{where}: requests and replies must alternate, starting with a request")
        line_problems, now_refused = _session_line(where, line, schema)
        problems += line_problems
        if refused and line.get("dir") == "reader>host" and example(line["match"]).get(1) != 3:
            problems.append(f"{where}: the request before it must be refused, but this expects no error")
        refused = now_refused if line.get("dir") == "host>reader" else False
    return problems


def check_all(vectors: Path = VECTORS) -> list[str]:
    """Every check over every file in vectors."""
    schema = Schema()
    problems = check_framing(load_jsonl(vectors / "framing.jsonl"))
    problems += check_messages(load_jsonl(vectors / "messages.jsonl"), schema)
    problems += check_invalid(load_jsonl(vectors / "invalid.jsonl"), schema)
    for path in sorted((vectors / "sessions").glob("*.jsonl")):
        problems += check_session(path.stem, load_jsonl(path), schema)
    return problems


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=Path, default=VECTORS)
    args = parser.parse_args()
    problems = check_all(args.vectors)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
