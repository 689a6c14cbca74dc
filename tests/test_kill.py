"""SIGKILL trials and concurrent processes against real `kisi-archive` crawls.

The trials themselves are in tests/kill_trials.py (bench/bench_kill.py runs 50+ of them).
"""
from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from kill_trials import BIN, crawl, documents_of, env_for, run_chain, verify
from scheduler.lock import is_held
from storage.layout import CRAWL_LOCK

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHAINS, KILLS_PER_CHAIN = 2, 5  # 10 kills at random instants


def test_sigkill_at_random_instants_loses_nothing(site, tmp_path: Path) -> None:
    started = time.monotonic()
    reference = crawl(site.url, tmp_path / "reference")
    span = time.monotonic() - started  # kill somewhere within a whole crawl's time
    assert reference["outcome"] == "completed"
    expected = documents_of(tmp_path / "reference")
    rng = random.Random(20261201)
    chains = [run_chain(site.url, tmp_path / f"trial-{n}", expected, KILLS_PER_CHAIN, span, rng, n)
              for n in range(CHAINS)]
    kills = [kill for chain in chains for kill in chain.kills]
    assert len(kills) >= 10
    assert [k for k in kills if not k.verify_ok or k.traceback] == []
    assert [(c.number, c.lost, c.extra, c.final_verify_ok, c.left_running) for c in chains] == \
        [(c.number, 0, 0, True, 0) for c in chains]
    assert any(k.versions_before for k in kills)  # some kills landed while versions were being stored


def test_two_crawls_readers_and_reindex_at_once(site, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    crawl(site.url, reference)
    archive = tmp_path / "archive"
    env = env_for(archive)
    with site.modify() as state:
        state.slow_down("/en/category/events/", 1.0)  # a first crawl long enough to run beside
    first = subprocess.Popen([str(BIN), "crawl", "--site", site.url + "/en/", "--category", "events", "--json"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (archive / CRAWL_LOCK).exists() or not is_held(archive / CRAWL_LOCK):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = subprocess.run([str(BIN), "crawl", "--site", site.url + "/en/", "--category", "events", "--json"],
                            env=env, capture_output=True, text=True)
    assert second.returncode == 4  # busy: refused with a sentence that names the holder
    assert json.loads(second.stdout)["outcome"] == "busy"
    assert "Traceback" not in second.stderr and "crawl run" in second.stderr
    readers = reindexes = 0
    while first.poll() is None:
        for command in (["list", "--json"], ["search", "round"], ["stats"], ["verify"], ["reindex"]):
            proc = subprocess.run([str(BIN), *command], env=env, capture_output=True, text=True)
            assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
            assert "Traceback" not in proc.stderr
            readers += 1
            reindexes += command == ["reindex"]
    out, err = first.communicate()
    assert first.returncode == 0, err
    assert readers >= 5 and reindexes >= 1
    report = verify(archive)
    assert report["ok"] and report["repaired"] == []  # no index row was lost to a reindex
    listed = subprocess.run([str(BIN), "list", "--json"], env=env, capture_output=True, text=True)
    assert {d["doc_id"] for d in json.loads(listed.stdout)} == set(documents_of(reference))
    assert documents_of(archive) == documents_of(reference)
