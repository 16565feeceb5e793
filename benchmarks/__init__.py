"""Benchmarks: each figure measured against its floor in the same run (`python -m benchmarks`)."""
