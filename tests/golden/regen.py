"""Regenerate the expected output of the extraction golden files. Never edit those by hand.

Each case is ``<name>.html`` (the raw response body, bytes as served), an optional
``<name>.meta.json`` ({"url", "link_header", "content_type"}) and the expected
``<name>.json``: the ExtractedPage as JSON (sorted keys, ensure_ascii=False, indent 2).

    .venv/bin/python tests/golden/regen.py          # rewrite every <name>.json
    .venv/bin/python tests/golden/regen.py --check  # exit 1 if any would change
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(GOLDEN_DIR.parents[1]))  # the project root, when run as a script

from crawler.extract import ExtractedPage, decode_html_ex, extract_page  # noqa: E402

DEFAULT_CONTENT_TYPE = "text/html"


def cases() -> list[str]:
    "Names of all golden cases, sorted."
    return sorted(path.name.removesuffix(".html") for path in GOLDEN_DIR.glob("*.html"))


def case_input(name: str) -> tuple[bytes, str, str | None, str | None]:
    "(body, url, link_header, content_type) of one case."
    body = (GOLDEN_DIR / f"{name}.html").read_bytes()
    meta_path = GOLDEN_DIR / f"{name}.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    url = meta.get("url") or f"https://kisi.kz/golden/{name}/"
    return body, url, meta.get("link_header"), meta.get("content_type", DEFAULT_CONTENT_TYPE)


def extract_case(name: str) -> ExtractedPage:
    body, url, link_header, content_type = case_input(name)
    return extract_page(decode_html_ex(body, content_type), url, link_header)


def to_json(page: ExtractedPage) -> str:
    return json.dumps(dataclasses.asdict(page), sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def expected_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name in cases():
        rendered = to_json(extract_case(name))
        path = expected_path(name)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == rendered:
            continue
        stale.append(name)
        if not check:
            path.write_text(rendered, encoding="utf-8")
    for name in stale:
        print(f"{'stale' if check else 'rewrote'}: {expected_path(name).name}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
