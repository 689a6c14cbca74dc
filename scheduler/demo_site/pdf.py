"""Small PDFs for the fixture site's uploads, written with the standard library only.

The reports an institute links from its posts are text PDFs in Russian and Kazakh. These
are built the way a PDF producer builds a text layer with a simple (single-byte) font:

- the font is Arial, named with its metrics (/Widths, a /FontDescriptor) and not embedded, as
  office producers do when embedding is switched off (a viewer substitutes a system font;
  the glyph names `uniXXXX` of its /Differences encoding name each Cyrillic and Kazakh
  letter, ә ғ қ ң ө ұ ү һ і included);
- codes 32–126 are ASCII, and 128–255 the non-ASCII letters the document uses, assigned in
  order of first use (a document uses far fewer than 128);
- a /ToUnicode CMap maps every code back to its character: that is what text extraction
  reads, as it does in a PDF from a word processor;
- pages of 11-point lines, wrapped at a fixed width, content streams deflated (zlib).

`encrypted=` applies the standard security handler (revision 2, RC4 40-bit) with a user
password, as a report "protected" by its author is; `truncated_pdf` is a damaged download.
"""
from __future__ import annotations

import hashlib
import textwrap
import zlib

_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")
LINE_CHARS = 86
LINES_PER_PAGE = 52


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


class _Encoding:
    """Single-byte codes for the characters of one document."""

    def __init__(self, text: str) -> None:
        extra = sorted({ch for ch in text if ord(ch) > 126 or ord(ch) < 32} - {"\n"}, key=text.index)
        if len(extra) > 128:
            raise ValueError("a simple-font PDF holds at most 128 non-ASCII characters")
        self.codes = {ch: 128 + n for n, ch in enumerate(extra)}

    def encode(self, line: str) -> bytes:
        out = bytearray()
        for ch in line:
            code = self.codes.get(ch, ord(ch) if 32 <= ord(ch) <= 126 else 63)
            if code in (40, 41, 92):  # ( ) \ are escaped in a PDF string
                out += b"\\"
            out.append(code)
        return bytes(out)

    def differences(self) -> str:
        names = " ".join(f"/uni{ord(ch):04X}" for ch in self.codes)
        return f"[128 {names}]" if self.codes else "[]"

    def to_unicode(self) -> bytes:
        pairs = [(code, ord(ch)) for ch, code in self.codes.items()] + [(c, c) for c in range(32, 127)]
        lines = [f"<{code:02X}> <{uni:04X}>" for code, uni in sorted(pairs)]
        chunks = [lines[i:i + 100] for i in range(0, len(lines), 100)]
        body = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n" for chunk in chunks)
        return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" + body +
                "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")


def _utf16(text: str) -> bytes:
    return b"\xfe\xff" + text.encode("utf-16-be")


def _layout(title: str, paragraphs: list[str]) -> list[list[tuple[str, bool]]]:
    """Lines per page: (text, is_heading)."""
    lines: list[tuple[str, bool]] = [(title, True), ("", False)]
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, LINE_CHARS) or [""]:
            lines.append((line, False))
        lines.append(("", False))
    return [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def make_pdf(title: str, paragraphs: list[str], *, author: str = "", language: str = "ru-RU",
             encrypted: str | None = None) -> bytes:
    """A text PDF of `paragraphs` under `title` (see the module's docstring)."""
    encoding = _Encoding(title + "\n" + "\n".join(paragraphs) + author)
    pages = _layout(title, paragraphs)
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(data: bytes) -> int:
        objects.append(data)
        return len(objects)

    def reserve() -> int:
        return add(b"")

    catalog, page_tree, font, cmap, descriptor = reserve(), reserve(), reserve(), reserve(), reserve()
    objects[descriptor - 1] = (b"<< /Type /FontDescriptor /FontName /ArialMT /Flags 32 /FontBBox [-665 -325 2000 1040] "
                               b"/ItalicAngle 0 /Ascent 905 /Descent -212 /CapHeight 716 /StemV 80 >>")
    streams: dict[int, bytes] = {}  # object number -> uncompressed stream data
    page_ids = []
    for page in pages:
        ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"72 770 Td"]
        for text, heading in page:
            size = b"15" if heading else b"11"
            ops.append(b"/F1 " + size + b" Tf (" + encoding.encode(text) + b") Tj T*")
        ops.append(b"ET")
        content = reserve()
        streams[content] = b"\n".join(ops)
        page_ids.append(add(f"<< /Type /Page /Parent {page_tree} 0 R /MediaBox [0 0 595 842] "
                            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>".encode()))
    streams[cmap] = encoding.to_unicode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {page_tree} 0 R /Lang ({language}) >>".encode()
    kids = " ".join(f"{n} 0 R" for n in page_ids)
    objects[page_tree - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    widths = " ".join("556" for _ in range(32, 256))
    objects[font - 1] = (f"<< /Type /Font /Subtype /Type1 /BaseFont /ArialMT /FirstChar 32 /LastChar 255 "
                         f"/Widths [{widths}] /FontDescriptor {descriptor} 0 R /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding "
                         f"/Differences {encoding.differences()} >> /ToUnicode {cmap} 0 R >>").encode()
    info_strings = {"Title": title, "Author": author, "Producer": "kisi-archive fixture (scheduler/demo_site/pdf.py)"}
    info = reserve()
    file_id = hashlib.md5((title + author).encode("utf-8")).digest()

    key = None
    encrypt_ref = ""
    if encrypted is not None:
        padded = (encrypted.encode("latin-1") + _PAD)[:32]
        owner = _rc4(hashlib.md5(padded).digest()[:5], padded)
        permissions = -44
        key = hashlib.md5(padded + owner + permissions.to_bytes(4, "little", signed=True) + file_id).digest()[:5]
        user = _rc4(key, _PAD)
        encrypt = add(f"<< /Filter /Standard /V 1 /R 2 /O <{owner.hex()}> /U <{user.hex()}> /P {permissions} >>".encode())
        encrypt_ref = f" /Encrypt {encrypt} 0 R"

    def protect(number: int, data: bytes) -> bytes:
        if key is None:
            return data
        return _rc4(hashlib.md5(key + number.to_bytes(3, "little") + b"\x00\x00").digest()[:10], data)

    objects[info - 1] = ("<< " + " ".join(f"/{name} <{protect(info, _utf16(value)).hex()}>"
                                          for name, value in info_strings.items() if value) + " >>").encode()
    for number, data in streams.items():
        packed = protect(number, zlib.compress(data, 9))
        objects[number - 1] = (f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed
                               + b"\nendstream")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, data in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + data + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R{encrypt_ref} "
            f"/ID [<{file_id.hex()}> <{file_id.hex()}>] >>\nstartxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def truncated_pdf(pdf: bytes) -> bytes:
    """A download cut short: the first half of a PDF, no cross-reference table, no end."""
    return pdf[: len(pdf) // 2]
