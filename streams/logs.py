"""The worker's log lines. Every line names the video it is about (`video_id`, `-` when none):
the stages log with `extra={"video_id": ...}`, and a filter fills in the rest."""

from __future__ import annotations

import json
import logging

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s video_id=%(video_id)s %(message)s"


class VideoIdDefault(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "video_id"):
            record.video_id = "-"
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "video_id": record.video_id, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str, style: str) -> dict:
    """A `logging.config.dictConfig` for the worker: `style` is `text` or `json`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"video_id": {"()": VideoIdDefault}},
        "formatters": {"text": {"format": TEXT_FORMAT}, "json": {"()": JsonLines}},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": style, "filters": ["video_id"]}},
        "root": {"level": level.upper(), "handlers": ["default"]},
    }
