"""Faults: read-only and unwritable archives, full disks, odd paths, leftovers of killed
processes, and the index rebuilt while a writer writes.

Real processes, a real file system (read-only bind mounts and small tmpfs mounts: the tests
run as root here; each such test is skipped, with the reason, where mounting is refused)
and real SQLite.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from storage import Archive
from storage.files import TEMP_PREFIX

from test_storage import capture
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True)


@contextlib.contextmanager
def mounted(kind: str, target: Path, source: Path | None = None, size: str = "2m") -> Iterator[Path]:
    """A read-only bind mount of `source` (kind "ro"), or a tmpfs of `size` ("tmpfs"), at target."""
    target.mkdir(parents=True, exist_ok=True)
    if kind == "ro":
        steps = [["mount", "--bind", str(source), str(target)], ["mount", "-o", "remount,bind,ro", str(target)]]
    else:
        steps = [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)]]
    done = 0
    try:
        for step in steps:
            result = _run(*step)
            if result.returncode != 0:
                pytest.skip(f"cannot mount here ({' '.join(step)}: {result.stderr.strip() or result.returncode})")
            done += 1
        yield target
    finally:
        if done:
            _run("umount", str(target))


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


# -- read-only and unwritable archives ---------------------------------------------------
READS = ("list", "list --json", "show {doc}", "history {doc}", "diff {doc}", "search round", "stats", "runs",
         "status", "verify", "export", "export --format csv")


def test_every_read_command_works_on_a_read_only_mount(site, cli: Cli, tmp_path: Path) -> None:
    cli.crawl(site)
    ids = {d["doc_id"] for d in cli("list", "--json").json()}
    doc = sorted(ids)[0]
    with mounted("ro", tmp_path / "ro", cli.archive) as ro:
        before = sorted(p.name for p in ro.iterdir())
        for command in READS:
            result = cli(*command.format(doc=doc).split(), "--archive", str(ro), check=False)
            assert result.code == 0, (command, result.err)
            no_traceback(result.out, result.err)
        assert sorted(p.name for p in ro.iterdir()) == before
        # A command that writes says so in one sentence.
        result = cli("reindex", "--archive", str(ro), check=False)
        assert result.code == 1 and "this command writes the archive" in one_error_line(result.err)

        # An index this kisi-archive cannot read, on media it cannot rebuild it on: the
        # snapshot files are read instead, with a warning saying what to do.
        with contextlib.closing(sqlite3.connect(cli.archive / "index.sqlite")) as conn, conn:
            conn.execute("UPDATE meta SET value = '1' WHERE key = 'index_schema'")
        before = sorted(p.name for p in ro.iterdir())
        listed = cli("list", "--json", "--archive", str(ro))
        assert {d["doc_id"] for d in listed.json()} == ids
        assert "reads the snapshot files" in listed.err and "kisi-archive reindex" in listed.err
        assert cli("search", "round", "--archive", str(ro)).code == 0
        assert sorted(p.name for p in ro.iterdir()) == before


def test_an_archive_the_user_cannot_write_reads_without_a_lock_file(site, cli: Cli) -> None:
    cli.crawl(site)
    # pytest's own folders are private to root: a copy where any user may read (not write).
    shared = Path(tempfile.mkdtemp(prefix="kisi-faults-"))
    try:
        os.chmod(shared, 0o755)
        archive = shared / "archive"
        shutil.copytree(cli.archive, archive)
        (archive / ".index.lock").unlink()
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        probe = subprocess.run([*nobody, sys.executable, "-m", "scheduler.cli", "--version"], capture_output=True,
                               text=True, cwd=ROOT)
        if probe.returncode != 0:
            pytest.skip(f"cannot run kisi-archive as nobody here: {probe.stderr.strip()[-200:]}")
        env = dict(cli.env, KISI_ARCHIVE_DIR=str(archive))
        for command in ("list", "search round", "verify", "stats", "export"):
            proc = subprocess.run([*nobody, sys.executable, "-m", "scheduler.cli", *command.split()], env=env,
                                  capture_output=True, text=True, cwd=ROOT)
            assert proc.returncode == 0, (command, proc.stderr)
            no_traceback(proc.stdout, proc.stderr)
        assert not (archive / ".index.lock").exists()
    finally:
        shutil.rmtree(shared)


def test_odd_characters_in_the_archive_path(tmp_path: Path) -> None:
    root = tmp_path / "a #b?c%20d é ü" / "archive"
    with Archive.open(root, create=True) as archive:
        archive.record_capture(capture())
    inode = os.stat(root / "index.sqlite").st_ino
    with Archive.open_for_reading(root) as reader:
        assert reader.readonly and [d.doc_id for d in reader.list_documents()] == ["kisi.kz-en-2368"]
    with Archive.open(root) as writer:
        writer.record_capture(replace(capture(), post_id=2369, url="https://kisi.kz/en/other/", canonical_url=None,
                                      final_url="https://kisi.kz/en/other/", shortlink=None))
        assert len(writer.list_documents()) == 2
        assert writer.verify().ok
    assert os.stat(root / "index.sqlite").st_ino == inode  # never rebuilt for want of reading it


# -- the index rebuilt beside a writer -----------------------------------------------------
WRITER = """
import sys
from dataclasses import replace
sys.path[:0] = [{tests!r}, {root!r}]
from storage import Archive
from test_storage import capture
with Archive.open({archive!r}) as archive:
    for n in range({count}):
        archive.record_capture(replace(capture(), post_id=10000 + n, url=f"https://kisi.kz/en/p{{n}}/",
                                       final_url=f"https://kisi.kz/en/p{{n}}/", canonical_url=None, shortlink=None,
                                       title=f"Post {{n}}"))
"""


def start_writer(root: Path, count: int) -> subprocess.Popen[str]:
    code = WRITER.format(tests=str(ROOT / "tests"), root=str(ROOT), archive=str(root), count=count)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_reindex_and_verify_beside_a_writer_lose_nothing_and_report_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Archive.open(root, create=True).close()
    with Archive.open(root) as archive:
        archive.conn  # the index exists before the writer starts
    writer = start_writer(root, 300)
    reindexes = verifies = 0
    problems: list[str] = []
    while writer.poll() is None:
        with Archive.open(root) as archive:
            archive.reindex()
            reindexes += 1
            report = archive.verify()
            verifies += 1
            problems += report.errors + report.warnings
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert reindexes >= 2 and verifies >= 2
    assert problems == []  # no false error, not even a warning, while the writer wrote
    with Archive.open(root, readonly=True) as reader:
        assert len(reader.list_documents()) == 300  # no index row lost to a rebuild
    with Archive.open(root) as archive:
        report = archive.verify()
        assert report.ok and report.repaired == [] and report.documents == 300


# -- leftovers of killed processes -------------------------------------------------------
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_killed_builds_and_exports_are_reported_then_removed(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root, create=True) as archive:
        archive.record_capture(capture())
    pid = dead_pid()
    build = root / f"{TEMP_PREFIX}index.sqlite.{pid}.0badf00d"
    build.write_bytes(b"half an index")
    Path(f"{build}-journal").write_bytes(b"")
    live = root / f"{TEMP_PREFIX}index.sqlite.{os.getppid()}.12345678"  # a live process's: kept
    live.write_bytes(b"")
    with Archive.open(root, readonly=True) as reader:
        warnings = reader.verify().warnings
    assert any(build.name in w and "killed process" in w for w in warnings), warnings
    with Archive.open(root) as writer:
        writer.conn
    assert not build.exists() and not Path(f"{build}-journal").exists() and live.exists()

    out = tmp_path / "out" / "events.jsonl"
    out.parent.mkdir()
    stale = out.parent / f"{TEMP_PREFIX}events.jsonl.{pid}.deadbeef"
    stale.write_bytes(b"x" * 1000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    proc = subprocess.run([sys.executable, "-m", "scheduler.cli", "export", "--archive", str(root), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and not stale.exists()


# -- full disks ------------------------------------------------------------------------------
def test_a_full_disk_is_one_sentence_and_a_failed_run_and_loses_nothing(site, cli: Cli, tmp_path: Path) -> None:
    with mounted("tmpfs", tmp_path / "small", size="1m") as disk:
        archive = disk / "archive"
        result = cli.crawl(site, "--archive", str(archive), check=False)
        assert result.code == 1
        no_traceback(result.out, result.err)
        line = one_error_line(result.err)
        assert "disk full writing" in line and "stored before it; nothing lost" in line, line
        assert json.loads(result.out)["outcome"] == "failed"
        runs = cli("runs", "--json", "--archive", str(archive)).json()
        assert runs[0]["outcome"] == "failed" and runs[0]["reason"].startswith("disk full writing")
        stored = int(runs[0]["reason"].split("; ")[1].split()[0])
        verify = cli("verify", "--json", "--archive", str(archive))
        assert verify.json()["ok"] and verify.json()["versions"] >= stored
        # Room again: the next crawl completes, and nothing stored before was lost or changed.
        assert _run("mount", "-o", "remount,size=40m", str(disk)).returncode == 0
        assert cli.crawl(site, "--archive", str(archive)).json()["outcome"] == "completed"
        reference = cli.crawl(site).json()
        assert reference["outcome"] == "completed"
        assert documents_of(archive) == documents_of(cli.archive)
        assert cli("verify", "--archive", str(archive)).code == 0


def test_an_archive_whose_creation_filled_the_disk_does_not_block_later_crawls(site, cli: Cli,
                                                                              tmp_path: Path) -> None:
    with mounted("tmpfs", tmp_path / "small", size="40m") as disk:
        filler = disk / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        archive = disk / "archive"
        result = cli.crawl(site, "--archive", str(archive), check=False)
        assert result.code == 1
        no_traceback(result.out, result.err)
        assert "disk full writing" in one_error_line(result.err)
        filler.unlink()
        assert cli.crawl(site, "--archive", str(archive)).json()["outcome"] == "completed"


def documents_of(root: Path) -> dict[str, list[str]]:
    """Every document of an archive with the content hash of each of its versions, in order."""
    with Archive.open(root, readonly=True) as archive:
        found: dict[str, list[str]] = {}
        for snapshot in archive.iter_snapshots():
            found.setdefault(snapshot["doc_id"], []).append(snapshot["content_sha256"])
        return found


# warcio leaves the temporary buffer of the record it was building to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_full_disk_mid_record_leaves_the_warc_file_ending_with_a_whole_record(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from storage.warcfiles import Exchange, WarcLog, check_file

    with mounted("tmpfs", tmp_path / "small", size="256k") as disk:
        log = WarcLog(disk, "run.warc.gz", {"software": "test"})
        written = 0
        with pytest.raises(OSError):
            for n in range(100):
                body = os.urandom(60_000)  # incompressible: the disk fills within a few records
                log.write(Exchange(url=f"https://example.org/{n}/", method="GET", request_headers=[("Host", "example.org")],
                                   status=200, response_headers=[("Content-Type", "text/html")], body=body,
                                   fetched_at=datetime(2026, 12, 1, tzinfo=timezone.utc)))
                written += 2  # its response and its request
        with contextlib.suppress(OSError, sqlite3.Error):
            log.close()  # closes its files even when the disk refuses the last writes
        check = check_file(disk, log.name)
        assert written and check.problems == [] and check.records in (1 + written, 1 + written + 1)
