"""Figures of the book drawn from code (imported by the chapters; see architectures.py)."""
