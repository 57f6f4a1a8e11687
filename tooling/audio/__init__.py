"""The soundtrack's development tools: the edits copies make (edits), the null model's fit
(calibrate), the sound-only judge on a set's cached features (devcheck), voice-over mixes (mixes)."""
