"""Measuring detection: the development set's scores (metrics), the perceptual-hash baseline,
and `dupstream eval` (runner)."""
