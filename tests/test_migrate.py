"""`dupstream index migrate`: every stored video re-embedded with another frame model from its
URI, into that model's generation of collections; the pointer (a file on Qdrant Edge, collection
aliases through qdrant-client) switched once all are in; resumable; what workers on the old model
indexed after the switch copied by a second run; the old generations dropped only when asked."""

import warnings

import numpy as np
import pytest

from streams.index import Generation, frame_model_digest

DISTILLED = f"t_sscd_distilled_{frame_model_digest('sscd_distilled')}"


@pytest.mark.integration
@pytest.mark.parametrize("engine", ["edge", "server"])
def test_migrate_re_embeds_every_video_switches_the_index_catches_up_and_drops_the_old_generation(
        tmp_path, samples, monkeypatch, capsys, engine):
    from schemas.internal import decode_array
    from streams.backfill import CatalogueItem, accepted_video, backfill
    from streams.cli import main
    from streams.config import Settings
    from streams.embedding import open_embedder
    from streams.index import IndexError_, open_index
    from streams.stages.frames import describe_frames

    by_name = {sample.video_id: str(sample.path) for sample in samples}
    # Workers on sscd (named: the default is now sscd_distilled) migrate to the student.
    env = {"QDRANT_LOCATION": str(tmp_path), "COLLECTION_PREFIX": "t", "TRITON_URL": "onnx", "FRAME_MODEL": "sscd",
           "MEDIA_ROOTS": f'["{samples[0].path.parent}"]'}
    if engine == "server":  # qdrant-client's local mode stands in for the server (one client per directory)
        from qdrant_client import QdrantClient

        from streams.index.server import ServerIndex

        env["QDRANT_LOCATION"] = "http://qdrant.invalid:6333"

        def local(cls, settings, dim=512, generation=None):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return cls(QdrantClient(path=str(tmp_path)), settings.collection_prefix, dim,
                           frame_model=settings.frame_model, generation=generation)

        monkeypatch.setattr(ServerIndex, "connect", classmethod(local))
    for name, value in env.items():
        monkeypatch.setenv(f"DUPSTREAM_{name}", value)
    settings = Settings()
    if engine == "edge":  # an index made before generations: <prefix>_* shards, no pointer file
        open_index(settings, generation=Generation("t", "")).close()
    backfill(settings, [CatalogueItem("first", by_name["bunny_trimmed"]), CatalogueItem("again", by_name["bunny_trimmed"]),
                        CatalogueItem("silent", by_name["bikes_silent"])], show=lambda line: None)
    before = open_index(settings)
    old_generation = before.generation
    before.close()
    assert old_generation.name == ("t" if engine == "edge" else f"t_sscd_{frame_model_digest('sscd')}")

    assert main(["index", "migrate", "--to", "sscd_distilled"]) == 0
    out = capsys.readouterr().out
    assert f"3 videos in 1 other generation(s), 3 copied; 3 in {DISTILLED}_* (" in out and "0 failed" in out
    assert f"switched t_* to {DISTILLED}_*: restart the workers with DUPSTREAM_FRAME_MODEL=sscd_distilled" in out
    with pytest.raises(IndexError_, match="set DUPSTREAM_FRAME_MODEL=sscd_distilled"):
        open_index(settings)  # a worker restarted with the old model refuses to mix descriptors
    distilled = Settings(**{**settings.model_dump(), "frame_model": "sscd_distilled"})
    new = open_index(distilled)
    old = new.open_generation(old_generation)
    assert new.generation.name == DISTILLED
    assert [new.get_video(v) for v in ("first", "again", "silent")] == [old.get_video(v) for v in ("first", "again", "silent")]
    assert new.stats() == old.stats()  # the same frames and soundtrack windows, other descriptors
    # The new frames are the new model's: its descriptors of the clip find them, nearly identical.
    embedder = open_embedder(distilled)
    frames = describe_frames(accepted_video(CatalogueItem("probe", by_name["bunny_trimmed"])), embedder, distilled)
    embedder.close()
    query = decode_array(frames.embeddings, "float16", frames.dim).astype(np.float32)
    hits = new.search_frames(query, np.asarray(frames.timestamps, np.float32), limit=1, score_floor=0.0)
    assert min(hit.score for hit in hits) > 0.99 and {hit.video_id for hit in hits} <= {"first", "again"}

    # A worker still on the old model indexed one more video before its restart.
    late = old.get_video("silent")._replace(video_id="late", cluster_id="late", sequence=4, uri=by_name["earth"], audio_state="no_audio")
    old.add_video(late, np.zeros(1, np.float32), np.eye(1, 512, dtype=np.float32))
    old.close()
    new.close()
    assert main(["index", "migrate", "--to", "sscd_distilled", "--drop-old"]) == 0
    out = capsys.readouterr().out
    assert "already migrated" in out and "4 videos in 1 other generation(s), 1 copied; 4 in" in out
    assert f"dropped {old_generation.name}_*" in out
    new = open_index(distilled)
    assert new.get_video("late").sequence == 4 and [g.name for g in new.generations()] == [DISTILLED]
    new.close()
    if engine == "edge":
        assert not (tmp_path / "t_frames").exists() and (tmp_path / f"{DISTILLED}_frames").exists()
