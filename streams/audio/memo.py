"""Values derived from one array, kept as long as the array lives.

One video's soundtrack is compared with every candidate (streams.pipeline.judge): its re-timed
item lines, their spectra and its landmark hashes are the same each time. They are memoised on the
query's own arrays (its items, its packed landmarks), not in a global cache: they go when the
query goes, and a new video's arrays, even equal ones, start afresh."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_memos: dict[int, dict] = {}


def derived(array: np.ndarray, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it returned before for this array object and key. The array must not be
    changed in place while it is used as a key (the query's arrays are decoded once, never written)."""
    if not isinstance(array, np.ndarray):  # a list or a tuple: nothing to tie the values' life to
        return compute()
    memo = _memos.get(id(array))
    if memo is None:
        memo = _memos[id(array)] = {}
        weakref.finalize(array, _memos.pop, id(array), None)
    if key not in memo:
        memo[key] = compute()
    return memo[key]
