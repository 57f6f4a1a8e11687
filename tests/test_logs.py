import json
import logging
import logging.config

from streams.logs import logging_config


def lines_logged(style: str, capsys) -> list[str]:
    logging.config.dictConfig(logging_config("info", style))
    try:
        logging.getLogger("streams.stages.match").info("verdict %s: %s", "v1", "unique", extra={"video_id": "v1"})
        logging.getLogger("faust.worker").warning("rebalancing")
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}})
    return capsys.readouterr().err.strip().splitlines()


def test_text_lines_name_their_video_or_a_dash(capsys):
    about_video, about_none = lines_logged("text", capsys)
    assert about_video.endswith(" INFO streams.stages.match video_id=v1 verdict v1: unique")
    assert about_none.endswith(" WARNING faust.worker video_id=- rebalancing")


def test_json_lines_carry_the_same_fields(capsys):
    about_video, about_none = map(json.loads, lines_logged("json", capsys))
    assert {k: about_video[k] for k in ("level", "logger", "video_id", "message")} == {
        "level": "INFO", "logger": "streams.stages.match", "video_id": "v1", "message": "verdict v1: unique"}
    assert about_none["video_id"] == "-" and about_none["level"] == "WARNING"
