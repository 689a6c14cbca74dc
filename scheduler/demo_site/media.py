"""The media library: files under /wp-content/uploads/, and the markup posts link them with.

What WordPress does, and this reproduces:

- An upload lives at `/wp-content/uploads/YYYY/MM/<file>` (wp_upload_dir() with the default
  "organize by month" option) and is served by the web server as a static file, not by
  WordPress: nginx sends Last-Modified, an ETag of `"<mtime hex>-<size hex>"`, and 304 for a
  matching If-None-Match or an If-Modified-Since equal to Last-Modified (`if_modified_since
  exact`, nginx's default).
- An image gets resized copies (wp_generate_attachment_metadata(): the registered sizes
  medium 300, medium_large 768, large 1024 and 1536x1536, same aspect ratio, named
  `<name>-<w>x<h>.<ext>`); the post's `<img>` carries `class="wp-image-<id>"`, and on output
  wp_filter_content_tags() adds width, height, `decoding="async"`, `srcset` (every size of
  the same ratio up to 2048 px, the full size included) and `sizes`.
- A file block (core/file, block-library/src/file/save.js) is the link with the file's
  title, then a Download button pointing at the same URL.

Bodies are made on request, deterministically, and cached: PDFs by pdf.make_pdf (Russian,
Kazakh, English; one encrypted, one damaged), images as PNG (zlib, standard library).
"""
from __future__ import annotations

import functools
import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .pdf import make_pdf, truncated_pdf

UPLOADS = "/wp-content/uploads/"
IMAGE_SIZES = (300, 768, 1024, 1536)  # widths of medium, medium_large, large, 1536x1536
_VARIANT = re.compile(r"^(?P<stem>.+)-(?P<w>\d+)x(?P<h>\d+)\.(?P<ext>[a-z]+)$")


@dataclass
class Media:
    """One attachment of the media library. `pdf` or `image` describes the body."""

    id: int
    file: str  # "2025/03/doklad.pdf", relative to the uploads folder
    mime: str
    title: str = ""
    alt: str = ""
    modified_gmt: str = "2025-03-12T07:00:00"
    pdf: dict[str, Any] = field(default_factory=dict)  # title, paragraphs, language, author, encrypted, broken
    image: dict[str, Any] = field(default_factory=dict)  # width, height, seed

    @property
    def path(self) -> str:
        return UPLOADS + self.file

    def sizes(self) -> list[tuple[int, int, str]]:
        """(width, height, path) of the resized copies WordPress made (images only)."""
        if not self.image:
            return []
        width, height = self.image["width"], self.image["height"]
        stem, ext = self.path.rsplit(".", 1)
        return [(w, round(height * w / width), f"{stem}-{w}x{round(height * w / width)}.{ext}")
                for w in IMAGE_SIZES if w < width]


def upload_url(root: str, media: Media, width: int | None = None) -> str:
    if width is None:
        return root + media.path
    return root + next(path for w, _h, path in media.sizes() if w == width)


def file_block(media: Media, label: str, block_id: str | None = None) -> str:
    """A core/file block linking `media` (the saved markup, root-relative URLs)."""
    anchor = block_id or f"wp-block-file--media-{hashlib.md5(media.file.encode()).hexdigest()[:8]}-" \
                         f"{media.id:04d}-4a1b-9c2d-{hashlib.md5(label.encode()).hexdigest()[:12]}"
    return (f'<div class="wp-block-file"><a id="{anchor}" href="{media.path}">{escape(label)}</a>'
            f'<a href="{media.path}" class="wp-block-file__button wp-element-button" download '
            f'aria-describedby="{anchor}">Download</a></div>')


def image_block(media: Media, shown: int = 1024, *, link_to_file: bool = False, alt: str | None = None) -> str:
    """A core/image block as the_content prints it (srcset and sizes added on output)."""
    width, height = media.image["width"], media.image["height"]
    sizes = media.sizes()
    src_w, src_h, src = next(((w, h, p) for w, h, p in sizes if w == shown), (width, height, media.path))
    candidates = [f"{src} {src_w}w"] + [f"{p} {w}w" for w, _h, p in sizes if w != src_w]
    if width <= 2048 and src != media.path:
        candidates.append(f"{media.path} {width}w")
    img = (f'<img decoding="async" width="{src_w}" height="{src_h}" src="{src}" alt="{escape(media.alt if alt is None else alt)}" '
           f'class="wp-image-{media.id}" srcset="{", ".join(candidates)}" '
           f'sizes="(max-width: {src_w}px) 100vw, {src_w}px" />')
    if link_to_file:
        img = f'<a href="{media.path}">{img}</a>'
    return f'<figure class="wp-block-image size-large">{img}</figure>'


def absolute_uploads(content: str, root: str) -> str:
    """Post content as WordPress stores it: upload URLs absolute (the seed keeps them
    root-relative, as the fixture does not know its own address)."""
    return re.sub(r'(?<=["\s,])/wp-content/uploads/', root + UPLOADS, content)


# -- bodies ---------------------------------------------------------------------------------
def _png(width: int, height: int, seed: int) -> bytes:
    """An RGB PNG of horizontal bands, colours from `seed`."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    digest = hashlib.sha256(str(seed).encode()).digest()
    colours = [bytes(digest[i:i + 3]) for i in range(0, 24, 3)]
    band = max(1, height // len(colours))
    rows = b"".join(b"\x00" + colours[min(y // band, len(colours) - 1)] * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


@functools.lru_cache(maxsize=64)
def _pdf_body(title: str, paragraphs: tuple[str, ...], language: str, author: str, encrypted: bool,
              broken: bool) -> bytes:
    body = make_pdf(title, list(paragraphs), author=author, language=language,
                    encrypted="kisi-secret" if encrypted else None)
    return truncated_pdf(body) if broken else body


@functools.lru_cache(maxsize=128)
def _image_body(width: int, height: int, seed: int) -> bytes:
    return _png(width, height, seed)


def body_of(media: Media, path: str) -> bytes | None:
    """The bytes served at `path` (the file or one of its sizes), or None."""
    if path == media.path:
        if media.pdf:
            spec = media.pdf
            return _pdf_body(spec["title"], tuple(spec["paragraphs"]), spec.get("language", "ru-RU"),
                             spec.get("author", ""), bool(spec.get("encrypted")), bool(spec.get("broken")))
        if media.image:
            return _image_body(media.image["width"], media.image["height"], int(media.image.get("seed", media.id)))
        return None
    for width, height, variant in media.sizes():
        if variant == path:
            return _image_body(width, height, int(media.image.get("seed", media.id)))
    return None
