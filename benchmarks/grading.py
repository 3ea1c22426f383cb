"""Seconds to run one notebook's cells for grading: nbgrader's kernel (before) vs the harness (after).

    .venv/bin/python benchmarks/grading.py [--assignment ch01_rnn] [--repeats 3]

"before" is what nbgrader's Execute step did: the solved notebook with its hidden tests, run
top to bottom in a fresh Jupyter kernel (nbclient). "after" is the step that replaces it
(seqcourse.harness): the answers in a student process, with and without the bubblewrap
sandbox, and the tests in this process. The same solved notebook each time; the median of
`--repeats` runs is printed, with every run. This measures the execute step only; nbgrader's
other steps (sanitising, saving grades, feedback) are the same before and after.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="ch01_rnn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from nbclient import NotebookClient

    from seqcourse._nbcourse import assignments
    from seqcourse.harness import run_notebook, sandbox_problem
    from submissions import notebooks as nbs

    name = assignments(REPO / "solutions")[args.assignment][0]
    source = nbs.read(REPO / "solutions" / args.assignment / f"{name}.ipynb")
    released = nbs.read(REPO / "exercises" / args.assignment / f"{name}.ipynb")
    solved = nbs.solved(released, source)
    kernel_nb = nbs.solved(source, source)  # what nbgrader's kernel ran: answers plus hidden tests

    def before() -> None:
        nb = copy.deepcopy(kernel_nb)
        with tempfile.TemporaryDirectory() as cwd:
            NotebookClient(nb, timeout=600, allow_errors=True, kernel_name="python3",
                           resources={"metadata": {"path": cwd}}).execute()

    def after(sandbox: bool):
        def run() -> None:
            with tempfile.TemporaryDirectory() as box:
                outcome = run_notebook(source, solved, Path(box), sandbox=sandbox)
            failed = [k for k, v in outcome.cells.items() if v.error]
            assert not failed and not outcome.problems, (failed, outcome.problems)
        return run

    variants = [("before: nbgrader kernel (nbclient)", before), ("after: harness, no sandbox", after(False))]
    problem = sandbox_problem()
    if problem is None:
        variants.append(("after: harness, bubblewrap sandbox", after(True)))
    else:
        print(f"(no sandbox here: {problem})")
    print(f"{args.assignment}/{name}.ipynb, {args.repeats} runs each")
    for label, fn in variants:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"  {label:<38} median {statistics.median(times):6.2f} s   runs: "
              + ", ".join(f"{t:.2f}" for t in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
