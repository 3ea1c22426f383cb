"""`seqcourse report --db URL`: the whole class's results, from the gradebook alone.

Writes OUT/grades.csv (student_id, assignment, notebook, score, max_score, status; one row per
submitted file), OUT/feedback/<student>/<assignment>/<notebook>.html, OUT/similarity.csv
(answers near-identical to the published solution or to another student's: for the
instructor to read; no score changes) and OUT/index.html, a page that links them all.
`seqcourse grade` runs it at the end; after sharded grading (`grade --shard K/N`) run it once,
anywhere that reaches the gradebook, when every shard has finished.
"""
from __future__ import annotations

import argparse
import csv
import html
import os
import shutil
import sys
from collections import Counter
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from seqcourse import similarity
from seqcourse._nbcourse import CourseError, fmt_points
from seqcourse.gradebook import SOLUTION_ANSWERS

FEEDBACK_LIMIT = 8 << 20  # bytes; each cell's output is already capped (harness.Limits.output_bytes)


@dataclass
class Row:
    student_id: str
    assignment: str
    notebook: str
    score: float | None
    max_score: float | None
    status: str

    def csv(self) -> list[str]:
        values = list(astuple(self))
        values[3], values[4] = fmt_points(self.score), fmt_points(self.max_score)
        return values


COLUMNS = [f.name for f in fields(Row)]


def with_status(page: str, row: Row) -> str:
    """nbgrader's feedback page with the row's status on top (timeouts, limits, broken rules)."""
    import re

    banner = (f"<div style='border:1px solid #c90;padding:.5em;margin:.5em'><strong>Grading status:</strong> "
              f"{html.escape(row.status)} (score {fmt_points(row.score)} / {fmt_points(row.max_score) or '?'})</div>")
    match = re.search(r"<body[^>]*>", page)
    return page[:match.end()] + banner + page[match.end():] if match else banner + page


def note_page(row: Row) -> str:
    """The page of a notebook that could not be graded: the score and why."""
    title = f"{row.assignment}/{row.notebook}"
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Feedback: " + html.escape(title)
            + "</title></head><body>\n<h1>Feedback: " + html.escape(title) + "</h1>\n"
            + f"<p>Score: {fmt_points(row.score)} / {fmt_points(row.max_score) or '?'}</p>\n"
            + "<p>Your notebook could not be graded: <strong>" + html.escape(row.status) + "</strong>.</p>\n"
            + "<p>Run <code>make check NOTEBOOK=...</code> (or Restart &amp; Run All) before you submit, "
            + "and keep the notebook's name and test cells.</p>\n</body></html>\n")


def gets_page(row: Row) -> bool:
    """Rows a student reads a page for: every notebook of a known assignment, graded or not."""
    return bool(row.student_id and row.assignment and row.notebook.endswith(".ipynb") and "/" not in row.notebook
                and not row.status.startswith("unknown"))


def write_csv(path: Path, rows: list[Row]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(row.csv() for row in rows)
    os.replace(tmp, path)  # a reader never sees half a file


def feedback_link(row: Row) -> str:
    """Where a row's page lies, relative to the output folder."""
    return f"feedback/{row.student_id}/{row.assignment}/{row.notebook[:-len('.ipynb')]}.html"


def report(store, out: Path, *, threshold: float = similarity.THRESHOLD) -> list[Row]:
    """Write grades.csv, feedback pages, similarity.csv and index.html into out from store."""
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    feedback = out / "feedback"
    shutil.rmtree(feedback, ignore_errors=True)
    rows: list[Row] = []
    answers: dict[tuple[str, str, str], dict[str, str]] = {}
    for stored in store.results(with_feedback=True):
        row = Row(*stored.row)
        rows.append(row)
        if gets_page(row):
            dest = out / feedback_link(row)
            dest.parent.mkdir(parents=True, exist_ok=True)
            page = stored.page()
            dest.write_text(page if page is not None else note_page(row), encoding="utf-8")
        stem = row.notebook[:-len(".ipynb")] if row.notebook.endswith(".ipynb") else row.notebook
        for cell, source in stored.answers.items():
            answers.setdefault((row.assignment, stem, cell), {})[row.student_id] = source
    write_csv(out / "grades.csv", rows)

    published = json.loads(store.course_value(SOLUTION_ANSWERS) or "{}")
    solutions = {tuple(k.split("/", 2)): v["solution"] for k, v in published.items()}
    released = {tuple(k.split("/", 2)): v["released"] for k, v in published.items()}
    flagged = similarity.flags(answers, solutions, released, threshold=threshold)
    tmp = out / "similarity.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(similarity.Flag)])
        writer.writerows(astuple(f) for f in flagged)
    os.replace(tmp, out / "similarity.csv")
    (out / "index.html").write_text(_index(rows, flagged, threshold), encoding="utf-8")
    return rows


def _index(rows: list[Row], flagged: list, threshold: float) -> str:
    e = html.escape
    by_status = Counter("ok" if r.status.startswith("ok") else r.status.split(":")[0].split(";")[0] for r in rows)
    lines = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>Grading report</title>",
             "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}</style></head><body>",
             "<h1>Grading report</h1>",
             f"<p>{len(rows)} rows in <a href='grades.csv'>grades.csv</a>; status: "
             + ", ".join(f"{e(k)} {v}" for k, v in by_status.most_common()) + ".</p>",
             f"<h2>Answers to read (similarity at least {threshold:g}; no score was changed)</h2>"]
    if flagged:
        lines.append("<table><tr><th>kind</th><th>assignment</th><th>cell</th><th>student</th>"
                     "<th>like</th><th>similarity</th></tr>")
        lines += [f"<tr><td>{e(f.kind)}</td><td>{e(f.assignment)}/{e(f.notebook)}</td><td>{e(f.cell)}</td>"
                  f"<td>{e(f.student_a)}</td><td>{e(f.student_b)}</td><td>{f.similarity:.3f}</td></tr>" for f in flagged]
        lines.append("</table><p>Also in <a href='similarity.csv'>similarity.csv</a>.</p>")
    else:
        lines.append("<p>None.</p>")
    lines.append("<h2>Every submitted file</h2><table><tr><th>student</th><th>assignment</th><th>notebook</th>"
                 "<th>score</th><th>status</th></tr>")
    for r in rows:
        name = e(r.notebook)
        if gets_page(r):
            name = f"<a href='{e(feedback_link(r), quote=True)}'>{name}</a>"
        lines.append(f"<tr><td>{e(r.student_id)}</td><td>{e(r.assignment)}</td><td>{name}</td>"
                     f"<td>{fmt_points(r.score)}/{fmt_points(r.max_score) or '?'}</td><td>{e(r.status)}</td></tr>")
    lines.append("</table></body></html>")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from seqcourse.gradebook import Store

    out = Path(args.out)
    db_url = args.db or f"sqlite:///{out.resolve() / 'gradebook.db'}"
    try:
        if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).is_file():
            raise CourseError(f"no gradebook at {db_url}: grade first (seqcourse grade DIR), or give --db URL")
        store = Store(db_url)
        try:
            rows = report(store, out, threshold=args.similarity)
        finally:
            store.close()
    except CourseError as err:
        print(f"seqcourse report: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out / 'grades.csv'} ({len(rows)} rows), feedback in {out / 'feedback'}, "
          f"{out / 'similarity.csv'} and {out / 'index.html'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="grades.csv, feedback and the copy report from the gradebook",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite:///OUT/gradebook.db)")
    parser.add_argument("--out", default="grading", help="output folder (default: grading)")
    parser.add_argument("--similarity", type=float, default=similarity.THRESHOLD,
                        help=f"flag answers at least this similar (0-1, default {similarity.THRESHOLD:g})")
    parser.set_defaults(run=run)
