"""The extraction pool (crawler/pool.py): real worker processes, small pages."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crawler.extract import ExtractedPage
from crawler.pool import ExtractionFailed, PageJob, WorkerPool, extract

PAGE = (b'<html lang="en"><head><title>Round table | KazISS</title></head><body class="post-template-default single '
        b'single-post postid-7"><article id="post-7" class="post-7 post"><h1 class="entry-title">Round table</h1>'
        b'<div class="entry-content"><p>Experts of the institute discussed regional security and the economy of '
        b'Central Asia at a round table in Astana.</p></div></article></body></html>')


def job(n: int = 0) -> PageJob:
    return PageJob(PAGE.replace(b"Astana", f"Astana ({n})".encode()), "text/html; charset=UTF-8",
                   f"https://kisi.kz/en/round-table-{n}/", None)


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A task module the workers can import: it dies, hangs or answers, as its job says."""
    (tmp_path / "pool_tasks.py").write_text(textwrap.dedent('''
        import logging, os, sys, time
        from pathlib import Path

        def run(job):
            kind, _, arg = job.partition(":")
            if kind == "die":
                os._exit(3)
            if kind == "die-once" and not Path(arg).exists():
                Path(arg).write_text("died")
                os.kill(os.getpid(), 9)
            if kind == "hang":
                time.sleep(60)
            if kind == "raise":
                raise ValueError("bad page")
            if kind == "pid":
                return os.getpid()
            if kind == "slow":
                time.sleep(0.2)
                return arg
            print("noise on stdout")  # must not break the protocol
            logging.getLogger("crawler.extract").warning("worked on %s", job)
            return job.upper()

        def at_end():
            Path(os.environ["POOL_AT_END"]).write_text(str(os.getpid()))
    '''))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    return tmp_path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return status not in ("Z", "X")


def test_workers_extract_what_this_process_would() -> None:
    jobs = [job(n) for n in range(6)]
    with WorkerPool(2) as pool:
        pages = [future.result(timeout=60) for future in [pool.submit(j) for j in jobs]]
        assert len(pool.pids()) == 2
    assert all(isinstance(page, ExtractedPage) for page in pages)
    assert pages == [extract(j) for j in jobs]
    assert pages[3].title == "Round table" and "Astana (3)" in pages[3].text


def test_no_workers_extracts_here() -> None:
    with WorkerPool(0) as pool:
        future = pool.submit(job())
        assert future.done() and pool.pids() == []
    assert future.result() == extract(job())


def test_a_worker_that_dies_is_replaced_and_its_page_tried_again(tasks: Path, caplog: pytest.LogCaptureFixture) -> None:
    marker = tasks / "died-once"
    with WorkerPool(1, task="pool_tasks:run") as pool:
        first = pool.submit("pid").result(timeout=60)
        assert pool.submit(f"die-once:{marker}").result(timeout=60) == f"DIE-ONCE:{marker}".upper()
        assert marker.exists() and pool.restarts == 1 and pool.failed == 0
        assert pool.submit("pid").result(timeout=60) != first  # a fresh process
    assert not alive(first)
    assert "was killed by SIGKILL; starting another" in caplog.text


def test_a_page_that_kills_its_worker_twice_fails_alone(tasks: Path) -> None:
    with WorkerPool(2, task="pool_tasks:run") as pool:
        doomed = pool.submit("die")
        others = [pool.submit(f"page-{n}") for n in range(4)]
        with pytest.raises(ExtractionFailed, match="exited with code 3, and so did a fresh one"):
            doomed.result(timeout=60)
        assert [f.result(timeout=60) for f in others] == [f"PAGE-{n}" for n in range(4)]
        assert pool.failed == 1 and pool.restarts == 2


def test_the_next_page_a_lost_worker_held_goes_back_without_a_failure(tasks: Path) -> None:
    # One worker holds two jobs: the one it dies on, and the next, already in its pipe.
    with WorkerPool(1, task="pool_tasks:run", depth=2) as pool:
        doomed, after = pool.submit("die"), pool.submit("after")
        with pytest.raises(ExtractionFailed, match="exited with code 3, and so did a fresh one"):
            doomed.result(timeout=60)
        assert after.result(timeout=60) == "AFTER"
        assert pool.failed == 1 and pool.restarts == 2


def test_jobs_and_answers_larger_than_a_pipe_cross_both_ways(tasks: Path) -> None:
    # The worker writes an answer of 3 MB while the pool writes it the next job of 3 MB: were
    # either side to block on its write, neither would ever read.
    jobs = [f"big-{n}-" + "x" * (3 << 20) for n in range(4)]
    with WorkerPool(1, task="pool_tasks:run", depth=3, timeout=60) as pool:
        answers = [future.result(timeout=120) for future in [pool.submit(j) for j in jobs]]
    assert answers == [j.upper() for j in jobs]


def test_start_starts_the_workers_before_the_first_job(tasks: Path) -> None:
    with WorkerPool(2, task="pool_tasks:run") as pool:
        pool.start()
        deadline = time.monotonic() + 60
        while len(pool.pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(pool.pids()) == 2
        assert pool.submit("x").result(timeout=60) == "X"


def test_a_hung_worker_is_killed_and_the_page_fails_after_two_tries(tasks: Path) -> None:
    with WorkerPool(1, task="pool_tasks:run", timeout=1.0) as pool:
        started = time.monotonic()
        with pytest.raises(ExtractionFailed, match="did not answer within 1 s"):
            pool.submit("hang").result(timeout=60)
        assert time.monotonic() - started < 20
        assert pool.submit("after").result(timeout=60) == "AFTER"


def test_a_task_error_fails_the_page_without_a_retry(tasks: Path) -> None:
    with WorkerPool(1, task="pool_tasks:run") as pool:
        with pytest.raises(ExtractionFailed, match="ValueError: bad page"):
            pool.submit("raise").result(timeout=60)
        assert pool.restarts == 0


def test_worker_logs_come_back_and_stdout_noise_is_harmless(tasks: Path, caplog: pytest.LogCaptureFixture) -> None:
    with WorkerPool(1, task="pool_tasks:run") as pool:
        assert pool.submit("hello").result(timeout=60) == "HELLO"
    assert any(r.name == "crawler.extract" and r.getMessage() == "worked on hello" for r in caplog.records)


def test_close_can_let_the_queued_jobs_be_done_first(tasks: Path) -> None:
    pool = WorkerPool(1, task="pool_tasks:run")
    futures = [pool.submit(f"slow:{n}") for n in range(5)]
    pool.close(timeout=60, drain=True)
    assert [f.result(timeout=0) for f in futures] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("size", [1, 0], ids=["in-a-worker", "here"])
def test_the_tasks_at_end_runs_when_its_input_ends(tasks: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.syspath_prepend(str(tasks))
    monkeypatch.setenv("POOL_AT_END", str(tasks / "ended"))
    with WorkerPool(size, task="pool_tasks:run") as pool:
        assert pool.submit("x").result(timeout=60) == "X"
        assert not (tasks / "ended").exists()
    ended = int((tasks / "ended").read_text())
    assert (ended != os.getpid()) if size else (ended == os.getpid())


def test_workers_ignore_sigterm_and_end_with_the_pool(tasks: Path) -> None:
    pool = WorkerPool(2, task="pool_tasks:run")
    pool.submit("x").result(timeout=60)
    pids = pool.pids()
    for pid in pids:
        os.kill(pid, signal.SIGTERM)  # systemd or a terminal signalling the whole group
    time.sleep(0.5)
    assert all(alive(pid) for pid in pids)
    assert pool.submit("y").result(timeout=60) == "Y"
    pool.close()
    assert not any(alive(pid) for pid in pids)


def test_workers_die_with_a_killed_parent(tasks: Path) -> None:
    script = textwrap.dedent('''
        import sys, time
        from crawler.pool import WorkerPool
        pool = WorkerPool(2, task="pool_tasks:run")
        pool.submit("x").result(timeout=60)
        while len(pool.pids()) < 2:
            time.sleep(0.05)
        print(" ".join(map(str, pool.pids())), flush=True)
        time.sleep(60)
    ''')
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)


def test_extract_workers_setting() -> None:
    from crawler.config import ConfigError, extract_workers, load_config
    from storage.workers import cpu_count

    assert load_config(environ={}).extract_workers == "auto"
    assert extract_workers(load_config(environ={}).extract_workers) == cpu_count()
    assert extract_workers(load_config(environ={"KISI_EXTRACT_WORKERS": "0"}).extract_workers) == 0
    assert extract_workers(load_config(environ={"KISI_EXTRACT_WORKERS": "3"}).extract_workers) == 3
    with pytest.raises(ConfigError, match="KISI_EXTRACT_WORKERS: extract_workers takes auto, or a whole number"):
        load_config(environ={"KISI_EXTRACT_WORKERS": "-1"})


def test_the_worker_judges_the_decoding_and_the_verdict_travels_with_the_page() -> None:
    import dataclasses
    import pickle

    from crawler.guards import suspicious

    mojibake = PAGE.replace(b"Experts of the institute discussed",
                            "Эксперты института обсудили".encode("utf-8").decode("cp1252", "replace").encode("utf-8"))
    for body, verdict in ((PAGE, None), (mojibake, "decoded")):
        page = pickle.loads(pickle.dumps(extract(PageJob(body, "text/html; charset=UTF-8", "https://kisi.kz/en/x/", None))))
        fresh = dataclasses.replace(page)  # the same fields, judged here
        assert suspicious(page) == suspicious(fresh)
        assert (verdict or "") in (suspicious(page) or "") and bool(suspicious(page)) == bool(verdict)
        assert dataclasses.asdict(page) == dataclasses.asdict(fresh)  # the fields (golden files) are untouched
