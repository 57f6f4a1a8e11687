"""The Faust app's declarations, checked without a broker."""

import subprocess
import sys

from streams.app import create_app
from streams.config import Settings


def test_the_join_tables_changelog_decodes_what_it_wrote():
    # A restarted worker rebuilds the join table from this changelog; an entry it cannot decode
    # stalls table recovery and the worker never takes events again.
    stream = create_app(Settings())
    app, topic = stream.app, stream.halves.changelog_topic
    waiting = b"dsh1f\x00" + bytes(6) + b"\xff\x00 not JSON"  # a half's bytes (streams.wire), kept as they came
    key = app.serializers.dumps_key(topic.key_type, "clip-1", serializer=topic.key_serializer)
    value = app.serializers.dumps_value(topic.value_type, waiting, serializer=topic.value_serializer)
    assert app.serializers.loads_key(topic.key_type, key, serializer=topic.key_serializer) == "clip-1"
    assert app.serializers.loads_value(topic.value_type, value, serializer=topic.value_serializer) == waiting


def test_the_app_is_built_from_the_settings_passed_in():
    stream = create_app(Settings(app_id="other", topic_published="uploads", kafka_bootstrap="broker:1234",
                                 triton_url="grpc://triton:8001"))
    assert stream.app.conf.id == "other" and stream.published.get_topic_name() == "uploads"
    assert stream.accepted.get_topic_name() == "other-accepted"
    assert str(stream.app.conf.broker[0]) == "kafka://broker:1234"
    assert stream.runtime.settings.triton_url == "grpc://triton:8001"


def test_every_stage_registers_its_agent_on_the_app_it_is_given():
    from streams.worker import register_stages

    stream = create_app(Settings())
    register_stages(stream)
    assert sorted(stream.app.agents) == ["audio", "frames", "ingest", "join", "match", "removal"]


# With the stage modules that the tools import when they run (describe_frames, audio_half, match_video).
TOOLS = ["streams.pipeline", "streams.backfill", "streams.migrate", "tooling.evaluation.runner",
         "tooling.evaluation.calibrate", *(f"tooling.bench.{name}_bench" for name in
                                           ("burst", "frames", "hops", "index", "triton")),
         "streams.stages.frames", "streams.stages.audio", "streams.stages.match"]


def test_the_tools_and_the_stage_logic_import_no_faust_app():
    # They run the per-video pipeline; building an app would need its settings and its broker
    # configuration, and would register agents as a side effect. One fresh interpreter for all.
    imported = subprocess.run([sys.executable, "-c", f"import sys, {', '.join(TOOLS)}; print(sorted(m for m in "
                               "sys.modules if m == 'faust' or m.startswith('faust.') or m == 'streams.app'))"],
                              capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"


def test_a_worker_imports_none_of_the_development_tools():
    # A production worker runs the stages and their adapters; the development set, evaluation,
    # calibration, benchmarks and studies stay out of its process.
    tools = ("tooling", "streams.demo", "streams.backfill", "streams.migrate")
    worker = ("from streams.app import create_app; from streams.config import Settings; "
              "from streams.worker import register_stages, run_worker; import streams.api, streams.metrics; "
              "import streams.embedding.onnx, streams.embedding.triton, streams.index.edge, streams.index.server; "
              "register_stages(create_app(Settings())); import sys; "
              f"print(sorted(m for m in sys.modules if m.startswith({tools!r})))")
    imported = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"


# Run in an interpreter where `tooling` cannot be imported, as in the worker image (which installs
# `streams` and `schemas` only): every module of `streams`, then the commands that need the tooling.
WITHOUT_TOOLING = """
import importlib, pkgutil, sys

class NoTooling:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "tooling":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTooling())
import streams
modules = [module.name for module in pkgutil.walk_packages(streams.__path__, "streams.")]
for name in modules:
    importlib.import_module(name)
print(len(modules), sorted(name for name in sys.modules if name.partition(".")[0] == "tooling"))
from streams.cli import main
for command in (["devset", "build", "out"], ["eval", "manifest.json"], ["calibrate", "manifest.json"],
                ["bench", "index"], ["demo"]):
    try:
        main(command)
    except SystemExit as error:
        print(command[0], error)
"""


def test_the_runtime_package_imports_without_the_development_tooling():
    ran = subprocess.run([sys.executable, "-c", WITHOUT_TOOLING], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    imported, *commands = ran.stdout.strip().splitlines()
    count, tooling = imported.split(" ", 1)
    assert int(count) > 50 and tooling == "[]"
    assert [line.split(" ", 1)[0] for line in commands] == ["devset", "eval", "calibrate", "bench", "demo"]
    assert all("development tooling not installed" in line for line in commands), commands
