"""Benchmarks: short, printable measurements (python -m streams.bench.<name>)."""
