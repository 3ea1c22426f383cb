"""nbgrader's execute step, replaced: the harness runs the notebook (seqcourse.harness).

`c.Autograde.autograde_preprocessors` (nbgrader_config.py) lists SandboxedExecute where
nbgrader has Execute; the rest of nbgrader's pipeline (SaveAutoGrades, feedback, formgrader,
export) reads the outputs written here as if a kernel had run the cells: a test cell with
an error output scores 0, any other scores its points. The answers come from the submitted
notebook, every other cell from the instructor's source notebook (CourseDirectory's layout).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from seqcourse.harness import Limits, Outcome, apply, run_notebook

# {(student, assignment, notebook): Outcome} of this process, for the statuses `seqcourse grade` reports.
OUTCOMES: dict[tuple[str, str, str], Outcome] = {}


class SandboxedExecute(NbGraderPreprocessor):
    sandbox = Bool(True, help="run the answers in a bubblewrap sandbox (False: --no-sandbox)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        source_path = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"])) \
            / f"{info['notebook']}.ipynb"
        source = nbformat.read(source_path, as_version=4)
        limits = Limits(cell_timeout=float(self.config.Execute.get("timeout", Limits.cell_timeout)))
        with tempfile.TemporaryDirectory(prefix="seqcourse-box-") as box:
            outcome = run_notebook(source, nb, Path(box), limits=limits, sandbox=self.sandbox)
        apply(outcome, nb)
        OUTCOMES[(info["student"], info["assignment"], info["notebook"])] = outcome
        return nb, resources
