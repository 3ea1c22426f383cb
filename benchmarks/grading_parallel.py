"""Notebooks graded per minute by `seqcourse grade --jobs J`, for J = 1, 2, ..., on a synthetic class.

    .venv/bin/python benchmarks/grading_parallel.py [--assignment ch01_rnn] [--students 40] [--jobs 1 2]

The class: one assignment, `--students` submissions cycling through the solution, the untouched
exercise, each plausible wrong answer (tests/submissions/wrong_answers*.py) and the quick hostile
ones (tests/submissions/hostile.py: patched helpers, oracles, autograd, tampering, killing the
grader; not the ones that sit out a time limit, which measure the limit, not the grader). Each
J grades the same class from scratch into a fresh output folder (sandboxed, SQLite gradebook);
the speed-up is against J = 1 in the same run. Next to it, the machine's own ceiling: the
throughput of J copies of a CPU-bound Python loop run at once, against one copy (a virtual
machine's cores need not add up). Prints the machine, versions and every figure.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
QUICK_HOSTILE = ("patch_helpers", "patch_torch", "call_oracle", "autograd", "seqmodels", "read_solution",
                 "tamper", "kill_grader", "write_outside", "unplain_result")


def build_class(dest: Path, assignment: str, students: int) -> int:
    from submissions import hostile
    from submissions import notebooks as nbs
    from submissions.runs import real_course

    crs = real_course()
    name = next(n for a, n in crs.notebooks() if a == assignment)
    released, source = crs.released_nb(assignment, name), crs.source_nb(assignment, name)
    solved = nbs.solved(released, source)
    kinds = [("solution", solved), ("untouched", released)]
    kinds += [(f"wrong{i}", nbs.fill(solved, answers))
              for i, (_, answers, _) in enumerate(crs.wrong_answers.get(assignment, []), start=1)
              if set(answers) <= set(nbs.solution_cells(source))]
    if assignment == hostile.ASSIGNMENT:
        kinds += [(c.student, nbs.fill(released, c.answers)) for c in hostile.HOSTILE if c.student in QUICK_HOSTILE]
    for i in range(students):
        label, nb = kinds[i % len(kinds)]
        nbs.write(nb, dest / f"s{i:03d}_{label}" / assignment / f"{name}.ipynb")
    return len(kinds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="ch01_rnn")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, nargs="+", default=None,
                        help="job counts to time (default: 1, 2 and the number of cores)")
    args = parser.parse_args()

    import nbgrader
    import torch

    from seqcourse.gradebook import default_jobs

    cores = len(os.sched_getaffinity(0))
    jobs = args.jobs or sorted({1, 2, cores})
    load = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {cores} usable cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; load before "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; default --jobs here: {default_jobs()}")
    print(f"Python {platform.python_version()}, torch {torch.__version__}, nbgrader {nbgrader.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    with tempfile.TemporaryDirectory(prefix="seqcourse-bench-") as tmp:
        subs = Path(tmp) / "submissions"
        kinds = build_class(subs, args.assignment, args.students)
        print(f"class: {args.students} submissions of {args.assignment} ({kinds} kinds, cycled)")
        (Path(tmp) / "empty").mkdir()
        setup = _timed(Path(tmp) / "empty", Path(tmp) / "out_empty", 1)
        print(f"setup (an empty class: gradebook, generate_assignment, report): {setup:.1f} s, in every run below")
        base = None
        for j in jobs:
            seconds = _timed(subs, Path(tmp) / f"out{j}", j)
            rate, grading = args.students / seconds * 60, args.students / (seconds - setup) * 60
            base = base or grading
            print(f"  --jobs {j:<3} {seconds:7.1f} s   {rate:6.1f} notebooks/min end to end, {grading:6.1f} without "
                  f"setup   speed-up {grading / base:4.2f}x   machine ceiling {ceiling(j):4.2f}x   "
                  f"load after {os.getloadavg()[0]:.2f}")
    return 0


_SPIN = "x = 0\nfor i in range(20_000_000):\n    x += i\n"


def ceiling(jobs: int) -> float:
    """Throughput of `jobs` concurrent CPU-bound processes relative to one (the machine's best speed-up)."""
    import subprocess

    def run(n: int) -> float:
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(n)]
        for p in procs:
            p.wait()
        return time.perf_counter() - start

    one = run(1)
    return jobs * one / run(jobs)


def _timed(subs: Path, out: Path, jobs: int) -> float:
    from seqcourse import cli

    devnull = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, devnull
    start = time.perf_counter()
    try:
        code = cli.main(["grade", str(subs), "--out", str(out), "--jobs", str(jobs), "--root", str(REPO)])
    finally:
        sys.stdout = stdout
        devnull.close()
    assert code == 0, f"grade --jobs {jobs} exited {code}"
    return time.perf_counter() - start



if __name__ == "__main__":
    sys.exit(main())
