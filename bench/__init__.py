"""Benchmarks that print their figures: python -m bench.<name>, or make bench."""
