"""The Faust app's declarations, checked without a broker."""

from streams.app import app, halves


def test_the_join_tables_changelog_decodes_what_it_wrote():
    # A restarted worker rebuilds the join table from this changelog; an entry it cannot decode
    # stalls table recovery and the worker never takes events again.
    topic = halves.changelog_topic
    waiting = b"dsh1f\x00" + bytes(6) + b"\xff\x00 not JSON"  # a half's bytes (streams.wire), kept as they came
    key = app.serializers.dumps_key(topic.key_type, "clip-1", serializer=topic.key_serializer)
    value = app.serializers.dumps_value(topic.value_type, waiting, serializer=topic.value_serializer)
    assert app.serializers.loads_key(topic.key_type, key, serializer=topic.key_serializer) == "clip-1"
    assert app.serializers.loads_value(topic.value_type, value, serializer=topic.value_serializer) == waiting
