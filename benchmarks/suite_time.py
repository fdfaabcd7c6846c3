"""The test suite's time, before and after in one sitting (issue 29: "halve it").

    python benchmarks/suite_time.py --before /path/to/old/checkout [--write]

Runs, one after another on this machine: the old checkout's suite as that checkout runs it (its
own pyproject's pytest options), this checkout's whole suite, and this checkout's suite limited to
the tests whose ids the old checkout also has (the same tests: the suite grew since). Each runs in
its own checkout with PYTHONPATH set to it and this interpreter. Prints a table (wall seconds,
CPU seconds of the processes it started, tests passed) and, with --write, writes it to
benchmarks/results/suite_time.md.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def run(checkout: Path, arguments: list[str] = ()) -> dict:
    """Wall and CPU seconds of one pytest run in `checkout`, and its summary line."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*PYTEST, *arguments], cwd=checkout, env=environment, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    return {"wall": wall, "cpu": cpu, "summary": summary, "code": done.returncode}


def test_ids(checkout: Path) -> set[str]:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [*PYTEST, "--collect-only", "-n", "0"],  # pytest-xdist is installed here either way
        cwd=checkout, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {line for line in done.stdout.splitlines() if "::" in line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the old checkout")
    parser.add_argument(
        "--write", action="store_true", help="write benchmarks/results/suite_time.md"
    )
    options = parser.parse_args()
    before = options.before.resolve()
    old_ids, new_ids = test_ids(before), test_ids(HERE)
    added = sorted(new_ids - old_ids)
    rows = {
        "before": run(before),
        "this checkout": run(HERE),
        "this checkout, the before's tests only": run(
            HERE, [f"--deselect={test_id}" for test_id in added]
        ),
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    ).stdout.strip()
    old_commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=before, capture_output=True, text=True
    ).stdout.strip()
    base = rows["before"]["wall"]
    lines = [
        f"# The test suite, before ({old_commit}) and after ({commit}) in one sitting",
        "",
        f"`python benchmarks/suite_time.py --before <checkout of {old_commit}> --write`, "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. The same tests: of the "
        f"{len(old_ids)} test ids of {old_commit}, this checkout still has "
        f"{len(old_ids & new_ids)} ({len(old_ids - new_ids)} were renamed or removed); "
        f"{len(added)} of its tests are new.",
        "",
        "| suite | wall seconds | ratio | CPU seconds | result |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        passed = re.sub(r"\s+in [\d.]+s.*", "", row["summary"].strip("= "))
        lines.append(
            f"| {name} | {row['wall']:.1f} | {row['wall'] / base:.2f}× | {row['cpu']:.0f} "
            f"| {passed} (exit {row['code']}) |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if options.write:
        (HERE / "benchmarks" / "results" / "suite_time.md").write_text(text)


if __name__ == "__main__":
    main()
