"""MatchParams: built once from the Settings, with a calibrated file of overrides applied as a whole."""

from __future__ import annotations

import json

import pytest

from streams.config import Settings
from streams.params import MatchParams


def test_settings_set_their_fields_and_the_digest_names_the_values():
    params = MatchParams.from_settings(Settings(visual_match_score=0.7, audio_max_false_alarm=1e-3))
    assert params.align.visual_match_score == 0.7 and params.audio.max_false_alarm == 1e-3
    assert params.digest() != MatchParams().digest() == MatchParams.from_settings(Settings()).digest()


def test_the_file_overrides_the_defaults_and_explicit_variables_win(tmp_path, monkeypatch):
    written = tmp_path / "params.json"
    written.write_text(json.dumps({"align": {"visual_match_score": 0.72, "visual_min_aligned_frames": 4},
                                   "decision": {"co_located_offset_seconds": 2.0},
                                   "audio": {"resampled_speeds": [0.95, 1.05]}}))
    params = MatchParams.from_settings(Settings(match_params=str(written)))
    assert (params.align.visual_match_score, params.align.visual_min_aligned_frames) == (0.72, 4)
    assert params.decision.co_located_offset_seconds == 2.0 and params.audio.resampled_speeds == (0.95, 1.05)
    monkeypatch.setenv("DUPSTREAM_VISUAL_MIN_ALIGNED_FRAMES", "5")
    params = MatchParams.from_settings(Settings(match_params=str(written)))
    assert (params.align.visual_match_score, params.align.visual_min_aligned_frames) == (0.72, 5)
    assert MatchParams().overridden(params.as_dict()) == params  # as_dict round-trips


def test_an_unknown_name_in_the_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown decision parameters"):
        MatchParams().overridden({"decision": {"co_located_offset": 2.0}})
    with pytest.raises(ValueError, match="unknown parameter section"):
        MatchParams().overridden({"decisions": {}})
