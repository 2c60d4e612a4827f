"""Digest and UI queries on a PostgreSQL warehouse of 1 million synthetic articles.

    .venv/bin/python bench/warehouse_1m.py [--articles 1000000] [--repeat 5] [--json out.json] [--keep]

1. Creates a throwaway database on the local PostgreSQL (127.0.0.1:5432, user postgres) and the
   product's schema with ``Warehouse.connect(url)`` (so exactly the tables and indexes of warehouse/schema/).
2. Bulk-loads with COPY (psycopg2 ``copy_expert``), the schema's secondary indexes dropped during the
   load and re-created from their own definitions afterwards (primary keys stay), then ANALYZE:
   * ``articles``: N articles over the 365 days before today (a diurnal curve), 100 outlets of 24
     countries, realistic titles, URLs, sources/countries/regions JSON; bodies are short (~60 words,
     ~400 bytes: kept in the heap row, where real 3-4 KB bodies would be TOASTed out of line, so heap
     scans here are slower than in production, index scans the same);
   * ``watchlist_hits``: ~5% of articles, 1-4 hits each (terms Afghanistan, CSTO, Lavrov; title/text);
   * ``article_places``: every article 1-3 countries and 1-2 regions (UN M49 sub-regions and the
     analyst groupings of include/config/regions.yaml), and the focus rows of its first country and region
     (what the filters read by default), ~5.5 rows per article;
   * ``feed_health`` (100 outlets, a few failing/quiet), ``outlet_quality`` (one row per outlet with new
     articles per 30-minute run over the year), ``digests`` / ``digest_entries`` / ``digest_ledger`` /
     ``digest_sends`` (a year of daily digests for the subscriptions in include/config).
3. Times, warm, median of ``--repeat`` runs: the queries a digest is composed from for yesterday's
   window (``warehouse.digests``: undelivered_hits of a subscription, the 14-day term_article_counts for
   spikes, feed_status_during, outlet_quality_during), and the UI
   queries of ``media_monitoring_ui.queries`` (what the plugin's index page and APIs call): hits
   pages (no filter, term, region, outlet, date range, combined; page 1 and a deep page 300 days back),
   filter choices, digests list (page 1 and a deep offset), a digest, feed health; and full-text search
   (``warehouse.search``: the search index the schema creates, a GIN index over the generated tsvector) with a
   common word (in most bodies), a rare one (0.2%), a very rare one (20 articles), a phrase, a prefix, NOT,
   with and without filters, page 1 and later pages, both sorts: timed ``SEARCH_REPEAT`` times, p95 reported.
4. Every SQL statement is timed through SQLAlchemy events; for any call over 100 ms, its slowest
   statements are re-run under ``EXPLAIN (ANALYZE, BUFFERS)`` and the plans printed.
5. Drops the database (unless ``--keep``).

Loopback only; bounded work; a few minutes for 1M articles on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import loadavg, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
SLOW_MS = 100.0
OUTLETS = 100
WATCHLIST = "central-asia-security"
TERMS = ("Afghanistan", "CSTO", "Lavrov")
HIT_SHARE = 0.05
QUIET_OUTLETS = 5  # the last outlets never have watchlist hits (a sports site): worst case of the outlet filter
QUIET_REGION = "Polynesia"  # tagged only on those outlets' articles: a region filter that matches no hit
COUNTRIES = [("KZ", "Central Asia"), ("KG", "Central Asia"), ("TJ", "Central Asia"), ("UZ", "Central Asia"),
             ("TM", "Central Asia"), ("RU", "Eastern Europe"), ("CN", "Eastern Asia"), ("IR", "Southern Asia"),
             ("PK", "Southern Asia"), ("AF", "Southern Asia"), ("IN", "Southern Asia"), ("TR", "Western Asia"),
             ("DE", "Western Europe"), ("FR", "Western Europe"), ("GB", "Northern Europe"),
             ("US", "Northern America"), ("EG", "Northern Africa"), ("NG", "Western Africa"),
             ("KE", "Eastern Africa"), ("BR", "South America"), ("JP", "Eastern Asia"), ("AZ", "Western Asia"),
             ("AM", "Western Asia"), ("BY", "Eastern Europe")]
GROUPS = {"CSTO members": {"AM", "BY", "KZ", "KG", "RU", "TJ"},
          "Afghanistan's neighbours": {"CN", "IR", "PK", "TJ", "TM", "UZ"}}
RARE_WORD, RARE_EVERY = "Tokayev", 500  # 0.2% of articles (2,000 of 1M)
VERY_RARE_WORD, VERY_RARE_EVERY = "Zhanaozen", 50_000  # 20 of 1M
SEARCH_REPEAT = 20  # search cases are timed this many times each: a p95 needs more than 5 runs
WORDS = ("minister government border security talks agreement election parliament president economy trade "
         "energy gas oil pipeline region capital protest court ruling sanctions bank currency inflation drought "
         "harvest water dam river railway corridor summit delegation visit investment reform opposition budget "
         "tariff exports imports customs migration refugees flood school hospital report statement").split()


def _tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    s = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Loader:
    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.rows: dict[str, int] = {}

    def copy(self, table: str, columns: list[str], rows: Any) -> None:
        buf = io.StringIO()
        n = 0
        for row in rows:
            buf.write("\t".join(_tsv(v) for v in row))
            buf.write("\n")
            n += 1
            if n % 200_000 == 0:
                self._flush(table, columns, buf)
                buf = io.StringIO()
        self._flush(table, columns, buf)
        self.rows[table] = self.rows.get(table, 0) + n

    def _flush(self, table: str, columns: list[str], buf: io.StringIO) -> None:
        buf.seek(0)
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.raw.cursor() as cur:
            cur.copy_expert(f'COPY "{table}" ({cols}) FROM STDIN', buf)
        self.raw.commit()


def generate(loader: Loader, n: int, today: date, subscriptions: list[str]) -> dict[str, Any]:
    rng = random.Random(42)
    outlets = [(f"outlet-{i:03d}", COUNTRIES[i % len(COUNTRIES)][0], f"news{i}.example.{['com', 'kz', 'ru'][i % 3]}")
               for i in range(OUTLETS)]
    bodies = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))) for _ in range(3000)]
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=365)
    # diurnal: more articles in the (UTC) working day
    hour_weights = [0.4 + math.sin(math.pi * h / 24) ** 2 for h in range(24)]
    hits_rows: list[tuple] = []
    places_rows: list[tuple] = []
    hit_articles = 0

    def articles():
        nonlocal hit_articles
        for k in range(n):
            o_index = k % OUTLETS if rng.random() < 0.5 else rng.randrange(OUTLETS)
            outlet, country, host = outlets[o_index]
            quiet = o_index >= OUTLETS - QUIET_OUTLETS
            day = rng.randrange(365)
            hour = rng.choices(range(24), hour_weights)[0]
            published = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
            url = f"https://{host}/news/{published:%Y/%m/%d}/{k}-{rng.choice(WORDS)}-{rng.choice(WORDS)}"
            aid = hashlib.sha256(url.split("://", 1)[1].encode()).hexdigest()[:32]
            title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(WORDS)} in {host} {k}"
            picks = rng.sample(COUNTRIES, rng.randint(1, 3))
            codes = [c for c, _ in picks]
            regions = sorted({r for _, r in picks} | {g for g, members in GROUPS.items() if members & set(codes)})
            regions = regions[:rng.randint(1, 2)] if len(regions) > 2 else regions
            if quiet:
                regions = [*regions, QUIET_REGION]
            run_id = f"scheduled__{published:%Y-%m-%dT%H}:{'00' if published.minute < 30 else '30'}:00+00:00"
            fetched = published + timedelta(minutes=rng.randint(2, 40))
            yield (aid, url, url, outlet, country, title, hashlib.md5(title.encode()).hexdigest(),
                   f"{rng.choice(WORDS).capitalize()} Reporter", published.isoformat(), "page", "en", "page",
                   bodies[rng.randrange(len(bodies))] + f" {k}" + _rare_words(k), 60,
                   [{"outlet_id": outlet, "feed_url": f"https://{host}/rss", "entry_id": url, "link": url}],
                   codes, regions, codes[0], regions[0] if regions else None, run_id, fetched.isoformat(),
                   fetched.isoformat(), (fetched + timedelta(minutes=rng.randint(1, 30))).isoformat())
            for c in codes:
                places_rows.append((aid, "country", c, c, rng.randint(1, 6),
                                    [{"text": c, "field": "text", "start": rng.randrange(300)}]))
            for r in regions:
                places_rows.append((aid, "region", r, r, rng.randint(1, 6), [{"via": codes[0]}]))
            # what the article is about (the filters' default): its first country and that country's region
            places_rows.append((aid, "focus_cty", codes[0], codes[0], 1, [{"score": 3}]))
            if regions:
                places_rows.append((aid, "focus_reg", regions[0], regions[0], 1, [{"focus_countries": [codes[0]]}]))
            if not quiet and rng.random() < HIT_SHARE:
                hit_articles += 1
                for term in rng.sample(TERMS, rng.randint(1, 2)):
                    for j in range(rng.randint(1, 2)):
                        fld = "title" if j == 0 and rng.random() < 0.4 else "text"
                        pos = rng.randrange(400)
                        hits_rows.append((aid, WATCHLIST, term, fld, pos, pos + len(term), term, term,
                                          f"... the {term} talks in {country} ...", "2026.11.2"))

    def flush_children():
        loader.copy("article_places", ["article_id", "kind", "code", "name", "mentions", "evidence"],
                    _dedupe(places_rows, 3))
        places_rows.clear()

    cols = ["article_id", "canonical_url", "url", "outlet_id", "outlet_country", "title", "title_key", "author",
            "published_at", "date_source", "language", "language_source", "text", "word_count", "sources",
            "countries", "regions", "primary_country", "primary_region", "first_run_id", "fetched_at",
            "first_seen_at", "stored_at"]
    t = time.perf_counter()
    # articles first (children reference them); children buffered and flushed after each article chunk
    pending: list[tuple] = []
    for row in articles():
        pending.append(row)
        if len(pending) >= 100_000:
            loader.copy("articles", cols, pending)
            pending.clear()
            flush_children()
            print(f"  {loader.rows['articles']:,} articles loaded ({time.perf_counter() - t:.0f} s)", flush=True)
    loader.copy("articles", cols, pending)
    flush_children()
    loader.copy("watchlist_hits", ["article_id", "watchlist", "term", "field", "start", "end", "alias", "matched",
                                   "snippet", "version"], _dedupe(hits_rows, 5))

    now = datetime(today.year, today.month, today.day, tzinfo=UTC)
    statuses = ["ok"] * 90 + ["quiet"] * 5 + ["failing"] * 3 + ["blocked", "drifting"]
    loader.copy("feed_health", ["outlet_id", "feed_url", "last_attempt_at", "last_success_at", "last_new_item_at",
                                "http_status", "consecutive_failures", "entries_seen", "new_items",
                                "validators_trusted", "polls_since_full", "first_polled_at", "items_per_day",
                                "poll_interval_s", "next_poll_at", "status", "status_reason"],
                ((o, f"https://{h}/rss", now.isoformat(), now.isoformat(), now.isoformat(), 200, 0, 30, 2, True, 1,
                  start.isoformat(), 27.4, 900, (now + timedelta(minutes=15)).isoformat(), statuses[i],
                  None if statuses[i] == "ok" else f"{statuses[i]} since yesterday")
                 for i, (o, _c, h) in enumerate(outlets)))
    quality = []
    for run in range(365 * 48):
        at = start + timedelta(minutes=30 * run)
        for o in rng.sample(outlets, 30):
            quality.append((f"scheduled__{at.isoformat()}", o[0], rng.randint(1, 4), 0.0, 0.0, 0.0, 0.0, [], None,
                            at.isoformat()))
    loader.copy("outlet_quality", ["run_id", "outlet_id", "articles", "short_share", "empty_share",
                                   "quarantined_share", "duplicate_share", "failed_expectations", "drift_reason",
                                   "validated_at"], quality)
    digest_rows, entries, ledger, sends = [], [], [], []
    for d in range(365):
        day = (start + timedelta(days=d)).date()
        window_end = datetime(day.year, day.month, day.day, 7, tzinfo=UTC) + timedelta(days=1)
        for sub in subscriptions:
            digest_rows.append((sub, day.isoformat(), "scheduled", (window_end - timedelta(days=1)).isoformat(),
                                window_end.isoformat(), "UTC", f"scheduled__{day}",
                                {"watchlists": {WATCHLIST: "2026.11.2"}}, 60, 0, {WATCHLIST: {t: 20 for t in TERMS}},
                                {"sections": {}, "attention": [], "quality": []}, now.isoformat()))
            for r in range(60):
                article_id = uuid.UUID(int=rng.getrandbits(128)).hex
                entries.append((sub, day.isoformat(), WATCHLIST, article_id, r + 1, f"Title {r}",
                                f"https://x.example/{d}/{r}", "outlet-001", now.isoformat(), False, False,
                                [{"term": "CSTO"}]))
                ledger.append((sub, article_id, day.isoformat()))
            body = "<html>" + "digest line " * 1500 + "</html>"
            sends.append((day.isoformat(), sub, ["analyst@example.org"], f"<{d}.{sub}@mm>", f"Digest {day}",
                          "outbox", None, f"scheduled__{day}", "sent", now.isoformat(), body[:8000], body, 1))
    loader.copy("digests", ["subscription", "digest_date", "kind", "window_start", "window_end", "timezone", "run_id",
                            "versions", "item_count", "late_count", "term_counts", "context", "created_at"],
                digest_rows)
    loader.copy("digest_entries", ["subscription", "digest_date", "watchlist", "article_id", "rank", "title", "url",
                                   "outlet_id", "published_at", "late", "in_regions", "terms"], entries)
    loader.copy("digest_ledger", ["subscription", "article_id", "digest_date"], ledger)
    loader.copy("digest_sends", ["digest_date", "subscription", "recipients", "message_id", "subject", "transport",
                                 "location", "run_id", "status", "sent_at", "body_text", "body_html", "attempts"],
                sends)
    return {"hit_articles": hit_articles, "outlets": [o[0] for o in outlets]}


def _rare_words(k: int) -> str:
    """Words for the search cases beside the bodies' common vocabulary: one in RARE_EVERY articles, one in
    VERY_RARE_EVERY."""
    return (f" {RARE_WORD}" if k % RARE_EVERY == 0 else "") + (f" {VERY_RARE_WORD}" if k % VERY_RARE_EVERY == 7 else "")


def _dedupe(rows: list[tuple], key_len: int) -> list[tuple]:
    seen, out = set(), []
    for r in rows:
        k = r[:key_len]
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


class StatementLog:
    """Every statement with its parameters and duration, through SQLAlchemy engine events."""

    def __init__(self, engine: sa.Engine) -> None:
        self.items: list[tuple[str, Any, float]] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.items.append((statement, parameters, (time.perf_counter() - conn.info["t0"].pop()) * 1000))

    def take(self) -> list[tuple[str, Any, float]]:
        items, self.items = self.items, []
        return items


def run_sql(wh: Any, text: str) -> list[Any]:
    with wh.engine.connect() as conn:
        return list(conn.exec_driver_sql(text).all())


def explain(raw_dsn: dict[str, Any], statement: str, parameters: Any) -> str:
    conn = psycopg2.connect(**raw_dsn)
    try:
        with conn.cursor() as cur:
            sql = cur.mogrify(statement, parameters).decode()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
        return f"-- {sql}\n{plan}"
    finally:
        conn.rollback()
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    ap.add_argument("--unfenced", action="store_true",
                    help="also time the hit-list SQL with its OFFSET 0 fence removed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    from media_monitoring.config import load_analysts, load_watchlists
    from media_monitoring.digest.compose import SPIKE_BASELINE_DAYS
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse import articles as article_store

    settings = load_settings({})
    assert any(w.name == WATCHLIST for w in load_watchlists(settings.watchlists_file).watchlists)
    subscriptions = [s.name for s in load_analysts(settings.analysts_file).subscriptions]
    name = f"mm_bench_wh1m_{uuid.uuid4().hex[:8]}"
    result: dict[str, Any] = {"machine": machine(), "articles": args.articles, "database": name,
                              "load_before": loadavg()}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}\ndatabase {name}")
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("show server_version")
        result["postgres"] = cur.fetchone()[0]
        for setting in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
            cur.execute(f"show {setting}")
            result.setdefault("pg_settings", {})[setting] = cur.fetchone()[0]
        cur.execute(f'CREATE DATABASE "{name}"')
    dsn = {**PG_ADMIN, "dbname": name}
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    wh = None
    try:
        wh = Warehouse.connect(url)
        today = datetime.now(UTC).date()
        raw = psycopg2.connect(**dsn)
        with raw.cursor() as cur:  # secondary indexes off during the load, back from their own definitions
            cur.execute("select indexname, indexdef from pg_indexes where schemaname = 'public' and indexname not in "
                        "(select conname from pg_constraint where contype in ('p', 'u'))")
            secondary = cur.fetchall()
            for index_name, _ in secondary:
                cur.execute(f'DROP INDEX "{index_name}"')
            cur.execute("SET synchronous_commit = off")
        raw.commit()
        t = time.perf_counter()
        loader = Loader(raw)
        meta = generate(loader, args.articles, today, subscriptions)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in secondary:
                cur.execute(definition)
            raw.commit()
            index_s = time.perf_counter() - t
            t = time.perf_counter()
            hit_places = article_store.rebuild_hit_places(wh)  # derived table: filled from the loaded hits and places
            hit_places_s = time.perf_counter() - t
            t = time.perf_counter()
            raw.autocommit = True
            cur.execute("VACUUM ANALYZE")
            analyze_s = time.perf_counter() - t
            cur.execute("select relname, pg_size_pretty(pg_total_relation_size(oid)), pg_total_relation_size(oid) "
                        "from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by 3 desc")
            sizes = {r[0]: r[1] for r in cur.fetchall()}
        raw.close()
        result["load"] = {"rows": loader.rows, "copy_s": round(load_s, 1), "index_s": round(index_s, 1),
                          "hit_places_rows": hit_places, "hit_places_s": round(hit_places_s, 1),
                          "vacuum_analyze_s": round(analyze_s, 1), "sizes": sizes,
                          "secondary_indexes": [d for _, d in secondary], "hit_articles": meta["hit_articles"],
                          "load_after": loadavg()}
        print(f"loaded {loader.rows} in {load_s:.0f} s (COPY) + {index_s:.0f} s (indexes) + {analyze_s:.0f} s "
              f"(VACUUM ANALYZE); sizes {sizes}; load {loadavg()}")

        from media_monitoring.warehouse import digests
        from media_monitoring_ui.cursors import HitCursor, HitFilter
        from media_monitoring_ui.queries import choices, feeds, hits
        from media_monitoring_ui.queries import digests as sent_digests

        stmts = StatementLog(wh.engine)
        day = today - timedelta(days=1)
        day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        deep_cursor = HitCursor(day_start - timedelta(days=300), "f" * 32)
        a_outlet = meta["outlets"][7]
        quiet_outlet = meta["outlets"][-1]
        week = (day - timedelta(days=6), day)
        wl = (WATCHLIST,)
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("digest: undelivered_hits (a day's window, 7 days' grace)", lambda: digests.undelivered_hits(
                wh, "bench desk", [WATCHLIST], stored_after=day_start - timedelta(days=7),
                stored_until=day_start + timedelta(days=1))),
            ("digest: term_article_counts (14 days, spikes)", lambda: digests.term_article_counts(
                wh, WATCHLIST, day_start - timedelta(days=SPIKE_BASELINE_DAYS), day_start)),
            ("digest: feed_status_during (a day)",
             lambda: digests.feed_status_during(wh, day_start, day_start + timedelta(days=1))),
            ("digest: outlet_quality_during (a day)",
             lambda: digests.outlet_quality_during(wh, day_start, day_start + timedelta(days=1))),
            ("ui hits: no filter, page 1", lambda: hits.hit_page(wh, HitFilter())),
            ("ui hits: no filter, deep page (300 days back)", lambda: hits.hit_page(wh, HitFilter(),
                                                                                   after=deep_cursor)),
            ("ui hits: term=Lavrov, page 1", lambda: hits.hit_page(wh, HitFilter(term="Lavrov", watchlists=wl))),
            ("ui hits: term=Lavrov, deep page", lambda: hits.hit_page(
                wh, HitFilter(term="Lavrov", watchlists=wl), after=deep_cursor)),
            ("ui hits: region=Central Asia, page 1",
             lambda: hits.hit_page(wh, HitFilter(region="Central Asia"))),
            ("ui hits: region=Central Asia, deep page", lambda: hits.hit_page(
                wh, HitFilter(region="Central Asia"), after=deep_cursor)),
            ("ui hits: region=Northern America (rare), page 1",
             lambda: hits.hit_page(wh, HitFilter(region="Northern America"))),
            (f"ui hits: outlet={a_outlet}, page 1", lambda: hits.hit_page(wh, HitFilter(outlet=a_outlet))),
            (f"ui hits: outlet={a_outlet}, deep page", lambda: hits.hit_page(
                wh, HitFilter(outlet=a_outlet), after=deep_cursor)),
            (f"ui hits: outlet={quiet_outlet} (no hits at all), page 1",
             lambda: hits.hit_page(wh, HitFilter(outlet=quiet_outlet))),
            (f"ui hits: region={QUIET_REGION} (no hits at all), page 1",
             lambda: hits.hit_page(wh, HitFilter(region=QUIET_REGION))),
            ("ui hits: term=Lavrov + region=Northern America, page 1", lambda: hits.hit_page(
                wh, HitFilter(term="Lavrov", watchlists=wl, region="Northern America"))),
            (f"ui hits: term=Lavrov + region={QUIET_REGION} (no hits), page 1", lambda: hits.hit_page(
                wh, HitFilter(term="Lavrov", watchlists=wl, region=QUIET_REGION))),
            (f"ui hits: outlet={quiet_outlet} + region=Central Asia (no hits), page 1", lambda: hits.hit_page(
                wh, HitFilter(outlet=quiet_outlet, region="Central Asia"))),
            ("ui hits: date range (one week), page 1", lambda: hits.hit_page(
                wh, HitFilter(since=week[0], until=week[1]))),
            ("ui hits: term+region+outlet+dates, page 1", lambda: hits.hit_page(wh, HitFilter(
                term="CSTO", watchlists=wl, region="CSTO members", outlet=a_outlet, since=day - timedelta(days=90),
                until=day))),
            ("ui hits: term=Lavrov + date range, 200 per page", lambda: hits.hit_page(
                wh, HitFilter(term="Lavrov", watchlists=wl, since=day - timedelta(days=30), until=day),
                limit=200)),
            ("ui filter choices: outlet_choices", lambda: choices.outlet_choices(wh)),
            ("ui filter choices: region_choices", lambda: choices.region_choices(wh)),
            ("ui digests: digest_sends page 1", lambda: sent_digests.digest_sends(wh)),
            ("ui digests: digest_sends deep offset (page 10)", lambda: sent_digests.digest_sends(wh, offset=450)),
            ("ui digests: digest_send_count", lambda: sent_digests.digest_send_count(wh)),
            ("ui digests: latest_digest_day + digest_sends_on + digests_on", lambda: (
                sent_digests.digest_sends_on(wh, sent_digests.latest_digest_day(wh)),
                sent_digests.digests_on(wh, [day]))),
            ("ui digest page: digest_send (with bodies)",
             lambda: sent_digests.digest_send(wh, day, subscriptions[0])),
            ("ui feed health: feed_health page 1 + feed_status_counts",
             lambda: (feeds.feed_health(wh), feeds.feed_status_counts(wh))),
        ]
        from media_monitoring.search import parse
        from media_monitoring.warehouse import search

        def find(text: str, sort: str = "time", after: Any = None, **flt: Any) -> Any:
            return search.search_page(wh, parse(text), search.SearchFilter(**flt), sort=sort, after=after)

        week_ago = day_start - timedelta(days=6)
        deep_search = search.SearchCursor("time", "f" * 32, published_at=day_start - timedelta(days=300))
        second = find("security").next_cursor  # the cursor a "Next page" link carries
        rare_second = find(RARE_WORD).next_cursor
        search_cases: list[tuple[str, Callable[[], Any]]] = [
            ("search: common word (security), page 1", lambda: find("security")),
            ("search: common word, page 2", lambda: find("security", after=second)),
            ("search: common word, deep page (300 days back)", lambda: find("security", after=deep_search)),
            ("search: common word, relevance, page 1", lambda: find("security", "relevance")),
            ("search: common phrase \"security talks\", page 1", lambda: find('"security talks"')),
            ("search: prefix secur*, page 1", lambda: find("secur*")),
            ("search: common word -border (NOT), page 1", lambda: find("security -border")),
            (f"search: common word + outlet={a_outlet}", lambda: find("security", outlet=a_outlet)),
            ("search: common word + tagged country KZ", lambda: find("security", country="KZ")),
            ("search: common word + region=Central Asia + 7 days", lambda: find(
                "security", region="Central Asia", since=week_ago)),
            ("search: common word + term=Lavrov", lambda: find("security", term="Lavrov", watchlists=wl)),
            (f"search: common word + region={QUIET_REGION} + outlet country", lambda: find(
                "security", region=QUIET_REGION, outlet_country="BR")),
            (f"search: rare word ({RARE_WORD}, 0.2%), page 1", lambda: find(RARE_WORD)),
            ("search: rare word, page 2", lambda: find(RARE_WORD, after=rare_second)),
            ("search: rare word, relevance", lambda: find(RARE_WORD, "relevance")),
            (f"search: rare word + outlet={a_outlet}", lambda: find(RARE_WORD, outlet=a_outlet)),
            ("search: rare word + 7 days", lambda: find(RARE_WORD, since=week_ago)),
            ("search: rare word OR very rare word", lambda: find(f"{RARE_WORD} OR {VERY_RARE_WORD}")),
            (f"search: very rare word ({VERY_RARE_WORD}, 20 articles)", lambda: find(VERY_RARE_WORD)),
            ("search: rare word + term=Lavrov + region (no match)", lambda: find(
                RARE_WORD, term="Lavrov", watchlists=wl, region=QUIET_REGION)),
            ("search: a word in no article", lambda: find("qwertyuiop")),
        ]
        cases += search_cases
        search_labels = {label for label, _ in search_cases}

        def time_cases() -> list[dict[str, Any]]:
            timings = []
            print(f"\n{'query':66s} {'median ms':>9s} {'p95':>7s} {'min':>7s} {'max':>7s}  rows  (load {loadavg()})")
            for label, fn in cases:
                out = fn()  # warm
                stmts.take()
                runs, per_stmt = [], []
                for _ in range(max(args.repeat, SEARCH_REPEAT) if label in search_labels else args.repeat):
                    t = time.perf_counter()
                    fn()
                    runs.append((time.perf_counter() - t) * 1000)
                    per_stmt.append(stmts.take())
                med = statistics.median(runs)
                if isinstance(out, hits.HitPage | search.SearchPage):
                    size = len(out.articles)
                elif hasattr(out, "term_counts"):  # a WatchlistDigest
                    size = len(out.items)
                elif isinstance(out, list):
                    size = len(out)
                else:
                    size = 1
                p95 = statistics.quantiles(runs, n=20, method="inclusive")[18] if len(runs) > 1 else runs[0]
                row = {"query": label, "median_ms": round(med, 1), "p95_ms": round(p95, 1),
                       "min_ms": round(min(runs), 1), "max_ms": round(max(runs), 1), "rows": size,
                       "statements": len(per_stmt[0]), "runs": len(runs)}
                if isinstance(out, search.SearchPage):
                    row["count"] = f"{search.COUNT_CAP}+" if out.count_capped else out.count
                print(f"{label:66s} {med:9.1f} {p95:7.1f} {min(runs):7.1f} {max(runs):7.1f}  {size:4d}  "
                      f"({len(per_stmt[0])} stmts{', count ' + str(row['count']) if 'count' in row else ''})")
                if med > SLOW_MS:
                    slow = sorted(per_stmt[0], key=lambda s: -s[2])[:2]
                    row["slow_statements"] = []
                    for statement, params, ms in slow:
                        if ms < SLOW_MS / 4:
                            continue
                        plan = explain(dsn, statement, params)
                        row["slow_statements"].append({"ms": round(ms, 1), "plan": plan})
                timings.append(row)
            return timings

        if args.unfenced:  # the hit-list SQL as queries/hits.py builds it, and without its OFFSET 0 fence
            from sqlalchemy.dialects import postgresql as pg_dialect

            for label, flt in [("no filter", HitFilter()), (f"region={QUIET_REGION} (no hits)",
                                                             HitFilter(region=QUIET_REGION)),
                               ("region=Northern America", HitFilter(region="Northern America")),
                               (f"outlet={quiet_outlet} (no hits)", HitFilter(outlet=quiet_outlet)),
                               (f"outlet={a_outlet}", HitFilter(outlet=a_outlet)),
                               ("term=Lavrov", HitFilter(term="Lavrov", watchlists=wl))]:
                sql = str(hits.hit_articles_query(flt, limit=51).compile(
                    dialect=pg_dialect.dialect(), compile_kwargs={"literal_binds": True}))
                for variant, text in (("as built (OFFSET 0 fence)", sql),
                                      ("fence removed", sql.replace("\n LIMIT ALL OFFSET 0", ""))):
                    cases.append((f"sql hits {label}: {variant}", lambda text=text: run_sql(wh, text)))
        timings = time_cases()
        result["queries"] = timings
        result["load_after"] = loadavg()
        slow_rows = [r for r in timings if r.get("slow_statements")]
        for r in slow_rows:
            print(f"\n===== over {SLOW_MS:.0f} ms: {r['query']} (median {r['median_ms']} ms)")
            for s in r["slow_statements"]:
                print(f"--- statement {s['ms']} ms\n{s['plan']}")
        print(f"\nload average after: {result['load_after']}")
    finally:
        if wh is not None:
            wh.close()
        if not args.keep:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}")
        admin.close()
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
