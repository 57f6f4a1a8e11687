"""Write the JSON Schema of every topic's value to schemas/json/ (run after changing a model)."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.events import PUBLIC_MODELS
from schemas.internal import AcceptedVideo, FeatureHalf, JoinedVideo

JSON_DIR = Path(__file__).parent / "json"
ALL_MODELS = {
    **PUBLIC_MODELS,
    "internal-accepted.value": AcceptedVideo,
    "internal-features.value": FeatureHalf,
    "internal-joined.value": JoinedVideo,
}


def rendered() -> dict[str, str]:
    """File name -> JSON text, exactly as checked in."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"
        for name, model in ALL_MODELS.items()
    }


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for stale in JSON_DIR.glob("*.schema.json"):
        stale.unlink()
    for name, text in rendered().items():
        (JSON_DIR / name).write_text(text)
        print(JSON_DIR / name)


if __name__ == "__main__":
    main()
