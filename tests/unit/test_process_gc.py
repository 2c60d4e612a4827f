"""A batch freezes the objects alive when it starts (so the cyclic collector doesn't walk them again and
again) and hands them back at the end: a long-lived process (the scheduler's ``dag.test``, a worker)
must not keep every batch's objects out of the collector's reach."""

from __future__ import annotations

import gc

import pytest

from media_monitoring.pipeline import _long_lived_frozen

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _nothing_frozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_batch_freezes_what_is_alive_and_releases_it_after() -> None:
    alive = [object() for _ in range(10)]
    with _long_lived_frozen():
        assert gc.get_freeze_count() > len(alive)
    assert gc.get_freeze_count() == 0


def test_released_even_when_the_batch_fails() -> None:
    with pytest.raises(RuntimeError), _long_lived_frozen():
        raise RuntimeError("a failing batch")
    assert gc.get_freeze_count() == 0


def test_a_caller_that_froze_objects_of_its_own_keeps_them_frozen() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with _long_lived_frozen():
        pass
    assert gc.get_freeze_count() >= frozen
