"""Card layer, DG2 face image (ICAO 9303-10 §4.7.2): ISO/IEC 19794-5:2005 and ISO/IEC 39794-5
containers inside the biometric information template. Returns the image bytes untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from partycard.card import tlv
from partycard.errors import ParseError

JPEG_MAGIC = b"\xff\xd8\xff"
JP2_MAGIC = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_CODESTREAM = b"\xff\x4f\xff\x51"


@dataclass(frozen=True, repr=False)
class FaceImage:
    image: bytes
    mime: str  #: "image/jpeg" or "image/jp2"
    container: str  #: "ISO19794-5" or "ISO39794-5"
    width: int | None
    height: int | None
    faces: int

    def __repr__(self) -> str:
        return f"FaceImage({self.mime}, {len(self.image)} bytes, {self.width}x{self.height})"


def _mime(image: bytes) -> str:
    if image.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if image.startswith(JP2_MAGIC) or image.startswith(J2K_CODESTREAM):
        return "image/jp2"
    raise ParseError("face image is neither JPEG nor JPEG 2000")


def parse_dg2(data: bytes) -> FaceImage:
    outer = tlv.parse_single(data, 0x75)
    group = outer.child(0x7F61)
    count_tlv = group.find(0x02)
    count = count_tlv.value[0] if count_tlv is not None and count_tlv.value else 1
    for bit in group.children():
        if bit.tag != 0x7F60:
            continue
        block = bit.find(0x5F2E)
        if block is not None:
            return _iso19794(block.value, count)
        block = bit.find(0x7F2E)
        if block is not None:
            return _iso39794(block.value, count)
        raise ParseError("biometric information template without 5F2E or 7F2E data block")
    raise ParseError("DG2 holds no biometric information template (7F60)")


def _u(b: bytes, off: int, n: int) -> int:
    if off + n > len(b):
        raise ParseError("ISO 19794-5 record truncated")
    return int.from_bytes(b[off : off + n], "big")


def _iso19794(rec: bytes, count: int) -> FaceImage:
    """ISO/IEC 19794-5:2005 §5.4-5.7: 14-byte header, 20-byte facial info, landmarks, image info."""
    if not rec.startswith(b"FAC\x00"):
        raise ParseError("5F2E block does not start with the 'FAC' format identifier")
    length = _u(rec, 8, 4)
    if length != len(rec):
        raise ParseError(f"ISO 19794-5 record length {length} but {len(rec)} bytes present")
    faces = _u(rec, 12, 2)
    pos = 14
    block_len = _u(rec, pos, 4)
    landmarks = _u(rec, pos + 4, 2)
    img_info = pos + 20 + 8 * landmarks
    width, height = _u(rec, img_info + 2, 2), _u(rec, img_info + 4, 2)
    start = img_info + 12
    end = pos + block_len
    if end > len(rec) or start > end:
        raise ParseError("ISO 19794-5 facial record block exceeds the record")
    image = rec[start:end]
    return FaceImage(image, _mime(image), "ISO19794-5", width, height, faces or count)


def _find_image(item: tlv.TLV, depth: int) -> bytes | None:
    if not item.constructed:
        v = item.value
        if v.startswith((JPEG_MAGIC, JP2_MAGIC, J2K_CODESTREAM)):
            return v
        return None
    for c in item.children(depth=depth):
        found = _find_image(c, depth + 1)
        if found is not None:
            return found
    return None


def _iso39794(block: bytes, count: int) -> FaceImage:
    """ISO/IEC 39794-5 tagged encoding: the image data is the first JPEG/JP2 primitive found."""
    for item in tlv.parse_all(block):
        found = _find_image(item, 1)
        if found is not None:
            return FaceImage(found, _mime(found), "ISO39794-5", None, None, count)
    raise ParseError("ISO 39794-5 block holds no JPEG or JPEG 2000 image")
