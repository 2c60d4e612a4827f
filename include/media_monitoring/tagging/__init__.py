"""Tagging: watchlist terms and places (countries, regions), each tag with its evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from media_monitoring.tagging.tagger import Tagger, TagResult

__all__ = ["TagResult", "Tagger"]


def __getattr__(name: str) -> Any:
    """``Tagger`` and ``TagResult`` load the matchers on first use, so the other tagging modules (stories,
    signatures, matching) can be imported without them."""
    if name in __all__:
        from media_monitoring.tagging import tagger

        return getattr(tagger, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
