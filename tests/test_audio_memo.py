"""streams.audio.memo: values derived from an array live as long as the array."""

from __future__ import annotations

import gc

import numpy as np

from streams.audio import memo


def test_computed_once_per_array_and_key_and_dropped_with_the_array():
    calls = []
    items = np.arange(10, dtype=np.uint32)
    for _ in range(3):
        assert memo.derived(items, ("sum", 1), lambda: calls.append(1) or int(items.sum())) == 45
    memo.derived(items, ("sum", 2), lambda: calls.append(2))
    assert calls == [1, 2]
    equal = items.copy()  # an equal array is another query: computed afresh
    memo.derived(equal, ("sum", 1), lambda: calls.append(3))
    assert calls == [1, 2, 3]
    held = len(memo._memos)
    del items, equal
    gc.collect()
    assert len(memo._memos) == held - 2


def test_a_list_is_not_memoised():
    calls = []
    items = [1, 2, 3]
    for _ in range(2):
        memo.derived(items, "key", lambda: calls.append(1))
    assert calls == [1, 1]
