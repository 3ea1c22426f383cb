"""`seqcourse`: the course's command line (what the Makefile targets call).

    seqcourse mathjax                 fetch MathJax from npm for offline math
    seqcourse book [--path book]      build the executed website (fails on any error)
    seqcourse release                 regenerate exercises/ from solutions/ (nbgrader)
    seqcourse grade DIR [--out grading]  autograde DIR/<student>/<assignment>/<nb>.ipynb
    seqcourse report [--db URL]       grades.csv, feedback and the copy report from the gradebook
    seqcourse check NOTEBOOK          a student's self-check: visible tests only
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seqcourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    # Each sub-module registers its own arguments so that options live next to the code.
    from seqcourse import book, check, grade, release, report

    for module in (book, release, grade, report, check):
        module.register(sub)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
