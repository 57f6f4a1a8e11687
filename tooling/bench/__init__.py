"""Benchmarks: short, printable measurements (python -m tooling.bench.<name>)."""
