"""Benchmarks: `python -m bench.run_all` runs them all (see bench/run_all.py)."""
