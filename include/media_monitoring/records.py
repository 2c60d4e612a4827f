"""The records an article becomes on its way from a feed to a digest, each typed once, here.

::

    feed ── FeedEntry ──► collect ── StagedArticle (its Sources) ──► staging table ──► process
    process: validate (a frame built from the StagedArticles) ─► tag ─► Article (its Hits and PlaceTags)
             ─► articles, watchlist_hits, article_places; stories: Story ─► stories table
    compose: hits of stored articles ─► DigestItem (its DigestTerms, its DigestStory) ─► digest_entries ─► render

Times are ``datetime`` objects throughout. Text forms of them exist only where a record is written as JSON
(the staging and quarantine payloads, a failed page's feed entry, a digest entry's story) and where the
warehouse stores a page's own reading of its date (``published_local``). The ``to_json``/``from_json`` and
``as_row``/``from_row`` methods here are those boundaries, called where records are stored and read back:
in the warehouse's modules, and in compose for the digest entries it freezes and loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

JsonObject = dict[str, Any]  # what a JSON column holds and hands back


def utc(moment: datetime) -> datetime:
    """The instant in UTC; a naive datetime is taken as UTC already (as SQLite hands stored times back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _time(value: str | None) -> datetime | None:
    """A time written by :meth:`datetime.isoformat` into a JSON payload, read back as it was written."""
    return datetime.fromisoformat(value) if value else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- collect -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    """One usable entry of a feed (:mod:`media_monitoring.feeds`): collect fetches its page. A page that
    failed keeps its entry (``fetch_failures.entry``, as JSON) to be retried from."""

    entry_id: str
    link: str
    canonical_url: str
    title: str
    published: datetime | None
    summary: str

    def to_json(self) -> JsonObject:
        return {**asdict(self), "published": _text(self.published)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeedEntry:
        return cls(entry_id=data["entry_id"], link=data["link"], canonical_url=data["canonical_url"],
                   title=data["title"], published=_time(data.get("published")), summary=data["summary"])


@dataclass(frozen=True)
class Source:
    """A feed entry that led to an article: its provenance, kept in ``articles.sources``. An article has
    one per feed entry, outlet and repost that pointed at it."""

    outlet_id: str
    link: str
    feed_url: str | None = None
    entry_id: str | None = None

    def to_json(self) -> JsonObject:
        """The JSON form; a field not known is left out, so a source reads back exactly as it was written."""
        data = {"outlet_id": self.outlet_id, "feed_url": self.feed_url, "entry_id": self.entry_id,
                "link": self.link}
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Source:
        return cls(outlet_id=data["outlet_id"], link=data["link"], feed_url=data.get("feed_url"),
                   entry_id=data.get("entry_id"))


def sources_to_json(sources: Iterable[Source]) -> list[JsonObject]:
    return [s.to_json() for s in sources]


@dataclass(frozen=True)
class StagedArticle:
    """One extracted page as collect stages it and process validates it (``staging.record``, as JSON; a
    quarantined article keeps it in ``quarantine.record`` to be released from).

    Every field but the four keys has a default: payloads staged or quarantined by earlier releases, and
    records made by hand, may lack some. ``published_at`` is the page's own reading, its offset kept.
    """

    article_id: str
    canonical_url: str
    url: str
    outlet_id: str
    outlet_country: str | None = None
    title: str | None = None
    title_key: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    date_source: str | None = None
    date_set_aside: str | None = None  # why the page's own reading of its date was not taken, if it was not
    language: str | None = None
    language_source: str | None = None
    text: str = ""
    word_count: int = 0
    boilerplate_removed: int = 0  # recurring outlet lines cleaned from the text
    extractor: str | None = None
    sitename: str | None = None
    sources: tuple[Source, ...] = ()
    fetched_at: datetime | None = None
    first_seen_at: datetime | None = None  # a page retried later was first seen at its first try
    run_id: str | None = None
    entry_ids: tuple[str, ...] = ()  # keys of the feed links that led here

    def to_json(self) -> JsonObject:
        return {
            "article_id": self.article_id, "canonical_url": self.canonical_url, "url": self.url,
            "outlet_id": self.outlet_id, "outlet_country": self.outlet_country, "title": self.title,
            "title_key": self.title_key, "author": self.author, "published_at": _text(self.published_at),
            "date_source": self.date_source, "date_set_aside": self.date_set_aside, "language": self.language,
            "language_source": self.language_source, "text": self.text, "word_count": self.word_count,
            "boilerplate_removed": self.boilerplate_removed,
            "extractor": self.extractor, "sitename": self.sitename, "sources": sources_to_json(self.sources),
            "fetched_at": _text(self.fetched_at), "first_seen_at": _text(self.first_seen_at),
            "run_id": self.run_id, "entry_ids": list(self.entry_ids),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StagedArticle:
        return cls(
            article_id=data["article_id"], canonical_url=data["canonical_url"], url=data["url"],
            outlet_id=data["outlet_id"], outlet_country=data.get("outlet_country"), title=data.get("title"),
            title_key=data.get("title_key"), author=data.get("author"),
            published_at=_time(data.get("published_at")), date_source=data.get("date_source"),
            date_set_aside=data.get("date_set_aside"), language=data.get("language"),
            language_source=data.get("language_source"),
            text=data.get("text") or "", word_count=int(data.get("word_count") or 0),
            boilerplate_removed=int(data.get("boilerplate_removed") or 0), extractor=data.get("extractor"),
            sitename=data.get("sitename"), sources=tuple(Source.from_json(s) for s in data.get("sources") or ()),
            fetched_at=_time(data.get("fetched_at")), first_seen_at=_time(data.get("first_seen_at")),
            run_id=data.get("run_id"), entry_ids=tuple(data.get("entry_ids") or ()),
        )


# -- process -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One watchlist match in an article (:mod:`media_monitoring.tagging.watchlists`), stored as a
    ``watchlist_hits`` row; the digest and the alerts explain an article by its hits."""

    watchlist: str
    term: str
    alias: str  # the configured alias that matched
    matched: str  # the text as written in the article
    field: str  # "title" or "text"
    start: int
    end: int
    snippet: str
    version: str

    def to_json(self) -> JsonObject:
        return {
            "watchlist": self.watchlist, "term": self.term, "alias": self.alias, "matched": self.matched,
            "field": self.field, "span": [self.start, self.end], "snippet": self.snippet,
            "version": self.version,
        }

    def as_row(self, article_id: str) -> JsonObject:
        """The ``watchlist_hits`` row of this hit in article ``article_id``."""
        return {"article_id": article_id, "watchlist": self.watchlist, "term": self.term, "field": self.field,
                "start": self.start, "end": self.end, "alias": self.alias, "matched": self.matched,
                "snippet": self.snippet, "version": self.version}


# The kinds of ``article_places`` rows: every country and region an article refers to ("country", "region"), the
# ones it is about (their focus rows, "focus_cty" and "focus_reg", whose evidence says why), and the places below a
# country it names ("place": a city by its GeoNames id, a first-level region by its ISO 3166-2 code).
COUNTRY, REGION, PLACE = "country", "region", "place"
FOCUS_KIND = {COUNTRY: "focus_cty", REGION: "focus_reg"}


@dataclass(frozen=True)
class PlaceTag:
    """A country, region or place an article refers to (:mod:`media_monitoring.tagging.places`), with the evidence
    for it (at most a few mentions, as JSON: the matched text, where, a snippet, the gazetteer entry); stored as
    an ``article_places`` row, and a country or region the article is about (``focus``) as a second row of the
    focus kind whose evidence is ``focus``: why (headline, lead, mentions, its places)."""

    kind: str  # COUNTRY, REGION or PLACE
    code: str  # ISO alpha-2 for a country, the region's name, a place's GeoNames id or ISO 3166-2 code
    name: str
    mentions: int = 0
    weight: int = 0  # mentions, a headline's counting more: ranks the tags
    first: int = 0  # offset of the first mention in "title\ntext"
    evidence: tuple[JsonObject, ...] = ()
    focus: JsonObject | None = None  # a country or region the article is about: why; None: only mentioned
    country: str | None = None  # a place's country (alpha-2)

    def to_json(self) -> JsonObject:
        out: JsonObject = {"code": self.code, "name": self.name, "mentions": self.mentions,
                           "evidence": list(self.evidence)}
        if self.kind == PLACE:
            out["country"] = self.country
        else:
            out["focus"] = self.focus  # why the article is about it; null: only mentioned
        return out

    def as_rows(self, article_id: str) -> list[JsonObject]:
        """The ``article_places`` rows of this tag of article ``article_id``: its own, and its focus row."""
        rows = [{"article_id": article_id, "kind": self.kind, "code": self.code, "name": self.name,
                 "mentions": self.mentions, "evidence": list(self.evidence)}]
        if self.focus is not None and self.kind in FOCUS_KIND:
            rows.append({"article_id": article_id, "kind": FOCUS_KIND[self.kind], "code": self.code,
                         "name": self.name, "mentions": self.mentions, "evidence": [self.focus]})
        return rows


@dataclass(frozen=True)
class Article:
    """A validated, tagged article as process stores it (``articles``), with its hits and places.

    ``published_at`` is the instant in UTC; ``published_local`` the page's own reading of it, its offset
    kept (its calendar day and clock), stored as text. ``stored_at`` is the storing run's time: from then on
    the article is due in the next digest of every subscription it matches.
    """

    article_id: str
    canonical_url: str
    url: str
    outlet_id: str
    outlet_country: str | None = None
    title: str | None = None
    title_key: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    published_local: datetime | None = None
    date_source: str | None = None
    language: str | None = None
    language_source: str | None = None
    text: str = ""
    word_count: int = 0
    sources: tuple[Source, ...] = ()
    countries: tuple[str, ...] = ()  # ISO alpha-2 codes, most weighted first
    regions: tuple[str, ...] = ()
    focus_countries: tuple[str, ...] = ()  # of those, the ones the article is about
    focus_regions: tuple[str, ...] = ()
    primary_country: str | None = None
    primary_region: str | None = None
    gist: str | None = None  # a line in English of what it is about (tagging.gist)
    first_run_id: str | None = None
    fetched_at: datetime | None = None
    first_seen_at: datetime | None = None
    stored_at: datetime | None = None
    text_hash: str | None = None  # exact duplicates share it
    signature: bytes | None = None  # packed MinHash (tagging.signatures), for stories
    signature_version: str | None = None
    hits: tuple[Hit, ...] = ()
    places: tuple[PlaceTag, ...] = ()

    def as_row(self) -> JsonObject:
        """The ``articles`` row (its hits and places are rows of their own: :meth:`Hit.as_row`,
        :meth:`PlaceTag.as_row`)."""
        return {
            "article_id": self.article_id, "canonical_url": self.canonical_url, "url": self.url,
            "outlet_id": self.outlet_id, "outlet_country": self.outlet_country, "title": self.title,
            "title_key": self.title_key, "author": self.author, "published_at": self.published_at,
            "published_local": _text(self.published_local), "date_source": self.date_source,
            "language": self.language, "language_source": self.language_source, "text": self.text,
            "word_count": self.word_count, "sources": sources_to_json(self.sources),
            "countries": list(self.countries), "regions": list(self.regions),
            "focus_countries": list(self.focus_countries), "focus_regions": list(self.focus_regions),
            "primary_country": self.primary_country, "primary_region": self.primary_region, "gist": self.gist,
            "first_run_id": self.first_run_id, "fetched_at": self.fetched_at, "first_seen_at": self.first_seen_at,
            "stored_at": self.stored_at, "text_hash": self.text_hash, "signature": self.signature,
            "signature_version": self.signature_version,
        }


@dataclass(frozen=True)
class Quarantined:
    """A staged article that failed validation: the expectations it failed (in suite order) and the values
    they observed. Stored as a ``quarantine`` row with the record, to be released later."""

    record: StagedArticle
    failed: tuple[str, ...]
    observed: JsonObject  # expectation name -> the value it observed (JSON-friendly)


# -- stories -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """A story as the digest tells it: "covered by 4 outlets in 3 countries", first seen at ... Made by
    :func:`media_monitoring.tagging.stories.summarise` from its articles, stored as a ``stories`` row, read
    back by compose."""

    story_id: str
    first_seen: datetime  # earliest published_at of its articles
    last_seen: datetime
    article_count: int  # distinct texts: exact duplicates count once
    copies: int  # all its articles, exact duplicates included
    outlets: tuple[str, ...]  # outlet ids, sorted
    outlet_countries: tuple[str, ...]  # where those outlets are, sorted
    countries: tuple[str, ...]  # countries its articles are tagged with, most articles first, then by code

    def to_row(self) -> JsonObject:
        """The ``stories`` row of this story (its title is the first article's, added by the pipeline)."""
        return {"story_id": self.story_id, "first_seen": self.first_seen, "last_seen": self.last_seen,
                "article_count": self.article_count, "copies": self.copies, "outlets": list(self.outlets),
                "outlet_countries": list(self.outlet_countries), "countries": list(self.countries)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Story:
        """From a ``stories`` row (times as the warehouse hands them back)."""
        return cls(story_id=row["story_id"], first_seen=row["first_seen"], last_seen=row["last_seen"],
                   article_count=row["article_count"], copies=row["copies"], outlets=tuple(row["outlets"] or ()),
                   outlet_countries=tuple(row["outlet_countries"] or ()), countries=tuple(row["countries"] or ()))


# -- digests -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestTerm:
    """Why an article is in a digest: the first hit of one of its terms."""

    term: str
    alias: str
    matched: str
    field: str
    snippet: str

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DigestTerm:
        return cls(term=data["term"], alias=data["alias"], matched=data["matched"], field=data["field"],
                   snippet=data["snippet"])


@dataclass(frozen=True)
class StoryLink:
    """Another article of a digest item's story, listed under its lead ("Same story: ...")."""

    article_id: str
    title: str
    url: str
    outlet_id: str


@dataclass(frozen=True)
class DigestStory:
    """A digest item's story: the lead (the best-ranked article of its story in the digest) carries the
    coverage and the others (``also``); every other article names its lead (``led_by``) and is listed only
    under it."""

    story_id: str
    led_by: str | None = None
    coverage: str | None = None  # "covered by 3 outlets in 2 countries"
    first_seen: datetime | None = None
    outlets: tuple[str, ...] = ()
    also: tuple[StoryLink, ...] = ()

    def to_json(self) -> JsonObject:
        if self.led_by is not None:
            return {"story_id": self.story_id, "led_by": self.led_by}
        return {"story_id": self.story_id, "coverage": self.coverage, "first_seen": _text(self.first_seen),
                "outlets": list(self.outlets), "also": [asdict(a) for a in self.also]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DigestStory:
        return cls(story_id=data["story_id"], led_by=data.get("led_by"), coverage=data.get("coverage"),
                   first_seen=_time(data.get("first_seen")), outlets=tuple(data.get("outlets") or ()),
                   also=tuple(StoryLink(a["article_id"], a["title"], a["url"], a["outlet_id"])
                              for a in data.get("also") or ()))


@dataclass(frozen=True)
class DigestItem:
    """One article in one watchlist's section of a digest, as compose freezes it (``digest_entries``) and
    render shows it."""

    article_id: str
    rank: int
    title: str
    url: str
    outlet_id: str
    language: str | None = None
    published_at: datetime | None = None
    published_local: str | None = None  # the page's own reading of its date, as stored
    first_seen_at: datetime | None = None
    stored_at: datetime | None = None
    late: bool = False  # published before the window it arrived in: not today's news
    in_regions: bool = False  # tagged with one of the subscription's regions
    terms: tuple[DigestTerm, ...] = ()
    outlet_country: str | None = None
    primary_country: str | None = None
    primary_region: str | None = None
    story: DigestStory | None = None
    gist: str | None = None  # what it is about, in English (tagging.gist)

    @property
    def listed(self) -> bool:
        """Listed on its own: not an article that rides along with its story's lead."""
        return self.story is None or self.story.led_by is None

    def as_row(self, subscription: str, digest_date: date, watchlist: str) -> JsonObject:
        """The ``digest_entries`` row of this item in ``subscription``'s digest of ``digest_date``."""
        return {
            "subscription": subscription, "digest_date": digest_date, "watchlist": watchlist,
            "article_id": self.article_id, "rank": self.rank, "title": self.title, "url": self.url,
            "outlet_id": self.outlet_id, "language": self.language, "published_at": self.published_at,
            "published_local": self.published_local, "first_seen_at": self.first_seen_at,
            "stored_at": self.stored_at, "late": self.late, "in_regions": self.in_regions,
            "terms": [t.to_json() for t in self.terms], "outlet_country": self.outlet_country,
            "primary_country": self.primary_country, "primary_region": self.primary_region,
            "story": self.story.to_json() if self.story else None, "gist": self.gist,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DigestItem:
        """From a ``digest_entries`` row."""
        return cls(
            article_id=row["article_id"], rank=row["rank"], title=row["title"], url=row["url"],
            outlet_id=row["outlet_id"], language=row["language"], published_at=row["published_at"],
            published_local=row["published_local"], first_seen_at=row["first_seen_at"],
            stored_at=row["stored_at"], late=row["late"], in_regions=row["in_regions"],
            terms=tuple(DigestTerm.from_json(t) for t in row["terms"] or ()),
            outlet_country=row["outlet_country"], primary_country=row["primary_country"],
            primary_region=row["primary_region"],
            story=DigestStory.from_json(row["story"]) if row["story"] else None, gist=row.get("gist"),
        )
