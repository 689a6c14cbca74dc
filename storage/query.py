"""Questions asked of the archive: filtered listings, full-text search, statistics.

Filtering, sorting and counting happen in SQL against the index (storage/index.py, the
tables documented in docs/index.md). Exports are storage/export.py. Nothing here imports
a CLI framework.
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterator

from . import index as idx
from .errors import StorageError
from .records import DocumentSummary
from .stemming import stem

logger = logging.getLogger(__name__)


class BadQuery(StorageError):
    """A filter or search query the archive cannot answer as given (the message says why)."""


# -- filters -----------------------------------------------------------------------------
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_bound(text: str, *, end: bool) -> str:
    """A publication-date bound from YYYY, YYYY-MM or YYYY-MM-DD, as an ISO prefix.

    A start bound is inclusive (`2024-03` -> ``>= "2024-03"``); an end bound includes the
    whole period, so it is returned as the exclusive start of the next one
    (`2024-03` -> ``< "2024-04"``). Stored dates are ISO 8601 strings, so comparing
    strings compares instants of the same zone (UTC when the page gives one).
    """
    match = _DATE.match(text.strip())
    if not match:
        raise BadQuery(f"date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        start = date(year, 1 if month is None else month, 1 if day is None else day)  # type: ignore[arg-type]
    except ValueError as exc:
        raise BadQuery(f"date {text!r}: {exc}") from None
    if not end:
        return text.strip()
    if day is not None:
        return date.fromordinal(start.toordinal() + 1).isoformat()
    if month is not None:
        return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"
    return f"{year + 1:04d}"


@dataclass(frozen=True)
class Filters:
    """What `list`, `search`, `export` and `stats` narrow the archive to. Empty = everything.

    `since`/`until` are what the user typed (YYYY, YYYY-MM or YYYY-MM-DD) and bound the
    publication date, both ends inclusive. Several languages or categories match any of them.
    """

    languages: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    categories: tuple[str, ...] = ()
    changed: bool = False  # more than one version
    removed: bool = False  # latest version is a tombstone
    # Only documents with a version (after the first) of this cause: "site" leaves out the
    # documents that changed only because the archive read them again ("extractor").
    cause: str | None = None

    def __post_init__(self) -> None:
        # Validate early, so a bad date is an error before any output.
        if self.cause not in (None, "site", "extractor"):
            raise BadQuery(f"cause {self.cause!r}: choose site or extractor")
        if self.since:
            date_bound(self.since, end=False)
        if self.until:
            date_bound(self.until, end=True)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["languages"] = list(self.languages)
        data["categories"] = list(self.categories)
        return data

    def sql(self, *, all_versions: bool = False) -> tuple[str, list[Any]]:
        """A WHERE clause (without the keyword; "1" when empty) over `documents d`, and
        over `versions v` too when all_versions (version-level language, date, category)."""
        row = "v" if all_versions else "d"
        version = "v.version" if all_versions else "d.versions"
        clauses: list[str] = []
        params: list[Any] = []
        if self.languages:
            named = [lang for lang in self.languages if lang != "und"]
            parts = []
            if named:
                parts.append(f"{row}.language IN ({', '.join('?' * len(named))})")
                params.extend(named)
            if "und" in self.languages:
                parts.append(f"{row}.language IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.since:
            clauses.append(f"{row}.date_published >= ?")
            params.append(date_bound(self.since, end=False))
        if self.until:
            clauses.append(f"{row}.date_published < ?")
            params.append(date_bound(self.until, end=True))
        if self.categories:
            keys = [idx.label_key(c) for c in self.categories]
            clauses.append(
                f"EXISTS (SELECT 1 FROM categories c WHERE c.doc_id = d.doc_id AND c.version = {version} "
                f"AND c.key IN ({', '.join('?' * len(keys))}))"
            )
            params.extend(keys)
        if self.changed:
            clauses.append("d.versions > 1")
        if self.removed:
            clauses.append("d.status = 'removed'")
        if self.cause:
            clauses.append("EXISTS (SELECT 1 FROM versions c WHERE c.doc_id = d.doc_id AND c.version > 1 AND c.cause = ?)")
            params.append(self.cause)
        return (" AND ".join(clauses) or "1"), params


# -- list --------------------------------------------------------------------------------
# Sort keys: name -> SQL expression over `documents d`. A leading '-' reverses; missing
# values (no publication date) always come last; ties are broken by doc_id.
SORT_KEYS: dict[str, str] = {
    "published": "d.date_published",
    "modified": "d.date_modified",
    "title": "d.title COLLATE NOCASE",
    "first-seen": "d.first_seen",
    "last-seen": "d.last_seen",
    "versions": "d.versions",
    "id": "d.doc_id",
}
NOT_NULL_SORTS = frozenset({"versions", "id"})  # columns declared NOT NULL in documents
SORT_CHOICES: tuple[str, ...] = tuple(name for key in SORT_KEYS for name in (key, f"-{key}"))
DEFAULT_SORT = "-published"


def order_by(sort: str) -> str:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise BadQuery(f"unknown sort {sort!r}; choose one of {', '.join(SORT_CHOICES)}")
    expr = SORT_KEYS[key]
    column = expr.split()[0]
    direction = "DESC" if descending else "ASC"
    if key in NOT_NULL_SORTS:
        # No "IS NULL" term: it would keep SQLite from walking the column's index in order
        # (sorting every row instead: 37 ms against 2 ms for a page of 20,000 documents).
        return f"{expr} {direction}, d.doc_id"
    return f"{column} IS NULL, {expr} {direction}, d.doc_id"


def list_documents(conn: sqlite3.Connection, filters: Filters = Filters(), *, sort: str = DEFAULT_SORT,
                   limit: int | None = None, offset: int = 0) -> Iterator[DocumentSummary]:
    """Documents matching `filters`, in `sort` order, one page at a time if `limit` is given.

    Example: ``list(list_documents(archive.conn, Filters(languages=("ru",)), limit=20))``
    """
    where, params = filters.sql()
    sql = f"SELECT d.* FROM documents d WHERE {where} ORDER BY {order_by(sort)}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, limit, offset]
    elif offset:
        sql += " LIMIT -1 OFFSET ?"
        params = [*params, offset]
    for row in conn.execute(sql, params):
        yield idx.document_summary(row)


def count_documents(conn: sqlite3.Connection, filters: Filters = Filters()) -> int:
    where, params = filters.sql()
    return conn.execute(f"SELECT COUNT(*) FROM documents d WHERE {where}", params).fetchone()[0]


def aliases(conn: sqlite3.Connection) -> dict[str, str]:
    """Every URL key the archive knows (storage.urls.normalize_url of any URL of a post) -> doc_id."""
    return {row[0]: row[1] for row in conn.execute("SELECT url_key, doc_id FROM aliases")}


def text_lengths(conn: sqlite3.Connection) -> dict[str, int]:
    """Length of the latest version's text, by doc_id (the noise guards compare against it)."""
    rows = conn.execute(
        "SELECT v.doc_id, length(f.text) FROM documents d JOIN versions v ON v.doc_id = d.doc_id "
        "AND v.version = d.versions JOIN fulltext f ON f.rowid = v.text_id")
    return {row[0]: int(row[1] or 0) for row in rows}


def get_documents(conn: sqlite3.Connection, doc_ids: list[str] | tuple[str, ...] | set[str]) -> dict[str, DocumentSummary]:
    """The listing rows of these documents, by doc_id (unknown ids are left out)."""
    ids = sorted(set(doc_ids))
    if not ids:
        return {}
    rows = conn.execute(f"SELECT * FROM documents WHERE doc_id IN ({', '.join('?' * len(ids))})", ids)
    return {row["doc_id"]: idx.document_summary(row) for row in rows}


def by_language(conn: sqlite3.Connection, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """Documents, versions and removed documents per language (None = unknown), most documents
    first: the language facet of a listing (pass the filters without their languages) and
    the archive's totals for monitoring."""
    where, params = filters.sql()
    rows = conn.execute(
        "SELECT d.language AS language, COUNT(*) AS documents, SUM(d.versions) AS versions, "
        f"SUM(d.status = 'removed') AS removed FROM documents d WHERE {where} "
        "GROUP BY d.language ORDER BY documents DESC, d.language",
        params,
    ).fetchall()
    return [dict(row) for row in rows]


# -- search ------------------------------------------------------------------------------
_QUERY_TOKEN = re.compile(r'\s+|"(?:[^"]|"")*"\*?|"[^"]*$|[(),]|[^\s(),"]+')
_OPERATORS = {"AND", "OR", "NOT"}
_COLUMNS = ("title", "text")
_WORDY = re.compile(r"\w")


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _term(word: str, *, stemmed: bool, language: str | None) -> str | None:
    prefix = word.endswith("*")
    word = word.rstrip("*")
    if not _WORDY.search(word):
        return None  # punctuation alone: the tokenizer would drop it anyway
    if prefix or not stemmed:
        forms = {word}
        if "ё" in word.lower():  # the tokenizer keeps ё and е apart; Russian often writes е
            forms.add(word.replace("ё", "е").replace("Ё", "Е"))
        star = "*" if prefix else ""
        terms = sorted(_quote(f) + star for f in forms)
    else:
        terms = sorted(_quote(s) + "*" for s in stem(word, language))
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def fts_query(text: str, *, stemmed: bool = False, language: str | None = None) -> str:
    """Turn what a user typed into an FTS5 query.

    Words are quoted (so `round-table` or `Іс-шаралар` are phrases, not syntax errors);
    `word*` is a prefix; `"exact phrase"`, AND, OR, NOT, parentheses, NEAR(a b, 5) and the
    column filters `title:word` / `text:word` keep their FTS5 meaning. With `stemmed`,
    each plain word becomes its stem as a prefix (storage.stemming), for inflected forms.
    Malformed input (an unclosed quote or parenthesis, a dangling operator) is left for
    FTS5 to reject, and `search` reports that as a BadQuery.
    """
    out: list[str] = []
    near_depth: list[bool] = []  # for each open parenthesis: is it NEAR( ?
    # FTS5 in SQLite before 3.41 refuses an implicit AND before "(", so write every AND.
    after_operand = False

    def operand(*parts: str) -> None:
        nonlocal after_operand
        if after_operand and not (near_depth and near_depth[-1]):
            out.append("AND")
        out.extend(parts)
        after_operand = True

    for match in _QUERY_TOKEN.finditer(text):
        token = match.group()
        if token.isspace():
            continue
        if token == "(":
            is_near = bool(out) and out[-1] == "NEAR"
            if not is_near and after_operand and not (near_depth and near_depth[-1]):
                out.append("AND")
            near_depth.append(is_near)
            out.append(token)
            after_operand = False
        elif token == ")":
            if near_depth:
                near_depth.pop()
            out.append(token)
            after_operand = True
        elif token == ",":
            if near_depth and near_depth[-1]:
                out.append(token)
        elif token in _OPERATORS:
            out.append(token)
            after_operand = False
        elif token == "NEAR":
            if after_operand:
                out.append("AND")
            out.append(token)
            after_operand = False
        elif near_depth and near_depth[-1] and out and out[-1] == ",":
            out.append(token)  # the distance of NEAR(a b, 5), checked by FTS5
        elif token.startswith('"'):
            operand(token)
        else:
            column, sep, rest = token.partition(":")
            if sep and column in _COLUMNS:
                term = _term(rest, stemmed=stemmed, language=language) if rest else None
                if term:
                    operand(f"{column} :", term)
                else:  # "title:" followed by a phrase or a group
                    if after_operand and not (near_depth and near_depth[-1]):
                        out.append("AND")
                    out.append(f"{column} :")
                    after_operand = False
                continue
            term = _term(token, stemmed=stemmed, language=language)
            if term:
                operand(term)
    query = " ".join(out)
    if not query.strip():
        raise BadQuery(f"search query {text!r} has no words to look for")
    return query


# Private-use characters mark matches in snippets; callers render them (bold, **…**).
MARK_START, MARK_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    version: int
    latest: bool
    status: str
    language: str | None
    title: str | None
    date_published: str | None
    url: str
    categories: list[str]
    snippet: str  # matches between MARK_START and MARK_END
    score: float  # bm25: lower is better

    def to_json(self, mark: tuple[str, str] = ("**", "**")) -> dict[str, Any]:
        data = asdict(self)
        data["snippet"] = render_marks(self.snippet, *mark)
        return data


def render_marks(text: str, start: str, end: str) -> str:
    return text.replace(MARK_START, start).replace(MARK_END, end)


@dataclass(frozen=True)
class SearchResult:
    query: str  # what the user typed
    fts_query: str  # what FTS5 was asked
    total: int
    hits: list[SearchHit] = field(default_factory=list)


SEARCH_SORTS = ("rank", "published", "-published")
# What SQLite says about a query it cannot parse (as opposed to a broken database).
_QUERY_ERRORS = ("fts5", "no such column", "unknown special query", "expected integer", "syntax error",
                 "unterminated string")


def search(conn: sqlite3.Connection, text: str, filters: Filters = Filters(), *, all_versions: bool = False,
           stemmed: bool = False, limit: int = 20, offset: int = 0, sort: str = "rank",
           snippet_tokens: int = 16) -> SearchResult:
    """Full-text search over titles and texts: latest versions, or every version.

    Ranked by bm25 with title matches weighted four times text matches.
    Example: ``search(archive.conn, 'реформ*', Filters(languages=("ru",)))``
    """
    language = filters.languages[0] if len(filters.languages) == 1 else None
    query = fts_query(text, stemmed=stemmed, language=language)
    where, params = filters.sql(all_versions=True)
    if not all_versions:
        where += " AND v.version = d.versions"
    if sort not in SEARCH_SORTS:
        raise BadQuery(f"unknown sort {sort!r}; choose one of {', '.join(SEARCH_SORTS)}")
    order = {
        "rank": "score, v.doc_id, v.version",
        "published": "v.date_published IS NULL, v.date_published, v.doc_id, v.version",
        "-published": "v.date_published IS NULL, v.date_published DESC, v.doc_id DESC, v.version DESC",
    }[sort]
    base = (
        "FROM fulltext JOIN versions v ON v.text_id = fulltext.rowid JOIN documents d ON d.doc_id = v.doc_id "
        f"WHERE fulltext MATCH ? AND {where}"
    )
    # Snippets in a second query, for the page of hits only: in the first, SQLite would
    # compute one for every match before sorting (reading and re-tokenizing every text).
    select = (
        "SELECT fulltext.rowid AS text_id, v.doc_id, v.version, v.version = d.versions AS latest, d.status, "
        "v.language, v.title, v.date_published, v.url, v.categories, bm25(fulltext, 4.0, 1.0) AS score "
        f"{base} ORDER BY {order} LIMIT ? OFFSET ?"
    )
    try:
        rows = conn.execute(select, [query, *params, limit, offset]).fetchall()
        total = conn.execute(f"SELECT COUNT(*) {base}", [query, *params]).fetchone()[0]
        text_ids = sorted({r["text_id"] for r in rows})
        snippets = dict(conn.execute(
            f"SELECT rowid, snippet(fulltext, 1, '{MARK_START}', '{MARK_END}', '…', ?) FROM fulltext "
            f"WHERE fulltext MATCH ? AND rowid IN ({', '.join('?' * len(text_ids))})",
            [snippet_tokens, query, *text_ids],
        ).fetchall()) if text_ids else {}
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if any(sign in message for sign in _QUERY_ERRORS):
            raise BadQuery(f"malformed search query {text!r}: {message} "
                           '(quote phrases with "…", balance parentheses, put AND/OR/NOT between words)') from None
        raise StorageError(f"search failed: {message} (`kisi-archive reindex` rebuilds the index)") from None
    hits = [
        SearchHit(doc_id=r["doc_id"], version=r["version"], latest=bool(r["latest"]), status=r["status"],
                  language=r["language"], title=r["title"], date_published=r["date_published"], url=r["url"],
                  categories=json.loads(r["categories"]), snippet=snippets.get(r["text_id"]) or "",
                  score=round(r["score"], 4))
        for r in rows
    ]
    return SearchResult(query=text, fts_query=query, total=total, hits=hits)


@dataclass(frozen=True)
class AttachmentHit:
    doc_id: str
    version: int
    latest: bool
    status: str
    language: str | None
    title: str | None  # of the post
    date_published: str | None
    url: str  # of the attachment
    label: str | None
    sha256: str
    snippet: str
    score: float

    def to_json(self, mark: tuple[str, str] = ("**", "**")) -> dict[str, Any]:
        data = asdict(self)
        data["snippet"] = render_marks(self.snippet, *mark)
        return data


def search_attachments(conn: sqlite3.Connection, text: str, filters: Filters = Filters(), *,
                       all_versions: bool = False, stemmed: bool = False, limit: int = 20, offset: int = 0,
                       snippet_tokens: int = 16) -> tuple[str, int, list[AttachmentHit]]:
    """Full-text search of the attachments' text (PDFs), with the posts that link them:
    (FTS5 query, total, hits). Each hit is one attachment of one version (the latest of
    each document unless all_versions).
    Example: ``search_attachments(archive.conn, 'трансформац*')``
    """
    language = filters.languages[0] if len(filters.languages) == 1 else None
    query = fts_query(text, stemmed=stemmed, language=language)
    where, params = filters.sql(all_versions=True)
    if not all_versions:
        where += " AND v.version = d.versions"
    base = ("FROM attachment_fulltext JOIN attachment_texts t ON t.text_id = attachment_fulltext.rowid "
            "JOIN attachments a ON a.sha256 = t.sha256 JOIN versions v ON v.doc_id = a.doc_id AND v.version = a.version "
            f"JOIN documents d ON d.doc_id = v.doc_id WHERE attachment_fulltext MATCH ? AND {where}")
    select = ("SELECT a.doc_id, a.version, v.version = d.versions AS latest, d.status, v.language, v.title, "
              "v.date_published, a.url, a.label, a.sha256, bm25(attachment_fulltext) AS score, "
              f"snippet(attachment_fulltext, 0, '{MARK_START}', '{MARK_END}', '…', ?) AS snippet "
              f"{base} ORDER BY score, a.doc_id, a.version, a.position LIMIT ? OFFSET ?")
    try:
        rows = conn.execute(select, [snippet_tokens, query, *params, limit, offset]).fetchall()
        total = conn.execute(f"SELECT COUNT(*) {base}", [query, *params]).fetchone()[0]
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if any(sign in message for sign in _QUERY_ERRORS):
            raise BadQuery(f"malformed search query {text!r}: {message}") from None
        raise StorageError(f"search failed: {message} (`kisi-archive reindex` rebuilds the index)") from None
    hits = [AttachmentHit(doc_id=r["doc_id"], version=r["version"], latest=bool(r["latest"]), status=r["status"],
                          language=r["language"], title=r["title"], date_published=r["date_published"], url=r["url"],
                          label=r["label"], sha256=r["sha256"], snippet=r["snippet"] or "", score=round(r["score"], 4))
            for r in rows]
    return query, total, hits


# -- stats -------------------------------------------------------------------------------
def stats(conn: sqlite3.Connection, filters: Filters = Filters()) -> dict[str, Any]:
    """Counts of documents and versions, overall and by language, category and year."""
    where, params = filters.sql()
    totals = conn.execute(
        "SELECT COUNT(*) AS documents, COALESCE(SUM(d.versions), 0) AS versions, "
        "COALESCE(SUM(d.versions > 1), 0) AS changed, COALESCE(SUM(d.status = 'removed'), 0) AS removed, "
        "COALESCE(SUM(d.captures), 0) AS captures, MIN(d.first_seen) AS first_capture, "
        f"MAX(d.last_seen) AS last_capture FROM documents d WHERE {where}",
        params,
    ).fetchone()
    minor = conn.execute(
        f"SELECT COUNT(*) FROM versions v JOIN documents d ON d.doc_id = v.doc_id WHERE v.minor AND {where}", params
    ).fetchone()[0]

    def grouped(key: str, label: str, joins: str = "", order: str = "documents DESC, k") -> list[dict[str, Any]]:
        rows = conn.execute(
            f"SELECT {key} AS k, COUNT(*) AS documents, SUM(d.versions) AS versions, "
            f"SUM(d.versions > 1) AS changed, SUM(d.status = 'removed') AS removed "
            f"FROM documents d {joins} WHERE {where} GROUP BY k ORDER BY {order}",
            params,
        ).fetchall()
        return [{label: r["k"], "documents": r["documents"], "versions": r["versions"], "changed": r["changed"],
                 "removed": r["removed"]} for r in rows]

    return {
        "documents": totals["documents"],
        "versions": totals["versions"],
        "changed": totals["changed"],
        "removed": totals["removed"],
        "minor_versions": minor,
        "captures": totals["captures"],
        "first_capture": totals["first_capture"],
        "last_capture": totals["last_capture"],
        "by_language": grouped("d.language", "language"),
        "by_category": grouped(
            "c.name", "category",
            "LEFT JOIN categories c ON c.doc_id = d.doc_id AND c.version = d.versions"),
        "by_year": grouped("substr(d.date_published, 1, 4)", "year", order="k IS NULL, k DESC"),
        "filters": filters.to_json(),
    }
