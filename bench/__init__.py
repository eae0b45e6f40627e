"""Benchmarks (not tests). Each module runs as `python -m bench.<name>` and prints its figures,
the conditions it ran under, and ratios against a baseline measured in the same run.

See docs/PERFORMANCE.md for the results and the commands that reproduce them.
"""
