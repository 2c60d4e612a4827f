"""The articles and what is derived from them: watchlist hits, places, and the story groups and story index.

Articles are keyed by the hash of their canonical URL; their tags and story membership by the article id.
"""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.warehouse.schema.base import KEY, RUN_ID, TS, metadata

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("canonical_url", sa.Text, nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("outlet_country", sa.String(2)),
    sa.Column("title", sa.Text),
    sa.Column("title_key", KEY, index=True),  # normalised title hash: same-outlet duplicates fold
    sa.Column("author", sa.Text),
    sa.Column("published_at", TS),  # the instant (UTC)
    # the page's own reading of it, offset kept ("2021-10-28T00:30:00+04:30"): its calendar day and clock
    sa.Column("published_local", sa.String(40)),
    sa.Column("date_source", sa.String(8)),
    sa.Column("language", sa.String(8)),
    sa.Column("language_source", sa.String(10)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("word_count", sa.Integer, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),  # every feed entry and outlet that pointed here
    sa.Column("countries", sa.JSON, nullable=False),  # ISO alpha-2 codes, most mentioned first
    sa.Column("regions", sa.JSON, nullable=False),
    # of those, the ones the article is about (NULL: stored before focus was told apart; read as all of them)
    sa.Column("focus_countries", sa.JSON),
    sa.Column("focus_regions", sa.JSON),
    sa.Column("primary_country", sa.String(2)),
    sa.Column("primary_region", sa.String(64)),
    sa.Column("gist", sa.Text),  # a line in English of what it is about (tagging.gist); NULL before it existed
    sa.Column("first_run_id", RUN_ID),
    sa.Column("fetched_at", TS),
    sa.Column("first_seen_at", TS),  # when a feed first led us here (a page retried later keeps its first try)
    # when the article became visible to digests (the storing run's time; a release's time): the delivery
    # ledger hands every article to the next digest of each matching subscription after this instant
    sa.Column("stored_at", TS),
    sa.Column("text_hash", KEY, index=True),  # exact duplicates (syndicated copy) are one article
    sa.Column("signature", sa.LargeBinary),  # MinHash for story grouping (tagging/signatures.py)
    sa.Column("signature_version", sa.String(40)),
    # Newest first, ties by id: the UI's keyset walk and every date range (digest days, spikes, stories).
    sa.Index("ix_articles_published", "published_at", "article_id"),
    # An outlet's articles newest first: the UI's outlet filter reads them in order, never the whole table.
    sa.Index("ix_articles_outlet_published", "outlet_id", "published_at", "article_id"),
    # what was stored since a subscription's last digest
    sa.Index("ix_articles_stored", "stored_at", "article_id"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("story_id", KEY, primary_key=True),  # the id of its first article
    sa.Column("title", sa.Text),
    sa.Column("first_seen", TS, nullable=False, index=True),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("article_count", sa.Integer, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("outlets", sa.JSON, nullable=False),
    sa.Column("outlet_countries", sa.JSON, nullable=False),
    sa.Column("countries", sa.JSON, nullable=False),
)

article_stories = sa.Table(
    "article_stories",
    metadata,
    sa.Column("article_id", KEY, sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("story_id", KEY, nullable=False, index=True),
    sa.Column("matched_article_id", KEY),  # the article it joined through
    sa.Column("similarity", sa.Float),
    sa.Column("duplicate_of", KEY),
)

# The story index, kept in the warehouse so that a run holds only its own articles and candidates: one
# row per LSH band of each placed article's signature (tagging/signatures.band_keys), written in the
# transaction that stores the article's story. A new article's candidates are the articles that share a
# band key with it and were published within the story window (warehouse/stories.py).
story_bands = sa.Table(
    "story_bands",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),  # band number << 32 | the band's 32-bit hash
    sa.Column("published_at", TS, primary_key=True),  # the article's (fetched_at if it gave none)
    # No foreign key: LSH_BANDS (40) rows an article, each would look its article up when written; a row
    # whose article is gone matches nothing, as candidates are read joined with their articles. The index
    # on article_id: an article placed again has its rows replaced.
    sa.Column("article_id", KEY, primary_key=True, index=True),
    sqlite_with_rowid=False,  # SQLite keeps the rows in the primary key's tree: one tree less to write
)

# What story_bands holds: the band layout and signature version its keys were made with, and the earliest
# published time from which every placed article has its rows (older ones are filled when a run needs them).
story_index = sa.Table(
    "story_index",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),  # one row: "story_bands" (a name, not a key)
    sa.Column("version", sa.String(80), nullable=False),  # tagging/signatures.BAND_VERSION
    sa.Column("complete_from", TS, nullable=False),
)

watchlist_hits = sa.Table(
    "watchlist_hits",
    metadata,
    sa.Column("article_id", KEY, sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("watchlist", sa.String(100), primary_key=True),
    sa.Column("term", sa.String(200), primary_key=True),
    sa.Column("field", sa.String(10), primary_key=True),  # "title" or "text"
    sa.Column("start", sa.Integer, primary_key=True),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("alias", sa.Text, nullable=False),
    sa.Column("matched", sa.Text, nullable=False),
    sa.Column("snippet", sa.Text, nullable=False),
    sa.Column("version", sa.String(50), nullable=False),
    sa.Index("ix_watchlist_hits_term", "watchlist", "term"),
    # A watchlist's hit articles without touching the heap: the digest's 14-day spike baseline.
    sa.Index("ix_watchlist_hits_article", "watchlist", "article_id", "term"),
)

article_places = sa.Table(
    "article_places",
    metadata,
    sa.Column("article_id", KEY, sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    # "country", "region", their focus rows "focus_cty", "focus_reg", or "place" (records.PlaceTag)
    sa.Column("kind", sa.String(10), primary_key=True),
    # alpha-2 for countries, name for regions, GeoNames id or ISO 3166-2 code for places
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("mentions", sa.Integer, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    # A region's (or country's) articles as an id list: the UI's region filter joins it with the hits.
    sa.Index("ix_article_places_code_article", "kind", "code", "article_id"),
)

# The places of the articles that have watchlist hits, with their published time: what the UI's region
# filter lists, newest first, from one index range. Derived from article_places and watchlist_hits
# (warehouse.articles.refresh_hit_places keeps it in step on every write of either). Without it, a region
# whose articles rarely have hits makes the database walk every article newest first (7 s on 1M).
hit_places = sa.Table(
    "hit_places",
    metadata,
    sa.Column("article_id", KEY, sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("published_at", TS),
    sa.Index("ix_hit_places_code_published", "kind", "code", "published_at", "article_id"),
)
