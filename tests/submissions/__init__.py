"""Test inputs for the course tooling: fixture course, wrong answers, bad submissions."""
