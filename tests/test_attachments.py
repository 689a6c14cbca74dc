"""Which links are attachments, and how a capture waits for them: tables, no I/O."""
from __future__ import annotations

import hashlib

import pytest

from crawler.attachments import AttachmentFetches, Wanted, answer, select
from crawler.extract import extract_page
from crawler.extract_links import ContentLink
from crawler.pdftext import attachment_text, pdf_text
from scheduler.demo_site.media import Media, file_block, image_block
from scheduler.demo_site.pdf import make_pdf, truncated_pdf
from storage import Capture
from storage.records import AttachmentRef

PAGE = "https://kisi.kz/en/some-event/"
UP = "https://kisi.kz/wp-content/uploads/2025/03/"


def a(url: str, text: str = "") -> ContentLink:
    return ContentLink("a", url, text)


def img(url: str, alt: str = "", srcset: tuple[tuple[str, int], ...] = ()) -> ContentLink:
    return ContentLink("img", url, alt, srcset)


@pytest.mark.parametrize("link, wanted", [
    (a(UP + "report.pdf", "the full version is here"), [Wanted(UP + "report.pdf", "the full version is here", "document")]),
    (a("https://www.kisi.kz/wp-content/uploads/x.DOCX"), [Wanted("https://www.kisi.kz/wp-content/uploads/x.DOCX", "", "document")]),
    (a("https://media.kisi.kz/files/x.pdf#page=2"), [Wanted("https://media.kisi.kz/files/x.pdf", "", "document")]),
    (a("https://other-institute.org/wp-content/uploads/x.pdf"), []),  # another site: never
    (a("https://kisi.kz.evil.example/x.pdf"), []),
    (a("https://kisi.kz/en/other-event/"), []),  # a page, not a file
    (a("mailto:press@kisi.kz"), []),
    (a("https://kisi.kz/?attachment_id=12"), []),  # the attachment page, HTML
])
def test_which_links_are_attachments(link: ContentLink, wanted: list[Wanted]) -> None:
    assert select([link], PAGE) == wanted


def test_a_cdn_the_page_loads_its_own_files_from_is_the_site() -> None:
    cdn = a("https://cdn.example-cdn.net/wp-content/uploads/x.pdf")
    assert select([cdn], PAGE) == []
    assert select([cdn], PAGE, asset_hosts=("cdn.example-cdn.net",))[0].url == cdn.url


def test_an_image_is_its_largest_rendition_once() -> None:
    srcset = ((UP + "photo-1024x683.png", 1024), (UP + "photo-300x200.png", 300), (UP + "photo.png", 1200))
    links = [img(UP + "photo-1024x683.png", "Round table", srcset), a(UP + "photo.png"),
             img(UP + "photo-300x200.png", "", ((UP + "photo-300x200.png", 300),))]
    assert select(links, PAGE) == [Wanted(UP + "photo.png", "Round table", "image")]
    # Without srcset, the src; a "-scaled" copy is the same image as the link to its original.
    assert select([img(UP + "big-scaled.jpg", "x"), a(UP + "big.jpg")], PAGE) == [Wanted(UP + "big.jpg", "x", "image")]


def test_the_fixture_markup_reads_as_wordpress_prints_it() -> None:
    photo = Media(7, "2025/03/photo.png", "image/png", alt="Round table", image={"width": 1600, "height": 1066})
    report = Media(8, "2025/03/report.pdf", "application/pdf")
    html = (f'<html><body class="single single-post postid-5"><article id="post-5" class="post-5 post">'
            f'<div class="entry-content"><p>Text of the post, long enough to be kept by the extractor as it is.</p>'
            f'{image_block(photo)}{file_block(report, "Report (PDF)")}</div></article>'
            f'<aside><a href="/wp-content/uploads/2025/03/widget.pdf">a widget</a></aside></body></html>')
    page = extract_page(html.replace('src="/', 'src="https://kisi.kz/').replace('href="/', 'href="https://kisi.kz/')
                        .replace(", /", ", https://kisi.kz/").replace('srcset="/', 'srcset="https://kisi.kz/'), PAGE)
    wanted = select(page.links, PAGE, page.asset_hosts)
    assert [(w.url.rsplit("/", 1)[-1], w.label) for w in wanted] == [("photo.png", "Round table"),
                                                                    ("report.pdf", "Report (PDF)")]


def capture(url: str = PAGE) -> Capture:
    return Capture(url=url, final_url=url, http_status=200, fetched_at="2026-12-01T00:00:00+00:00", site="kisi.kz")


def test_a_capture_waits_for_its_attachments_once_per_url() -> None:
    fetches = AttachmentFetches()
    order = lambda url, conditional: (url, conditional)  # noqa: E731
    report = Wanted(UP + "report.pdf", "Report", "document")
    sent, ready = fetches.hold(capture(), [report], order)
    assert sent == [(report.url, True)] and ready == []
    sent, ready = fetches.hold(capture(PAGE + "ru/"), [report], order)  # a translation links the same file
    assert sent == [] and ready == []
    ref, blob = answer(report.url, 200, b"%PDF-1.4 x", "application/pdf", report.url, "2026-12-01T00:00:00+00:00")
    released = fetches.answered(report.url, ref)
    assert len(released) == 2 and all(c.attachments[0].sha256 == hashlib.sha256(b"%PDF-1.4 x").hexdigest()
                                      for c in released)
    assert released[0].attachments[0].label == "Report" and blob is not None
    assert fetches.memory[report.url]["sha256"] == ref.sha256
    # A post without attachments goes at once, with an empty list (it was looked for).
    assert fetches.hold(capture(), [], order)[1][0].attachments == ()


def test_a_304_means_the_remembered_body_or_a_full_fetch() -> None:
    known = {"url": UP + "r.pdf", "sha256": "ab" * 32, "bytes": 3, "content_type": "application/pdf",
             "final_url": UP + "r.pdf"}
    fetches = AttachmentFetches(memory={UP + "r.pdf": known})
    assert fetches.not_modified(UP + "r.pdf", UP + "r.pdf") == AttachmentRef.from_json(known)
    assert fetches.not_modified(UP + "unknown.pdf", UP + "unknown.pdf") is None


def test_pdf_text_in_russian_and_kazakh_and_clean_failures() -> None:
    ru = pdf_text(make_pdf("Доклад", ["Эксперты обсудили политическую трансформацию."]))
    assert ru.error is None and "Эксперты обсудили политическую трансформацию." in ru.text
    kk = pdf_text(make_pdf("Баяндама", ["Сарапшылар әлеуметтік өзгерістерді, ұлттық құндылықтарды талқылады: ғ қ ң ө ү һ і."]))
    assert "әлеуметтік" in kk.text and "ғ қ ң ө ү һ і" in kk.text
    assert pdf_text(make_pdf("X", ["Секрет."], encrypted="pw")).error.startswith("encrypted")
    broken = pdf_text(truncated_pdf(make_pdf("X", ["Y."] * 50)))
    assert broken.text == "" and broken.error.startswith("unreadable PDF")
    assert attachment_text(b"\x89PNG...", "image/png") is None
