"""Reference implementations for the sequence-modeling course."""
