"""The text of a PDF attachment, for search: PDFium, through pypdfium2.

Chosen by measuring (bench/bench_pdf.py, figures in docs/performance.md): on the fixture's
Russian and Kazakh reports pypdfium2, pypdf and pdfminer.six all read every letter
(ә ғ қ ң ө ұ ү һ і included), and pypdfium2 does it several times faster than pypdf and
tens of times faster than pdfminer.six; PDFium is the engine of Chrome's PDF viewer, so it
reads what browsers read. A PDF that cannot be read (encrypted with a password, broken,
not a PDF at all) is kept as it is; its text is empty and `error` says why.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger(__name__)

try:
    PDFIUM_VERSION = version("pypdfium2")
except PackageNotFoundError:  # pragma: no cover - a broken install; said once per PDF
    PDFIUM_VERSION = ""
EXTRACTOR = {"name": "pypdfium2", "version": PDFIUM_VERSION}
MAX_PAGES = 2000  # a report longer than this is read no further (the body is kept whole)


@dataclass(frozen=True)
class AttachmentText:
    text: str = ""
    error: str | None = None
    extractor: dict[str, str] = field(default_factory=lambda: dict(EXTRACTOR))


def is_pdf(body: bytes, content_type: str | None) -> bool:
    return body[:1024].lstrip().startswith(b"%PDF") or (content_type or "").split(";")[0].strip() == "application/pdf"


def _normalize(text: str) -> str:
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", text).replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def pdf_text(body: bytes) -> AttachmentText:
    """The text of a PDF, page after page; never raises."""
    try:
        import pypdfium2
    except ImportError as exc:  # pragma: no cover
        return AttachmentText(error=f"no PDF reader installed ({exc})")
    try:
        document = pypdfium2.PdfDocument(body)
    except pypdfium2.PdfiumError as exc:
        reason = str(exc)
        error = "encrypted (a password is needed)" if "password" in reason.lower() else f"unreadable PDF: {reason}"
        return AttachmentText(error=error)
    try:
        pages = []
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                pages.append(textpage.get_text_range())
            finally:
                textpage.close()
                page.close()
        text = _normalize("\n".join(pages))
        return AttachmentText(text=text, error=None if text else "no text layer (scanned images?)")
    except Exception as exc:  # noqa: BLE001 - one bad PDF must never stop a crawl
        return AttachmentText(error=f"unreadable PDF: {type(exc).__name__}: {exc}")
    finally:
        document.close()


def attachment_text(body: bytes, content_type: str | None, url: str = "") -> AttachmentText | None:
    """The searchable text of an attachment body: PDFs only (None for images and office
    documents, whose bodies are kept without text)."""
    if not is_pdf(body, content_type):
        return None
    result = pdf_text(body)
    if result.error:
        logger.warning("%s: PDF kept without text: %s", url or "attachment", result.error)
    return result
