"""Regression guard: the load bench on a reference commit and on the working tree, interleaved.

    .venv/bin/python bench/compare.py REF [--rounds 3] [--sessions 100] [--modes single]
                                          [--events 10] [--think-ms 1000] [--microsoft own-process]

REF (a commit, branch or tag) is checked out into a temporary `git worktree`; both sides run
with this checkout's virtual environment (`PYTHONPATH` points each run at its own code) and
this checkout's bench (`bench/load.py` and its harness are copied into REF's worktree, so an
older REF can be measured with a newer option, and only the portal's code differs). The runs
alternate A B B A A B ... so that the
machine's load, which drifts, falls on both sides alike; absolute figures on a shared
machine are inflated, their ratio is fair.

Printed: every run (median, p95, server CPU per event, errors, the 1-minute load average
before the run), then per side the median over its runs, and the ratio working tree / REF of
p95 and CPU per event (below 1: the working tree is faster). Exit status 0 always: this is a
measuring tool, not a timed test (timings on a shared machine would make a flaky gate).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _describe_working_tree() -> str:
    head = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def _run_bench(checkout: Path, args: argparse.Namespace) -> list[dict]:
    """One `bench/load.py` run of `checkout`'s code; its JSON result lines."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout)  # this side's opkalla_portal, before the venv's editable install
    command = [
        sys.executable,
        str(checkout / "bench" / "load.py"),
        "--sessions",
        args.sessions,
        "--modes",
        args.modes,
        "--events",
        str(args.events),
        "--think-ms",
        str(args.think_ms),
    ]
    if args.microsoft != "in-worker":
        command += ["--microsoft", args.microsoft]
    load_before = os.getloadavg()[0]
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench/load.py failed in {checkout}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for result in results:
        result["load_before"] = round(load_before, 1)
    return results


def _check_imports(checkout: Path) -> None:
    """Each side must really run its own code (not the venv's editable install of this tree)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    found = subprocess.run(
        [sys.executable, "-c", "import opkalla_portal.db as m; print(m.__file__)"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{checkout} imports opkalla_portal from {found}: cannot compare")


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", help="the commit to compare against (e.g. main, e141827)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per side")
    parser.add_argument("--sessions", default="100", help="as bench/load.py --sessions (one count is best)")
    parser.add_argument("--modes", default="single", help="as bench/load.py --modes")
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--microsoft", default="in-worker", help="as bench/load.py --microsoft")
    args = parser.parse_args()

    ref_commit = _git("rev-parse", "--short", args.ref)
    work_label = _describe_working_tree()
    runs: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="opkalla-compare-") as tmp:
        ref_dir = Path(tmp) / "ref"
        _git("worktree", "add", "--detach", str(ref_dir), ref_commit)
        # Both sides run this checkout's bench (REF's may predate an option such as --microsoft):
        # only the portal's code differs between the two.
        for bench_file in ("bench/load.py", "tests/scaleout/harness.py"):
            shutil.copyfile(ROOT / bench_file, ref_dir / bench_file)
        try:
            sides = {"ref": ref_dir, "work": ROOT}
            for side in sides.values():
                _check_imports(side)
            print(
                f"REF  = {args.ref} ({ref_commit})\nwork = working tree ({work_label})\n"
                f"bench: load.py --sessions {args.sessions} --modes {args.modes} --events {args.events} "
                f"--think-ms {args.think_ms}; {args.rounds} runs each, interleaved",
                flush=True,
            )
            for round_ in range(args.rounds):
                order = ["ref", "work"] if round_ % 2 == 0 else ["work", "ref"]  # A B B A A B ...
                for side in order:
                    for result in _run_bench(sides[side], args):
                        runs.append((side, result))
                        print(
                            f"  {side:4} {result['mode']} {result['sessions']:>4} sessions: "
                            f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, "
                            f"CPU/event {result['server_cpu_ms_per_event']} ms, errors {result['errors']}, "
                            f"load {result['load_before']}→{result['load_average']}; slowest "
                            f"{result['slowest_routes_p95_ms']}",
                            flush=True,
                        )
        finally:
            _git("worktree", "remove", "--force", str(ref_dir))

    print("\n| side | commit | mode | sessions | runs | median ms | p95 ms | server CPU ms/event | errors | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    summary: dict[tuple[str, str, int], dict] = {}
    for side, label in (("ref", ref_commit), ("work", work_label)):
        keys = sorted({(r["mode"], r["sessions"]) for s, r in runs if s == side})
        for mode, sessions in keys:
            mine = [r for s, r in runs if s == side and r["mode"] == mode and r["sessions"] == sessions]
            row = {
                "median": _median([r["median_ms"] for r in mine]),
                "p95": _median([r["p95_ms"] for r in mine]),
                "cpu": _median([r["server_cpu_ms_per_event"] for r in mine]),
                "errors": sum(r["errors"] for r in mine),
                "load": f"{min(r['load_average'] for r in mine)}–{max(r['load_average'] for r in mine)}",
            }
            summary[(side, mode, sessions)] = row
            print(
                f"| {side} | {label} | {mode} | {sessions} | {len(mine)} | {row['median']} | {row['p95']} | "
                f"{row['cpu']} | {row['errors']} | {row['load']} |"
            )
    print("\nRatio working tree / REF (medians over runs; below 1 = faster):")
    for (side, mode, sessions), work in summary.items():
        ref = summary.get(("ref", mode, sessions)) if side == "work" else None
        if ref:
            print(
                f"  {mode} {sessions} sessions: p95 ×{work['p95'] / ref['p95']:.2f}, "
                f"median ×{work['median'] / ref['median']:.2f}, CPU/event ×{work['cpu'] / ref['cpu']:.2f}"
            )


if __name__ == "__main__":
    main()
