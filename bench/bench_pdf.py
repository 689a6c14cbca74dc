"""Which PDF library reads the attachments' text: pypdfium2, pypdf, pdfminer.six compared.

    .venv/bin/python bench/bench_pdf.py [--pages 20] [--repeat 5]

On Russian and Kazakh reports (and an English one), in two makes: the fixture's own
(scheduler/demo_site/pdf.py: a simple font, not embedded, with a ToUnicode CMap) and, when
the fpdf2 package and the DejaVu fonts are installed, a PDF with the font embedded as a
subset CID font (Identity-H), as office suites write them. For each library: time per
document (median of --repeat), and quality: the share of the expected words found in order
(difflib over words), whether every Kazakh letter survived, and whether the three fail
cleanly on an encrypted and on a damaged PDF. Not a test: it measures. Install the
libraries you compare (`pip install pypdf pdfminer.six fpdf2`); pypdfium2 is a dependency.
"""
from __future__ import annotations

import argparse
import difflib
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.demo_site.pdf import make_pdf, truncated_pdf  # noqa: E402
from scheduler.demo_site.seed import _KK_REPORT_TEXT, _RU_REPORT_TEXT  # noqa: E402

EN_TEXT = ["This report summarises an expert session on the results of the parliamentary reform in Kazakhstan, "
           "held at the Kazakhstan Institute for Strategic Studies.",
           "The speakers noted that the share of laws initiated by deputies had grown noticeably."]
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def with_pypdfium2(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def with_pypdf(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def with_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


LIBRARIES: dict[str, Callable[[bytes], str]] = {"pypdfium2": with_pypdfium2, "pypdf": with_pypdf,
                                                "pdfminer.six": with_pdfminer}


def embedded_pdf(title: str, paragraphs: list[str]) -> bytes | None:
    try:
        from fpdf import FPDF
    except ImportError:
        return None
    if not DEJAVU.exists():
        return None
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, title + "\n\n" + "\n\n".join(paragraphs))
    return bytes(pdf.output())


def words(text: str) -> list[str]:
    return [w.strip(".,:;«»()—-\"'").lower() for w in text.split() if w.strip(".,:;«»()—-\"'")]


def quality(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(None, words(expected), words(got), autojunk=False).ratio()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="about this many pages per document")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    copies = max(1, args.pages * 52 // 60)  # ~60 lines of text per set of paragraphs
    documents: dict[str, tuple[str, bytes]] = {}
    for label, title, paragraphs in (("ru", "Политическая трансформация в Казахстане", _RU_REPORT_TEXT),
                                     ("kk", "Қазақстандағы саяси трансформация", _KK_REPORT_TEXT),
                                     ("en", "The results of the parliamentary reform", EN_TEXT)):
        body = paragraphs * copies
        expected = title + "\n" + "\n".join(body)
        documents[f"{label} simple font"] = (expected, make_pdf(title, body))
        embedded = embedded_pdf(title, body)
        if embedded is not None:
            documents[f"{label} embedded CID font"] = (expected, embedded)
    available = {}
    for name, function in LIBRARIES.items():
        try:
            function(documents["en simple font"][1])
            available[name] = function
        except ImportError:
            print(f"{name}: not installed, left out")
    print(f"{'document':<26}{'library':<14}{'ms/doc':>9}{'words in order':>16}{'Kazakh letters':>16}")
    for label, (expected, data) in documents.items():
        for name, function in available.items():
            times, text = [], ""
            for _ in range(args.repeat):
                started = time.perf_counter()
                text = function(data)
                times.append(time.perf_counter() - started)
            kazakh = "-" if not label.startswith("kk") else \
                ("all" if KAZAKH_LETTERS & set(expected) <= set(text) else "missing")
            print(f"{label:<26}{name:<14}{1000 * statistics.median(times):>9.1f}{quality(expected, text):>16.3f}"
                  f"{kazakh:>16}")
    encrypted = make_pdf("Закрытый доклад", ["Текст."], encrypted="secret")
    damaged = truncated_pdf(documents["ru simple font"][1])
    for name, function in available.items():
        for label, data in (("encrypted", encrypted), ("damaged", damaged)):
            try:
                text = function(data)
                outcome = f"no error, {len(text.strip())} characters"
            except Exception as exc:  # noqa: BLE001 - what each library raises is the question
                outcome = f"raises {type(exc).__name__}"
            print(f"{name:<14}{label:<11}{outcome}")


if __name__ == "__main__":
    main()
