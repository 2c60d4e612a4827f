"""Render a subscription's digest as an HTML email (inlined CSS, autoescaped) and plain text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from media_monitoring.digest.compose import MAX_ITEMS_SHOWN, SubscriptionDigest
from media_monitoring.records import DigestItem, DigestStory
from media_monitoring.rules import MAX_TEXT_CHARS


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


@cache
def _env(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("media_monitoring", "digest/templates"),
        autoescape=autoescape,  # HTML: every value escaped; titles and snippets come from the web
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def subject_for(digest: SubscriptionDigest) -> str:
    """Subject from the date and counts only: nothing from article text reaches a header."""
    return (f"Media Monitor {digest.day.isoformat()}: {digest.article_count} article"
            f"{'' if digest.article_count == 1 else 's'}, {digest.hit_count} mention"
            f"{'' if digest.hit_count == 1 else 's'}")


def window_text(digest: SubscriptionDigest) -> str:
    """The window the digest covers, in the analyst's timezone: "5 Dec 2026 07:00 to 6 Dec 2026 07:00"."""
    tz = ZoneInfo(digest.subscription.timezone)
    start, end = digest.window_start.astimezone(tz), digest.window_end.astimezone(tz)
    if digest.kind == "day":
        return f"articles published on {start.strftime('%d %b %Y')} ({digest.subscription.timezone})"
    return (f"articles stored from {start.strftime('%d %b %Y %H:%M')} to {end.strftime('%d %b %Y %H:%M')} "
            f"({digest.subscription.timezone})")


def _cut(value: Any) -> Any:
    """One line (web text may carry CR/LF and runs of spaces) of at most MAX_TEXT_CHARS characters."""
    if isinstance(value, str):
        value = " ".join(value.split())
        if len(value) > MAX_TEXT_CHARS:
            return value[:MAX_TEXT_CHARS - 1] + "…"
    return value


def _web_url(value: Any) -> str:
    """Only http(s) links reach an href: a ``javascript:`` or ``data:`` URL would run in the mail client."""
    url = str(value or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


def _published(value: Any, tz: ZoneInfo) -> Any:
    """An article's time in the analyst's own timezone (a top story's comes from the digest's context, as
    JSON text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
    return value


def _story(story: DigestStory | None) -> dict[str, Any] | None:
    if story is None:
        return None
    return {**asdict(story), "also": [{**asdict(a), "title": _cut(a.title), "url": _web_url(a.url)}
                                      for a in story.also]}


def _item(item: DigestItem, tz: ZoneInfo) -> dict[str, Any]:
    """An item as the templates show it: one-line cut texts, only web links, the time in ``tz``."""
    return {**asdict(item), "title": _cut(item.title), "url": _web_url(item.url),
            "published_at": _published(item.published_at, tz), "story": _story(item.story),
            "terms": [{k: _cut(v) for k, v in asdict(t).items()} for t in item.terms]}


def render_digest(digest: SubscriptionDigest) -> RenderedDigest:
    import css_inline

    tz = ZoneInfo(digest.subscription.timezone)
    interest = set(digest.subscription.regions)
    sections = []
    for s in digest.sections:
        ctx = s.context or {}
        regions = sorted(ctx.get("regions", []), key=lambda r: (r["region"] not in interest, -r["articles"]))
        # an article that rides along with its story's lead is listed under it, not on its own
        leads = [i for i in s.items if i.listed]
        items = [_item(i, tz) for i in leads[:MAX_ITEMS_SHOWN]]
        stories = [{**st, "title": _cut(st["title"]), "url": _web_url(st.get("url")),
                    "first_seen": _published(st["first_seen"], tz)} for st in ctx.get("stories", [])]
        sections.append({"watchlist": s.watchlist, "version": s.version, "articles": items, "stories": stories,
                         "more": max(0, len(leads) - MAX_ITEMS_SHOWN),
                         "term_counts": s.term_counts, "spikes": [x for x in ctx.get("spikes", []) if x["spike"]],
                         "regions": [{**r, "interest": r["region"] in interest} for r in regions]})
    context = {
        "day": digest.day, "subscription": digest.subscription, "sections": sections,
        "outlet_names": digest.outlet_names, "attention": digest.attention, "quality": digest.quality,
        "article_count": digest.article_count, "hit_count": digest.hit_count, "subject": subject_for(digest),
        "tz_name": digest.subscription.timezone, "window": window_text(digest), "late_count": digest.late_count,
        "regions_only": digest.subscription.regions_mode == "only" and bool(interest),
        "changed": [{**c, "title": _cut(c["title"]), "what": _cut(c["what"]), "url": _web_url(c.get("url"))}
                    for c in digest.changed],
    }
    html = _env(True).get_template("digest.html.j2").render(context)
    text = _env(False).get_template("digest.txt.j2").render(context)
    return RenderedDigest(subject_for(digest), css_inline.inline(html), text)
