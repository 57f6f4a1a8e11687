"""Pure matching math: frame hits -> aligned visual matches (alignment), and visual + audio
evidence -> the four-way verdict (decision). No I/O."""

from streams.matching.alignment import align, rank_key
from streams.matching.decision import AudioResult, Decision, decide

__all__ = ["AudioResult", "Decision", "align", "decide", "rank_key"]
