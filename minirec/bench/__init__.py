"""Benchmarks on real data (not needed to run or test the project)."""
