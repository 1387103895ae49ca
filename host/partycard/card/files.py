"""Card layer, reading elementary files: SELECT, READ BINARY in batched chunks, adaptive size.

It must not parse file contents beyond the outer TLV header (the length) and never hands on a
truncated file: short or inconsistent reads raise ``CardError``/``ParseError``.
"""

from __future__ import annotations

from collections.abc import Callable

from partycard.card import tlv
from partycard.card.apdu import CommandAPDU
from partycard.card.profile import FILES, ReadPolicy
from partycard.card.session import CardSession
from partycard.card.sm import Unwrapped
from partycard.card.sw import describe
from partycard.errors import APDUError, CardError, ParseError

MAX_OFFSET = 0x7FFF  # READ BINARY with even INS addresses 15 bits (ISO/IEC 7816-4 §11.3.3)
#: A file may take _MIN_COMMANDS READ BINARY plus one per _MIN_BYTES_PER_COMMAND of its size: half
#: the smallest chunk (CHUNK_SIZES) leaves room for refusals and short reads a real card makes.
_MIN_COMMANDS = 64
_MIN_BYTES_PER_COMMAND = 16
MAX_FILE = 0xFFFFFF  # beyond that, odd-INS offsets (DO'54', 3 bytes here) would not reach
ODD_OVERHEAD = 4  # DO'53' header (53 81 xx) around the data of an odd-INS READ BINARY
HEADER_PROBE = 8  # enough for any tag (≤2 bytes here) and a 4-byte long-form length
HEADER_MIN = 4  # LDS top-level tags are one byte and lengths at most 82 xx xx

ProgressFn = Callable[[str, int, int], None]


class FileNotOnCard(APDUError):
    """SELECT answered 6A82: the card has no such file."""


class SelectRefused(APDUError):
    """SELECT by file id answered something other than success, 6A82 or 6982 (e.g. 6D00)."""


class FileAccessDenied(APDUError):
    """SELECT or READ BINARY answered 6982: the file needs more than the current access rights."""


def _raise_for(r: Unwrapped, what: str) -> None:
    if r.sw == 0x6A82:
        raise FileNotOnCard(r.sw, f"{what}: file not found")
    if r.sw == 0x6982:
        raise FileAccessDenied(r.sw, f"{what}: security status not satisfied")
    raise APDUError(r.sw, f"{what}: {describe(r.sw)}")


def _payload(cmd: CommandAPDU, data: bytes, name: str) -> bytes:
    if cmd.ins != 0xB1:
        return data
    try:
        return tlv.parse_single(data, 0x53).value
    except ParseError as e:
        raise ParseError(f"{name}: odd-INS READ BINARY answer is not DO'53': {e}") from e


class FileReader:
    def __init__(self, session: CardSession, policy: ReadPolicy | None = None) -> None:
        self.session = session
        self.policy = policy or ReadPolicy()
        self._sizes = list(self.policy.chunk_sizes)
        self._chunk_index = 0
        self._one_shot: int | None = None
        #: Counters for the caller's statistics.
        self.batches = 0
        self.commands = 0

    @property
    def chunk(self) -> int:
        return self._sizes[self._chunk_index]

    @staticmethod
    def _select_cmd(name: str) -> CommandAPDU:
        # P2=0C: no FCI, and no Le (German/VN cards refuse Le on SELECT, AndyQ#153).
        return CommandAPDU(0x00, 0xA4, 0x02, 0x0C, FILES[name][0].to_bytes(2, "big"))

    @staticmethod
    def _check_select(name: str, r: Unwrapped) -> None:
        if r.sw in (0x6A82, 0x6982):
            _raise_for(r, f"SELECT {name}")
        if r.sw != 0x9000:
            raise SelectRefused(r.sw, f"SELECT {name}: {describe(r.sw)}")

    def select(self, name: str) -> None:
        self.commands += 1
        self._check_select(name, self.session.send(self._select_cmd(name)))

    def _shrink(self, hint: int | None) -> bool:
        """Step down the chunk size; False when already at the floor.

        A 6Cxx hint (ISO/IEC 7816-4 §5.6: "exact length xx") becomes the chunk size itself; a
        hint below every size (a file shorter than that) is used for the next read only.
        """
        if hint is not None and 0 < hint < self.chunk:
            if hint >= self._sizes[-1]:
                self._sizes = sorted({*self._sizes, hint}, reverse=True)
                self._chunk_index = self._sizes.index(hint)
            else:
                self._one_shot = hint
            return True
        if self._chunk_index + 1 < len(self._sizes):
            self._chunk_index += 1
            return True
        return False

    def _refused_size(self, r: Unwrapped, total_known: bool) -> int | None:
        """None when ``r`` is not a size refusal; else the card's hint (0 = none)."""
        if r.sw == 0x6700:
            return 0
        if r.sw == 0x6B00 and not total_known:
            # The first read ran past the end of a short file and the card answers 6B00 without
            # data (ISO/IEC 7816-4 §11.3.3): learn the length from a minimal header read.
            return HEADER_MIN
        if r.sw >> 8 == 0x6C:
            return (r.sw & 0xFF) or 256
        return None

    def read(self, name: str, progress: ProgressFn | None = None) -> bytes:
        """SELECT the EF and read it whole; the size comes from its TLV header."""
        select: CommandAPDU | None = self._select_cmd(name)  # sent in the first batch
        buf = bytearray()
        total: int | None = None
        retries = sent = 0
        while total is None or len(buf) < total:
            offset = len(buf)
            if total is not None and total > min(MAX_FILE, self.policy.max_file_bytes):
                raise CardError(f"{name} declares {total} bytes, more than this reader reads "
                                f"(ReadPolicy.max_file_bytes {self.policy.max_file_bytes})")
            cmds = self._plan(offset, total)
            sent += len(cmds)
            if sent > _MIN_COMMANDS + (total or 0) // _MIN_BYTES_PER_COMMAND:
                # A chip that answers a byte at a time would hold the reader as long as it likes.
                raise CardError(f"{name}: {sent} READ BINARY for {len(buf)} bytes; the card returns too little")
            self.batches += 1
            self.commands += len(cmds) + (select is not None)
            results = self.session.send_batch(([select] if select else []) + [c for c, _ in cmds])
            if select is not None:
                self._check_select(name, results[0])
                results, select = results[1:], None
            for (cmd, want), r in zip(cmds, results, strict=False):
                if r.sw in (0x9000, 0x6282) and r.data:
                    got = _payload(cmd, r.data, name)
                    buf += got[:want]
                    if len(got) != want and (total is None or len(buf) < total):
                        if total is not None and 0 < len(got) < want:
                            # Short inside a file of known size: the card's own limit; plan with it.
                            self._shrink(len(got))
                        break  # short read: re-plan the rest from the new offset
                    continue
                hint = self._refused_size(r, total is not None)
                retries += 1
                limit = self.policy.max_retries_per_file
                if hint is None or retries > limit or not self._shrink(hint or None):
                    _raise_for(r, f"READ BINARY {name} at offset {len(buf)}")
                break
            if total is None and buf:
                total = self._total(name, bytes(buf))
            if progress is not None and total is not None:
                progress(name, min(len(buf), total), total)
        # Bytes past the TLV (an EF allocated larger than its content, padded with 00/FF) are not
        # part of the data group (ICAO 9303-10 §4.7: the hashed object is the TLV itself).
        return bytes(buf[:total])

    def _plan(self, offset: int, total: int | None) -> list[tuple[CommandAPDU, int]]:
        """(READ BINARY, bytes wanted) for the next batch; one only while the length is unknown.

        Offsets above 0x7FFF use the odd INS B1 with the offset in DO'54' and the data returned in
        DO'53' (ISO/IEC 7816-4 §11.3.3; ICAO 9303-10 §4.6 large DG2/DG3).
        """
        remaining = (total - offset) if total is not None else self.chunk
        cmds: list[tuple[CommandAPDU, int]] = []
        pos = offset
        while remaining > 0 and len(cmds) < self.policy.max_batch:
            n = min(self._one_shot or self.chunk, remaining)
            self._one_shot = None
            if pos <= MAX_OFFSET:
                cmds.append((CommandAPDU(0x00, 0xB0, pos >> 8, pos & 0xFF, le=n), n))
            else:
                n = min(n, self.chunk - ODD_OVERHEAD)
                do54 = tlv.encode(0x54, pos.to_bytes(3 if pos > 0xFFFF else 2, "big"))
                le = n + (2 if n < 0x80 else 3)
                cmds.append((CommandAPDU(0x00, 0xB1, 0x00, 0x00, do54, le=le), n))
            pos += n
            remaining -= n
            if total is None:
                break  # the first read learns the length from the TLV header
        return cmds

    def _total(self, name: str, head: bytes) -> int:
        try:
            _, length, pos = tlv.read_header(head[:HEADER_PROBE], 0)
        except ParseError as e:
            raise ParseError(f"{name}: first bytes are not a TLV header: {e}") from e
        return pos + length
