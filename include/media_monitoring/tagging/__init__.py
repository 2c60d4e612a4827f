"""Tagging: watchlist terms and places (countries, regions), each tag with its evidence."""

from __future__ import annotations

from media_monitoring.tagging.tagger import Tagger, TagResult

__all__ = ["TagResult", "Tagger"]
