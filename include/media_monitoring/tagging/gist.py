"""A line in English of what an article is about, for an analyst who does not read its language: the language,
the countries it is about and its best-named places (English names from the gazetteers), and the watchlist terms
it matched (English term names). No machine translation: the line is built from the tags, so it says only what
the tags say.

    "Persian: about Afghanistan and Russia (Kabul); watchlist: Afghanistan, Lavrov."
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from media_monitoring.records import PlaceTag

MAX_PLACES = 3


@cache
def language_name(code: str | None) -> str | None:
    """"Persian" for "fa" (ISO 639 names, pycountry); the code itself when it is not a known language."""
    import pycountry

    if not code:
        return None
    primary = code.split("-")[0].lower()
    found = pycountry.languages.get(alpha_2=primary) or pycountry.languages.get(alpha_3=primary)
    return found.name.split(";")[0].strip() if found is not None else code


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def english_line(language: str | None, focus: Sequence[PlaceTag], places: Sequence[PlaceTag],
                 terms: Sequence[str]) -> str:
    """The line (see the module docstring); parts without tags are left out."""
    parts = []
    about = [c.name for c in focus]
    named = [p.name for p in places][:MAX_PLACES]
    if about:
        parts.append(f"about {_and(about)}" + (f" ({', '.join(named)})" if named else ""))
    elif named:
        parts.append(f"places: {', '.join(named)}")
    if terms:
        parts.append("watchlist: " + ", ".join(dict.fromkeys(terms)))
    body = "; ".join(parts) or "no country, place or watchlist term recognised"
    name = language_name(language)
    return f"{name}: {body}." if name else f"{body[:1].upper()}{body[1:]}."
