"""The layers, as one sentence a test enforces: scheduler -> crawler -> storage -> standard library.

Every module's imports are read with `ast` (nothing is imported), so a crossing fails here
whatever code path would have reached it.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("storage", "crawler", "scheduler")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# Third-party packages each layer may use. Anything else a layer imports is a crossing.
ALLOWED: dict[str, set[str]] = {
    # A plain library: no Scrapy, Twisted, APScheduler or CLI framework. warcio (pure Python,
    # streams and digests only) reads and writes the archive's own WARC files.
    "storage": {"warcio"},
    # Scrapy and its stack, the extractor and its parsers, the PDF reader, the crawl's progress
    # bar (tqdm); never the scheduler, APScheduler or click.
    "crawler": {"storage", "scrapy", "twisted", "trafilatura", "lxml", "w3lib", "parsel", "itemadapter",
                "pypdfium2", "tqdm"},
    # Orchestration and the CLI; crawls run in a child process, so no Scrapy or Twisted here.
    "scheduler": {"storage", "crawler", "apscheduler", "click", "starlette", "jinja2", "uvicorn",
                  "prometheus_client", "markupsafe"},
    # The fixture WordPress site is a stand-alone program: the standard library only.
    "scheduler.demo_site": set(),
}


def modules() -> list[Path]:
    return sorted(p for package in PROJECT for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Top-level names (or project packages) that a module imports, relative imports resolved."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def layer_of(name: str) -> str:
    return "scheduler.demo_site" if name.startswith("scheduler.demo_site") else name.split(".")[0]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_go_down(path: Path) -> None:
    own = layer_of(module_name(path))
    crossings = []
    for name in sorted(imports(path)):
        top = name.split(".")[0]
        if top in STDLIB or layer_of(name) == own:
            continue
        if top in ALLOWED[own] or (own == "scheduler" and layer_of(name) == "scheduler.demo_site"):
            continue
        crossings.append(name)
    assert not crossings, f"{module_name(path)} ({own}) imports {crossings}"


def test_the_walker_resolves_relative_imports() -> None:
    found = imports(ROOT / "scheduler" / "runs.py")
    assert {"scheduler.lock", "scheduler.ledger", "crawler.config"} <= found
    assert layer_of("scheduler.demo_site.state") == "scheduler.demo_site"
