"""Table tests of storage.urls: the keys that say "this is the same post"."""
from __future__ import annotations

import pytest

from storage.urls import normalize_url, shortlink_post_id, site_key

CYRILLIC_KEY = "https://kisi.kz/en/%D0%BC%D0%B8%D1%80"  # "мир"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host
        ("https://kisi.kz/en/post/", "https://kisi.kz/en/post"),
        ("http://kisi.kz/en/post/", "https://kisi.kz/en/post"),
        ("HTTPS://KISI.KZ/en/post/", "https://kisi.kz/en/post"),
        ("https://www.kisi.kz/en/post/", "https://kisi.kz/en/post"),
        ("https://WWW.Kisi.Kz./en/post/", "https://kisi.kz/en/post"),
        ("//kisi.kz/en/post/", "https://kisi.kz/en/post"),
        ("  https://kisi.kz/en/post/\n", "https://kisi.kz/en/post"),
        # the path keeps its case: WordPress slugs are lower-case, but other servers differ
        ("https://kisi.kz/EN/Post/", "https://kisi.kz/EN/Post"),
        # ports
        ("https://kisi.kz:443/en/post/", "https://kisi.kz/en/post"),
        ("http://kisi.kz:80/en/post/", "https://kisi.kz/en/post"),
        ("http://kisi.kz:443/x", "https://kisi.kz/x"),  # dropped whatever the scheme: idempotent
        ("http://127.0.0.1:8080/en/post/", "https://127.0.0.1:8080/en/post"),
        ("http://localhost:08080/x", "https://localhost:8080/x"),
        ("http://[::1]:8080/x/", "https://[::1]:8080/x"),
        ("http://[::1]:80/x/", "https://[::1]/x"),
        ("https://user:secret@kisi.kz/x", "https://kisi.kz/x"),
        # fragment
        ("https://kisi.kz/en/post/#comments", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/post/#more-2368", "https://kisi.kz/en/post"),
        # path: empty, root, trailing slashes, dot segments
        ("https://kisi.kz", "https://kisi.kz/"),
        ("https://kisi.kz/", "https://kisi.kz/"),
        ("https://kisi.kz//", "https://kisi.kz/"),
        ("https://kisi.kz/en/post//", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/./post/", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/old/../post/", "https://kisi.kz/en/post"),
        ("https://kisi.kz/../en/post", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/%2E%2E/post", "https://kisi.kz/post"),
        # percent-escapes: one form for lower-case, upper-case and raw Cyrillic
        ("https://kisi.kz/en/%d0%bc%d0%b8%d1%80/", CYRILLIC_KEY),
        ("https://kisi.kz/en/%D0%BC%D0%B8%D1%80/", CYRILLIC_KEY),
        ("https://kisi.kz/en/%D0%bc%d0%B8%D1%80", CYRILLIC_KEY),
        ("https://kisi.kz/en/мир/", CYRILLIC_KEY),
        ("https://kisi.kz/en/ми%d1%80/", CYRILLIC_KEY),
        # unreserved escapes decoded, reserved ones kept (upper-cased), unsafe ones escaped
        ("https://kisi.kz/%7Euser/%41b%2d", "https://kisi.kz/~user/Ab-"),
        ("https://kisi.kz/a%2fb/", "https://kisi.kz/a%2Fb"),
        ("https://kisi.kz/a b", "https://kisi.kz/a%20b"),
        ("https://kisi.kz/100%", "https://kisi.kz/100%25"),
        ("https://kisi.kz/100%zz", "https://kisi.kz/100%25zz"),
        ("https://kisi.kz/a:b@c;d=e", "https://kisi.kz/a:b@c;d=e"),
        # query: sorted, tracking and empty parameters dropped, the rest kept
        ("https://kisi.kz/?p=2368", "https://kisi.kz/?p=2368"),
        ("http://www.kisi.kz?p=2368", "https://kisi.kz/?p=2368"),
        ("https://kisi.kz/?page_id=12", "https://kisi.kz/?page_id=12"),
        ("https://kisi.kz/?p=2368&lang=en", "https://kisi.kz/?lang=en&p=2368"),
        ("https://kisi.kz/?lang=en&p=2368", "https://kisi.kz/?lang=en&p=2368"),
        ("https://kisi.kz/en/post/?utm_source=fb&utm_medium=social", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/post/?UTM_Campaign=x", "https://kisi.kz/en/post"),
        ("https://kisi.kz/en/post/?fbclid=IwAR0abc", "https://kisi.kz/en/post"),
        ("https://kisi.kz/?gclid=1&p=5&msclkid=2&yclid=3", "https://kisi.kz/?p=5"),
        ("https://kisi.kz/?p=5&&", "https://kisi.kz/?p=5"),
        ("https://kisi.kz/en/post/?", "https://kisi.kz/en/post"),
        ("https://kisi.kz/?s=%d0%bc%d0%b8%d1%80", "https://kisi.kz/?s=%D0%BC%D0%B8%D1%80"),
        ("https://kisi.kz/?s=мир", "https://kisi.kz/?s=%D0%BC%D0%B8%D1%80"),
        ("https://kisi.kz/?q=a%26b", "https://kisi.kz/?q=a%26b"),  # an escaped "&" stays escaped
        ("https://kisi.kz/?amp", "https://kisi.kz/?amp"),
        # no host: normalised as far as it goes, never raises
        ("", ""),
        ("/en/post/", "/en/post"),
        ("en/%d0%bc", "en/%D0%BC"),
        ("mailto:Info@Kisi.kz", "mailto:Info@Kisi.kz"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",
            "http://www.kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan",
            "https://KISI.KZ:443/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/"
            "?utm_source=telegram#respond",
        ],
        [
            "https://kisi.kz/ru/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d0%b8/",
            "https://kisi.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
            "http://www.kisi.kz/ru/новости/",
        ],
        ["https://kisi.kz/?p=2368", "http://kisi.kz?p=2368&utm_campaign=x", "https://www.kisi.kz/?p=2368#top"],
    ],
)
def test_spellings_of_one_post_share_a_key(spellings: list[str]) -> None:
    assert len({normalize_url(url) for url in spellings}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://kisi.kz/en/post/", "https://kisi.kz/ru/post/"),
        ("https://kisi.kz/?p=1", "https://kisi.kz/?p=2"),
        ("https://kisi.kz/?p=1", "https://kisi.kz/?page_id=1"),
        ("https://kisi.kz/en/post/", "https://kisi.kz:8080/en/post/"),
        ("https://kisi.kz/a%2Fb", "https://kisi.kz/a/b"),
        ("https://kisi.kz/en/post/", "https://kisi.kz.evil.example/en/post/"),
    ],
)
def test_different_posts_keep_different_keys(a: str, b: str) -> None:
    assert normalize_url(a) != normalize_url(b)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://www.Kisi.kz:80/en/%d0%b0/?utm_source=x&p=3#top",
        "https://kisi.kz/a/../b/./c/",
        "http://[::1]:443/x",
        "https://kisi.kz/a b/%zz?q=мир",
        "/relative/path/",
        "",
    ],
)
def test_normalize_url_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://kisi.kz/?p=2368", 2368),
        ("http://kisi.kz/?p=2368", 2368),
        ("https://kisi.kz/en/?p=2368", 2368),
        ("https://kisi.kz/?p=2368&lang=en", 2368),
        ("https://kisi.kz/?lang=en&p=2368", 2368),
        ("https://kisi.kz/index.php?p=2368", 2368),
        ("https://kisi.kz/?page_id=12", 12),
        ("https://kisi.kz/?page_id=12&p=7", 7),  # p wins
        ("https://kisi.kz/?p=7&p=8", 7),  # the first one wins
        ("https://kisi.kz/?P=42", 42),
        ("https://kisi.kz/?p=%32%33", 23),
        (" https://kisi.kz/?p=5 ", 5),
        ("https://kisi.kz/?p=5#comments", 5),
        # not a shortlink
        ("https://kisi.kz/en/post/", None),
        ("https://kisi.kz/?p=", None),
        ("https://kisi.kz/?p=0", None),
        ("https://kisi.kz/?p=-5", None),
        ("https://kisi.kz/?p=+5", None),
        ("https://kisi.kz/?p=12abc", None),
        ("https://kisi.kz/?p=١٢", None),  # Arabic-Indic digits: str.isdigit would say yes
        ("https://kisi.kz/?pp=5", None),
        ("https://kisi.kz/?attachment_id=5", None),
        ("https://kisi.kz/#p=5", None),
        ("", None),
        ("http://[broken/?p=5", None),
    ],
)
def test_shortlink_post_id(url: str, expected: int | None) -> None:
    assert shortlink_post_id(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://kisi.kz/en/post/", "kisi.kz"),
        ("https://www.kisi.kz/en/post/", "kisi.kz"),
        ("http://WWW.KISI.KZ:8443/", "kisi.kz"),
        ("https://kisi.kz./", "kisi.kz"),
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://localhost:5000/x", "localhost"),
        ("https://sub.kisi.kz/", "sub.kisi.kz"),
        ("https://wwwkisi.kz/", "wwwkisi.kz"),
        ("https://user@kisi.kz/", "kisi.kz"),
    ],
)
def test_site_key(url: str, expected: str) -> None:
    assert site_key(url) == expected


def test_internationalised_host_and_its_punycode_agree() -> None:
    punycode = "кизи.рф".encode("idna").decode("ascii")
    assert site_key("https://КИЗИ.рф/") == site_key(f"https://{punycode}/") == punycode
    assert normalize_url("https://www.кизи.рф/a/") == normalize_url(f"http://{punycode}/a") == f"https://{punycode}/a"


@pytest.mark.parametrize("url", ["", "/en/post/", "kisi.kz/en/post", "mailto:info@kisi.kz", "http://[broken/"])
def test_site_key_refuses_urls_without_a_host(url: str) -> None:
    with pytest.raises(ValueError):
        site_key(url)


def test_storage_urls_imports_only_the_standard_library() -> None:
    import ast
    import sys
    from pathlib import Path

    import storage.urls

    tree = ast.parse(Path(storage.urls.__file__).read_text(encoding="utf-8"))
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert modules - {"__future__"} <= set(sys.stdlib_module_names)
