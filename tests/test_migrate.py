"""`dupstream index migrate`: every stored video re-embedded with another frame model from its
URI, into collections of their own; resumable; the old ones dropped only when asked."""

import numpy as np
import pytest

from streams.migrate import target_prefix


def test_new_collections_are_named_by_the_model_without_stacking_suffixes():
    assert target_prefix("dupstream", "sscd_distilled") == "dupstream_sscd_distilled"
    assert target_prefix("dupstream_sscd_distilled", "sscd") == "dupstream_sscd"
    assert target_prefix("dupstream_sscd", "sscd_distilled") == "dupstream_sscd_distilled"


@pytest.mark.integration
def test_migrate_re_embeds_every_video_resumes_and_drops_the_old_collections_when_asked(tmp_path, samples,
                                                                                          monkeypatch, capsys):
    from streams.backfill import CatalogueItem, backfill
    from streams.cli import main
    from streams.config import Settings
    from streams.embedding import open_embedder
    from streams.index.edge import EdgeIndex

    by_name = {sample.video_id: str(sample.path) for sample in samples}
    settings = Settings(qdrant_location=str(tmp_path), collection_prefix="t", triton_url="onnx",
                        media_roots=[samples[0].path.parent])
    backfill(settings, [CatalogueItem("first", by_name["bunny_trimmed"]), CatalogueItem("again", by_name["bunny_trimmed"]),
                        CatalogueItem("silent", by_name["bikes_silent"])], show=lambda line: None)
    for name, value in (("QDRANT_LOCATION", str(tmp_path)), ("COLLECTION_PREFIX", "t"), ("TRITON_URL", "onnx"),
                        ("MEDIA_ROOTS", f'["{samples[0].path.parent}"]')):
        monkeypatch.setenv(f"DUPSTREAM_{name}", value)

    assert main(["index", "migrate", "--to", "sscd_distilled"]) == 0
    out = capsys.readouterr().out
    assert "3 videos; 3 in t_sscd_distilled_* (" in out and "0 failed" in out
    assert "DUPSTREAM_FRAME_MODEL=sscd_distilled DUPSTREAM_COLLECTION_PREFIX=t_sscd_distilled" in out
    old, new = EdgeIndex(tmp_path, "t"), EdgeIndex(tmp_path, "t_sscd_distilled")
    assert [new.get_video(v) for v in ("first", "again", "silent")] == [old.get_video(v) for v in ("first", "again", "silent")]
    assert new.stats() == old.stats()  # the same frames and soundtrack windows, other descriptors
    # The new frames are the new model's: its descriptors of the clip find them, nearly identical.
    from schemas.internal import decode_array
    from streams.backfill import accepted_video
    from streams.stages.frames import describe_frames

    distilled_settings = Settings(**{**settings.model_dump(), "frame_model": "sscd_distilled"})
    embedder = open_embedder(distilled_settings)
    frames = describe_frames(accepted_video(CatalogueItem("probe", by_name["bunny_trimmed"])), embedder,
                             distilled_settings)
    embedder.close()
    query = decode_array(frames.embeddings, "float16", frames.dim).astype(np.float32)
    hits = new.search_frames(query, np.asarray(frames.timestamps, np.float32), limit=1, score_floor=0.0)
    assert min(hit.score for hit in hits) > 0.99 and {hit.video_id for hit in hits} <= {"first", "again"}
    for index in (old, new):
        index.close()

    assert main(["index", "migrate", "--to", "sscd_distilled", "--drop-old"]) == 0  # resumed: nothing to re-embed
    out = capsys.readouterr().out
    assert "already migrated" in out and "dropped t_*" in out
    assert not (tmp_path / "t_frames").exists() and (tmp_path / "t_sscd_distilled_frames").exists()
