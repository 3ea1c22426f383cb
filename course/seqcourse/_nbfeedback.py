"""Feedback without hidden tests: keep error outputs from quoting hidden-test source.

nbgrader's ClearHiddenTests removes the hidden region from a cell's *source*, but the
cell's error output still holds an IPython traceback, which quotes the failing line and
its neighbours, and an assertion message written inside the hidden region. For every
code cell that holds a hidden region, this preprocessor (run before ClearHiddenTests)
replaces each error output by one line: "ename: evalue" when the error was raised by a
visible line of the cell, and "ename in a hidden test" otherwise. Other outputs of such
cells (prints of the hidden tests) are dropped.
"""
from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from seqcourse._nbcourse import strip_ansi

FRAME = re.compile(r"Cell In\s*\[(\d+)\],\s*line (\d+)")


def hidden_lines(source: str, begin: str, end: str) -> set[int]:
    """1-based line numbers of `source` inside a hidden-test region, delimiters included."""
    hidden, inside = set(), False
    for number, line in enumerate(source.split("\n"), start=1):
        if begin in line:
            inside = True
        if inside:
            hidden.add(number)
        if end in line:
            inside = False
    return hidden


def failing_line(output: NotebookNode, execution_count: int | None) -> int | None:
    """Line of the cell (numbered as IPython numbers it) whose frame raised `output`.

    The innermost frame that belongs to this cell, i.e. `Cell In[execution_count]`;
    None when the traceback names no such frame.
    """
    if execution_count is None:
        return None
    line = None
    for entry in output.get("traceback", []):
        for count, number in FRAME.findall(strip_ansi(entry)):
            if int(count) == execution_count:
                line = int(number)
    return line


def error_summary(output: NotebookNode) -> str:
    evalue = str(output.get("evalue", "")).strip()
    return f"{output.get('ename', 'Error')}: {evalue}" if evalue else str(output.get("ename", "Error"))


class HideHiddenTestErrors(NbGraderPreprocessor):
    """Reduce the outputs of cells with hidden tests to a one-line, leak-free summary."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        delimiters = ClearHiddenTests(parent=self)
        hidden = hidden_lines(cell.source, delimiters.begin_test_delimeter, delimiters.end_test_delimeter)
        if not hidden:
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            line = failing_line(output, cell.get("execution_count"))
            if line is not None and line not in hidden:
                summary = error_summary(output)
            else:
                summary = f"{output.get('ename', 'Error')} in a hidden test"
                output["evalue"] = ""
            output["traceback"] = [summary]
            outputs.append(output)
        cell.outputs = outputs
        return cell, resources
