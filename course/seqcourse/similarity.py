"""Answers that look copied: near-identical to the published solution, or to another student's.

The solutions are published with the course, so the cheat to look for is a copy with the names
changed, the comments dropped and the code reformatted. An answer is compared by its syntax
tree, not its text: every node's type in order, with names replaced by the order in which they
first appear (`h`, `state` and `hidden` all become the first local name), docstrings and string
literals dropped, and attribute names (`torch.tanh`, `.sum`) and numbers kept, since a copier
cannot change them without changing the code. The similarity of two answers is the Jaccard
index of their sets of token 4-grams: 1.0 for the same tree, near 0 for unrelated code.

The report flags, for the instructor to read, never to score: answers of at least MIN_TOKENS
tokens (short answers such as `return torch.tanh(z)` are forced, and alike for everyone) whose
similarity to the published solution or to another student's answer is at least the threshold.
"""
from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass

K = 4
MIN_TOKENS = 24
THRESHOLD = 0.8


def tokens(source: str) -> list[str] | None:
    """The normalised token stream of an answer, or None when it does not parse."""
    try:
        tree = ast.parse(source)  # answers are stored capped (gradebook.ANSWER_LIMIT)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names: dict[str, str] = {}

    def name(identifier: str) -> str:
        return names.setdefault(identifier, f"n{len(names)}")

    out: list[str] = []

    def visit(node) -> None:
        body = getattr(node, "body", None)
        docstring = body[0] if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
            and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else None
        out.append(type(node).__name__)
        if isinstance(node, ast.Name):
            out.append(name(node.id))
        elif isinstance(node, ast.arg):
            out.append(name(node.arg))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(name(node.name))
        elif isinstance(node, ast.Attribute):
            out.append("." + node.attr)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
            out.append(repr(node.value))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(sorted(a.name for a in node.names))
        for child in ast.iter_child_nodes(node):
            if child is not docstring:
                visit(child)

    try:
        visit(tree)
    except RecursionError:
        return None
    return out


def shingles(stream: list[str]) -> frozenset:
    if len(stream) < K:
        return frozenset([tuple(stream)])
    return frozenset(tuple(stream[i:i + K]) for i in range(len(stream) - K + 1))


def similarity(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class Flag:
    kind: str          # "solution": like the published solution; "pair": like another student's answer
    assignment: str
    notebook: str
    cell: str
    student_a: str
    student_b: str     # the other student, or "(published solution)"
    similarity: float


def flags(answers: dict[tuple[str, str, str], dict[str, str]], solutions: dict[tuple[str, str, str], str],
          released: dict[tuple[str, str, str], str] | None = None, threshold: float = THRESHOLD) -> list[Flag]:
    """Similar answers.

    answers: {(assignment, notebook, cell): {student: source}}; solutions and released:
    {(assignment, notebook, cell): source} of the published solution and of the student's
    starting point (an answer still equal to it is not an answer). Pairs of students who are
    both flagged against the solution are not listed again as a pair.
    """
    released = released or {}
    found: list[Flag] = []
    for (assignment, notebook, cell), by_student in sorted(answers.items()):
        stub = tokens(released.get((assignment, notebook, cell), "")) or []
        prints: dict[str, frozenset] = {}
        for student, source in sorted(by_student.items()):
            stream = tokens(source)
            if stream is None or len(stream) < MIN_TOKENS or stream == stub:
                continue
            prints[student] = shingles(stream)
        like_solution = set()
        solution = tokens(solutions.get((assignment, notebook, cell), "")) or []
        if len(solution) >= MIN_TOKENS:
            reference = shingles(solution)
            for student, fp in prints.items():
                score = similarity(fp, reference)
                if score >= threshold:
                    like_solution.add(student)
                    found.append(Flag("solution", assignment, notebook, cell, student, "(published solution)",
                                      round(score, 3)))
        for (a, fa), (b, fb) in itertools.combinations(sorted(prints.items()), 2):
            if a in like_solution and b in like_solution:
                continue
            score = similarity(fa, fb)
            if score >= threshold:
                found.append(Flag("pair", assignment, notebook, cell, a, b, round(score, 3)))
    found.sort(key=lambda f: (-f.similarity, f.kind, f.assignment, f.notebook, f.cell, f.student_a, f.student_b))
    return found
