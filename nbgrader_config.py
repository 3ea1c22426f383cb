"""nbgrader configuration for the course (course root = repository root).

`seqcourse release`, `seqcourse grade` and nbgrader's own commands all read this file.
`seqcourse grade` works in a copy of it under its output folder, with the gradebook URL
and cell timeout overridden there.
"""
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, GetGrades, IgnorePattern,
                                    LimitOutput, SaveAutoGrades)

from seqcourse._nbexecute import SandboxedExecute
from seqcourse._nbfeedback import HideHiddenTestErrors

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# Instructor notebooks (nbgrader "source") live in solutions/, student notebooks in exercises/.
# The course root is the directory nbgrader runs in (the repository root), and the
# gradebook defaults to sqlite:///<root>/gradebook.db; c.CourseDirectory.db_url takes
# any SQLAlchemy URL (`seqcourse grade --db URL` sets it for a grading run).
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Autograding never runs a student's code in the process that runs the tests: nbgrader's
# Execute step is replaced by the course's harness (seqcourse/harness.py), which runs the
# answer cells in a sandboxed process and the tests, from the instructor's notebook, in the
# grader's; the rest of nbgrader's pipeline is unchanged.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# Per-cell (and per-call) limit: the student's code is interrupted, and killed when it ignores that.
c.Execute.timeout = 60

# Feedback shows the student's grades and tests, never the hidden tests. ClearHiddenTests
# only removes hidden *source*; HideHiddenTestErrors first reduces the error output of a
# cell that holds hidden tests (a traceback quotes the failing line and its neighbours).
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestErrors,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
