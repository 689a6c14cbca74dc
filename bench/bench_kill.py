"""Kill trials, many: SIGKILL real `kisi-archive crawl` runs at random instants; nothing may be lost.

    .venv/bin/python bench/bench_kill.py [--trials 50] [--per-chain 2] [--seed 1]

Serves the fixture site (scheduler.demo_site) on 127.0.0.1, crawls it once into a clean
reference archive, then runs chains of trials (tests/kill_trials.py, the harness the test
suite runs a dozen of): each chain SIGKILLs `--per-chain` crawls into one archive at random
instants within a crawl's duration (parent and child, in either order; only the child; or
only the parent), running `kisi-archive verify` after each kill, then lets a crawl
complete and compares the archive with the reference (documents, versions' content
hashes), verifies again and counts runs left `running`.

Prints one line per chain and the figures: trials, lost and extra versions, verify
failures, tracebacks, runs left running, time. Exits 1 if any trial lost or broke anything.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from kill_trials import crawl, documents_of, run_chain  # noqa: E402
from scheduler.demo_site import SiteProcess, default_state  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--per-chain", type=int, default=2,
                        help="kills per archive before its follow-up crawl (1: every kill has its own)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-kill-") as tmp:
        work = Path(tmp)
        default_state().save(work / "site.json")
        with SiteProcess(work / "site.json", work / "requests.log") as site:
            started = time.monotonic()
            crawl(site.url, work / "reference")
            span = time.monotonic() - started
            reference = documents_of(work / "reference")
            versions = sum(len(v) for v in reference.values())
            print(f"reference: {len(reference)} documents, {versions} versions, crawled in {span:.1f} s")
            chains = []
            began = time.monotonic()
            number = 0
            while sum(len(c.kills) for c in chains) < args.trials:
                kills = min(args.per_chain, args.trials - sum(len(c.kills) for c in chains))
                chain = run_chain(site.url, work / f"trial-{number}", reference, kills, span, rng, number)
                chains.append(chain)
                modes = ",".join(k.mode for k in chain.kills)
                at = " ".join(f"{k.at:.2f}s/{k.versions_before}v" for k in chain.kills)
                print(f"chain {number:2d}: {len(chain.kills)} kills [{modes}] at {at}; lost {chain.lost}, "
                      f"extra {chain.extra}, verify {'ok' if chain.final_verify_ok else 'FAILED'}, "
                      f"running left {chain.left_running} ({chain.seconds:.1f} s)", flush=True)
                for kill in chain.kills:
                    for error in kill.verify_errors:
                        print(f"          verify after the kill at {kill.at:.2f}s: {error}", flush=True)
                number += 1
            seconds = time.monotonic() - began
    kills = [k for c in chains for k in c.kills]
    failed_verifies = sum(1 for k in kills if not k.verify_ok) + sum(1 for c in chains if not c.final_verify_ok)
    tracebacks = sum(1 for k in kills if k.traceback)
    lost, extra = sum(c.lost for c in chains), sum(c.extra for c in chains)
    running = sum(c.left_running for c in chains)
    during = sum(1 for k in kills if k.versions_before)
    print()
    print(f"trials (SIGKILLs)            {len(kills)}  (in {len(chains)} chains; {during} with versions already on disk)")
    print("by mode                      " + ", ".join(f"{m} {sum(1 for k in kills if k.mode == m)}"
                                                      for m in ("both", "child-first", "child", "parent")))
    print(f"lost versions                {lost}  (of {versions * len(chains)} expected)")
    print(f"extra versions               {extra}")
    print(f"verify failures              {failed_verifies}  (of {len(kills) + len(chains)} runs)")
    print(f"tracebacks                   {tracebacks}")
    print(f"runs left 'running'          {running}")
    print(f"time                         {seconds:.0f} s ({seconds / len(kills):.1f} s per trial, follow-ups included)")
    return 0 if all(c.ok for c in chains) else 1


if __name__ == "__main__":
    sys.exit(main())
