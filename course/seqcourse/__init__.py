"""Course tooling: release, grade and self-check exercise notebooks (nbgrader)."""
