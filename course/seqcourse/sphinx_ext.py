"""Sphinx extension for the course website (listed in book/_config.yml, `sphinx.config.extensions`).

* Downloads served by the site itself: every chapter named in `course_exercises` gets, under its
  title, a link to the chapter as an executed notebook and to its exercise notebook, with the
  command that checks it. At the end of the build both are copied into the site
  (`downloads/<chapter>.ipynb`, `downloads/exercises/<assignment>/<notebook>.ipynb`), so the links
  resolve on any static host and offline. The chapter notebook is the one MyST-NB writes to
  `_build/jupyter_execute/` when it executes (`execute_notebooks: force`, as committed); in
  `cache` mode MyST-NB writes it without outputs, which the browser test reports.
* Citations read "Elman (1990)" and "(Elman, 1990)" (`author_year_round`), and the bibliography
  lists each entry under the same author-year label, sorted by author (`course_author_year`),
  instead of the numbers [9] that a reader could not match with the text.
* Progress bars: tqdm in an executed cell writes each redraw to the cell's output, which the page
  shows as a pile of half-finished bars. The kernels inherit this process's environment, so
  `TQDM_DISABLE=1` (read by tqdm >= 4.66) switches them off for the whole build. To see them, set
  TQDM_DISABLE to an empty string (tqdm reads any other value, "0" included, as true).
* Cell time limit: `execute.timeout` in _config.yml (600 s) is sized for the small default runs. The
  larger runs of `SEQ_FULL=1` train for longer in one cell (8 epochs of three seeds in the
  seq2seq chapter), so that build allows `FULL_CELL_TIMEOUT` per cell instead.
* Printed output: a cell's prints arrive as several stream outputs when time passes between them
  (a table printed row by row while it trains), and each became its own grey box. Consecutive
  boxes of one stream are joined into one on the page. MyST-NB's own `nb_merge_streams` is not
  used: it moves a print made after a figure to before it, and it writes the joined text into the
  executed notebook offered for download while keeping the later outputs, which repeats them.
* A SEQ_FULL=1 build marks every chapter that reads SEQ_FULL with a note under its title: the prose
  was checked against the default runs' output, and a larger run prints other numbers, which the
  text's reading of them may not match.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import node
from sphinxcontrib.bibtex.style import template as bibtex_template
from sphinxcontrib.bibtex.style.referencing import basic_author_year
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOWNLOADS = "downloads"
FULL_CELL_TIMEOUT = 3 * 3600  # seconds per cell in a SEQ_FULL=1 build


def _full_build() -> bool:
    return os.environ.get("SEQ_FULL") == "1"


def allow_full_runs(app: Sphinx, config) -> None:
    """A SEQ_FULL=1 build gets a per-cell limit its larger runs fit in (MyST-NB reads it later,
    at builder-inited)."""
    if _full_build() and 0 < config.nb_execution_timeout < FULL_CELL_TIMEOUT:
        config.nb_execution_timeout = FULL_CELL_TIMEOUT


FULL_BUILD_NOTE = (
    "This page was built with SEQ_FULL=1, which runs its larger experiments. Its text was checked "
    "against the output of the default, smaller runs: where the text's reading of a result differs "
    "from the numbers printed here, the printed numbers are what this build measured.")


def join_stream_outputs(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """One box for consecutive outputs of the same stream of a cell (stdout, or stderr)."""
    for output in list(doctree.findall(nodes.container)):
        if "cell_output" not in output["classes"]:
            continue
        previous = None
        for child in list(output.children):
            stream = isinstance(child, nodes.literal_block) and "stream" in child["classes"]
            if stream and previous is not None and child["classes"] == previous["classes"]:
                text = previous.astext() + child.astext()
                previous.children = [nodes.Text(text)]
                previous.rawsource = text
                output.remove(child)
            else:
                previous = child if stream else None


def mark_full_build(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if not _full_build() or app.builder.format != "html":
        return
    if not docname.startswith(app.config.course_chapters_prefix):
        return
    if "SEQ_FULL" not in Path(app.env.doc2path(docname)).read_text(encoding="utf-8"):
        return   # a chapter without larger runs prints the same numbers in both builds
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    note = nodes.note("", nodes.paragraph("", FULL_BUILD_NOTE), classes=["course-full-build"])
    title = sections[0].next_node(nodes.title)
    sections[0].insert(sections[0].index(title) + 1 if title is not None else 0, note)


# --------------------------------------------------------------------------- citations

def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: Elman (1990), (Elman, 1990)."""
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Elman, 1990", "Bengio et al., 2003"; same-label entries get 2013a, 2013b."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [self._label(entry) for entry in entries]
        counts = Counter(labels)
        seen: Counter = Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label

    @staticmethod
    def _label(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [Text.from_latex(" ".join(person.last_names)).render_as("text") for person in people]
        if not last:
            names = Text.from_latex(entry.fields.get("organization", entry.key)).render_as("text")
        elif len(last) == 1:
            names = last[0]
        elif len(last) == 2:
            names = f"{last[0]} and {last[1]}"
        else:
            names = f"{last[0]} et al."
        return f"{names}, {entry.fields.get('year', 'n.d.')}"


@node
def labelled_year(children, data):
    """The year of a citation as its bibliography label writes it: "2013a" where two entries
    share the label "Mikolov et al., 2013" (AuthorYearLabels), so that the text names the entry
    the bibliography lists, not two identical "(Mikolov et al., 2013, Mikolov et al., 2013)"."""
    assert not children
    year = bibtex_template.year.format_data(data)
    label = data["formatted_entry"].label
    suffix = label[len(label.rstrip(string.ascii_lowercase)):]
    if suffix and label[:-len(suffix)].endswith(str(year)):
        return year + suffix
    return year


class CourseBibliographyStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


# --------------------------------------------------------------------------- downloads

def _exercises(app: Sphinx) -> dict[str, Path]:
    """`course_exercises` (docname -> notebook path) for the documents in this build, checked
    against the disk."""
    root = Path(app.confdir, app.config.course_exercises_root).resolve()
    found = {}
    for docname, notebook in (app.config.course_exercises or {}).items():
        if docname not in app.env.all_docs:
            continue
        path = (root / notebook).resolve()
        if not path.is_file():
            raise ExtensionError(f"course_exercises: {docname} -> {notebook}: {path} does not exist")
        found[docname] = path
    return found


def _exercise_url(notebook: str) -> str:
    return posixpath.join(DOWNLOADS, "exercises", notebook)


def add_download_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    notebook = (app.config.course_exercises or {}).get(docname)
    if notebook is None or app.builder.format != "html":
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    up = "../" * docname.count("/")
    chapter_nb = up + posixpath.join(DOWNLOADS, docname + ".ipynb")
    exercise_nb = up + _exercise_url(notebook)
    exercise_repo = posixpath.join("exercises", notebook)

    def link(text: str, uri: str) -> nodes.reference:
        # course.js adds the `download` attribute: a browser would otherwise show the JSON.
        return nodes.reference("", text, refuri=uri, internal=False, classes=["course-download"])

    box = nodes.container(classes=["course-downloads"])
    para = nodes.paragraph()
    para += nodes.strong("", "Download ")
    para += link("this chapter as a notebook", chapter_nb)
    para += nodes.Text(" (executed, with its outputs) or ")
    para += link("its exercise notebook", exercise_nb)
    para += nodes.Text(". Check your answers with ")
    para += nodes.literal("", f"make check NOTEBOOK={exercise_repo}")
    para += nodes.Text(" (")
    para += nodes.reference("", "how to use this course", refuri=up + "how_to_use.html",
                            internal=True)
    para += nodes.Text(").")
    box += para
    title = sections[0].next_node(nodes.title)
    sections[0].insert(sections[0].index(title) + 1 if title is not None else 0, box)


def copy_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    executed = Path(app.outdir).parent / "jupyter_execute"
    for docname, notebook in _exercises(app).items():
        source = executed / (docname + ".ipynb")
        if not source.is_file():
            raise ExtensionError(f"{docname}: executed notebook {source} not found (is the chapter "
                                 "a MyST-NB notebook and executed?)")
        target = outdir / DOWNLOADS / (docname + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        exercise = outdir / _exercise_url(app.config.course_exercises[docname])
        exercise.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, exercise)


def check_chapters(app: Sphinx, env) -> None:
    """Every chapter has its exercise notebook, and every notebook named exists."""
    _exercises(app)
    mapped = app.config.course_exercises or {}
    for docname in sorted(env.all_docs):
        if docname.startswith(app.config.course_chapters_prefix) and docname not in mapped:
            logger.warning(f"{docname}: no exercise notebook in course_exercises (book/_config.yml)",
                           location=docname)


def setup(app: Sphinx) -> dict:
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearStyle)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "course_author_year",
                                  CourseBibliographyStyle)
    # sphinxcontrib-bibtex's author-year citations read the bare year field; ours add the label's
    # letter (its templates look the name up in this module when a citation is formatted).
    basic_author_year.year = labelled_year
    os.environ.setdefault("TQDM_DISABLE", "1")
    app.add_config_value("course_exercises", {}, "env", [dict])
    # Exercise paths are relative to this folder, itself relative to the book folder.
    app.add_config_value("course_exercises_root", "../exercises", "env", [str])
    # Documents under this prefix are chapters: each must have an entry in course_exercises.
    app.add_config_value("course_chapters_prefix", "chapters/", "env", [str])
    app.connect("config-inited", allow_full_runs)
    app.connect("env-check-consistency", check_chapters)
    app.connect("doctree-resolved", add_download_links)
    app.connect("doctree-resolved", mark_full_build)
    app.connect("doctree-resolved", join_stream_outputs)
    app.connect("build-finished", copy_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
