"""Figures of the book drawn from code (imported by the chapters as seqcourse.figures, so that a
downloaded chapter notebook draws them wherever the course is installed; see architectures.py)."""
