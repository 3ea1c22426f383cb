"""nbgrader configuration for the course (course root = repository root).

`seqcourse release`, `seqcourse grade` and nbgrader's own commands all read this file.
`seqcourse grade` works in a copy of it under its output folder, with the gradebook URL
and cell timeout overridden there.
"""
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from seqcourse._nbfeedback import HideHiddenTestErrors

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# Instructor notebooks (nbgrader "source") live in solutions/, student notebooks in exercises/.
# The course root is the directory nbgrader runs in (the repository root), and the
# gradebook defaults to sqlite:///<root>/gradebook.db; c.CourseDirectory.db_url takes
# any SQLAlchemy URL (`seqcourse grade --db URL` sets it for a grading run).
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Per-cell limit when autograding: an infinite loop is interrupted, the notebook goes on.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# A crashed kernel is a student's bug, not a flaky machine: do not re-run the notebook.
c.Execute.execute_retries = 0

# Feedback shows the student's grades and tests, never the hidden tests. ClearHiddenTests
# only removes hidden *source*; HideHiddenTestErrors first reduces the error output of a
# cell that holds hidden tests (a traceback quotes the failing line and its neighbours).
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestErrors,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
