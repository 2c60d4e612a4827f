"""Synthetic news outlets for the end-to-end benchmarks: feeds, article pages, robots.txt, a registry.

    .venv/bin/python bench/synth_news.py --serve --outlets 200 --items 50 --hosts distinct   # (child mode)

Used by ``bench/e2e_scheduler.py`` and ``bench/profile_ingest.py``. Everything is deterministic from
(outlet index, item index): the same outlet always publishes the same 50 articles, so runs compare.

* outlet ``i`` is ``synth-NNN``, an English-language outlet of one of 24 countries, with one of four
  page templates (news agency, broadsheet, tabloid-ish portal, old table layout), each with realistic
  chrome: navigation, breadcrumbs, byline, share bar, "Read also" line, related/most-read link lists,
  cookie banner, newsletter box, footer, JSON-LD ``NewsArticle`` and OpenGraph meta;
* each article has 300-800 words in 8-20 paragraphs, built from news sentence templates that name
  countries, capitals and officials (the place tagger has real work); ~10% carry watchlist terms
  (Lavrov, CSTO, Afghanistan, Kabul) in the body and often the headline;
* every feed is RSS 2.0 with 50 items published over the last ~6 hours (fresh: they pass validation);
* ``--hosts distinct`` serves outlet ``i`` on its own loopback address ``127.0.0.(2+i)`` (one listener
  per address, same port), so each outlet is its own host for the per-host politeness limiter, as
  200 real outlets are 200 sites; ``--hosts one`` serves them all from 127.0.0.1.

The server is asyncio HTTP/1.1 with keep-alive, gzip on request, ETag / Last-Modified / 304, in its
own process (so it does not share a GIL or much CPU accounting with the code measured). It prints
``PORT <n>`` when listening, answers ``stats`` on stdin with one JSON line, and exits when stdin
closes or after ``--max-lifetime`` seconds. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import html
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

WATCHLIST_SHARE = 0.10

COUNTRIES = [  # (alpha-2, country, capital, demonym, a second city)
    ("KZ", "Kazakhstan", "Astana", "Kazakh", "Almaty"), ("KG", "Kyrgyzstan", "Bishkek", "Kyrgyz", "Osh"),
    ("TJ", "Tajikistan", "Dushanbe", "Tajik", "Khujand"), ("UZ", "Uzbekistan", "Tashkent", "Uzbek", "Samarkand"),
    ("TM", "Turkmenistan", "Ashgabat", "Turkmen", "Mary"), ("RU", "Russia", "Moscow", "Russian", "Kazan"),
    ("CN", "China", "Beijing", "Chinese", "Shanghai"), ("IR", "Iran", "Tehran", "Iranian", "Mashhad"),
    ("PK", "Pakistan", "Islamabad", "Pakistani", "Karachi"), ("IN", "India", "New Delhi", "Indian", "Mumbai"),
    ("TR", "Türkiye", "Ankara", "Turkish", "Istanbul"), ("DE", "Germany", "Berlin", "German", "Hamburg"),
    ("FR", "France", "Paris", "French", "Lyon"), ("GB", "United Kingdom", "London", "British", "Manchester"),
    ("US", "United States", "Washington", "American", "New York"), ("EG", "Egypt", "Cairo", "Egyptian", "Alexandria"),
    ("NG", "Nigeria", "Abuja", "Nigerian", "Lagos"), ("KE", "Kenya", "Nairobi", "Kenyan", "Mombasa"),
    ("BR", "Brazil", "Brasilia", "Brazilian", "Sao Paulo"), ("JP", "Japan", "Tokyo", "Japanese", "Osaka"),
    ("AZ", "Azerbaijan", "Baku", "Azerbaijani", "Ganja"), ("AM", "Armenia", "Yerevan", "Armenian", "Gyumri"),
    ("GE", "Georgia", "Tbilisi", "Georgian", "Batumi"), ("MN", "Mongolia", "Ulaanbaatar", "Mongolian", "Darkhan"),
]
PAPER_WORDS = ["Times", "Herald", "Courier", "Daily", "Observer", "Telegraph", "Post", "Gazette", "Express",
               "Tribune", "Chronicle", "Wire", "Review", "Monitor", "Standard", "Journal", "Voice", "Insider"]
SECTIONS = ["Politics", "Economy", "World", "Region", "Business", "Society", "Security", "Energy", "Culture",
            "Sport", "Science", "Opinion"]
TOPICS = [
    "the new border crossing", "the draft budget", "gas transit fees", "the railway corridor", "grain exports",
    "the water-sharing agreement", "electricity tariffs", "the customs union", "a hydropower dam",
    "the national currency", "inflation", "the pension reform", "the election law", "mining licences",
    "the drought in the south", "flood defences", "the digital identity project", "teacher salaries",
    "the trade deficit", "a joint military exercise", "migrant workers' remittances", "wheat prices",
    "the privatisation plan", "cross-border trucking", "the power grid", "coal output", "a new airport terminal",
]
OFFICIALS = ["the foreign minister", "the prime minister", "the central bank governor", "a government spokesman",
             "the energy minister", "the head of the customs service", "an opposition lawmaker",
             "the mayor", "the economy minister", "the defence ministry", "the president's office",
             "a senior diplomat", "the agriculture minister", "the transport ministry", "regional officials"]
VERBS = ["discussed", "announced new measures on", "raised concerns about", "signed a memorandum on",
         "called for talks on", "criticised the delay in", "approved funding for", "reviewed progress on",
         "promised to speed up work on", "outlined plans for", "rejected claims about", "welcomed progress on"]
FILLERS = [
    "The statement did not give further details.", "Analysts said the move had been expected for months.",
    "Officials declined to comment on the timeline.", "The issue has been on the agenda since last year.",
    "Local media reported that the talks lasted several hours.", "A final decision is expected next month.",
    "Business groups welcomed the announcement but asked for clearer rules.",
    "The opposition said the plan lacked transparency.", "Prices on local markets remained stable this week.",
    "Experts warned that the costs could rise further in winter.", "The parliament is due to debate it soon.",
    "Residents interviewed by reporters were cautious about the changes.",
]
WATCH_SENTENCES = [
    "Russian Foreign Minister Sergei Lavrov said Moscow was ready to help {cap} strengthen its border.",
    "Lavrov held a phone call with his {dem} counterpart on regional security and trade.",
    "The Collective Security Treaty Organization (CSTO) will hold joint drills near the Afghan border.",
    "CSTO defence ministers discussed the situation in Afghanistan at a meeting in {cap}.",
    "Security officials said the situation in Afghanistan remained the main risk for the region.",
    "A delegation travelled to Kabul for talks on transit, electricity exports and refugees.",
    "Trade with Afghanistan through the {city} terminal rose by a third this year.",
    "Officials in Kabul said the new railway link could open next year.",
]
WATCH_TITLES = ["Lavrov discusses {topic} with {dem} officials", "CSTO weighs {topic} amid border tension",
                "Afghanistan talks in {cap} turn to {topic}", "Kabul delegation in {cap} to discuss {topic}"]
TITLE_TEMPLATES = ["{Cap} and {Cap2} agree on {topic}", "{Official} {verb} {topic}",
                   "{Dem} parliament backs {topic}", "Protest in {city} over {topic}", "{Cap} to review {topic}",
                   "New figures show pressure on {topic} in {country}", "{Country} and {Country2} talk {topic}",
                   "Why {topic} matters for {country}", "{city} businesses worried about {topic}"]
FIRST_NAMES = ["Aigul", "Daniyar", "Madina", "Timur", "Nodira", "Farrukh", "Elena", "Sergei", "Amir", "Sara",
               "Ali", "Maria", "John", "Fatima", "Omar", "Li", "Anna", "Bakyt", "Gulnara", "Rustam"]
LAST_NAMES = ["Sadykova", "Akhmetov", "Karimova", "Rakhimov", "Ivanova", "Petrov", "Khan", "Rahimi", "Smith",
              "Yusupova", "Nazarov", "Omarova", "Wang", "Mirzaev", "Bekova", "Hassan", "Schmidt", "Dubois"]
TEMPLATES = ("agency", "broadsheet", "portal", "table")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


ROOT = Path(__file__).resolve().parents[1]
_WATCH_RE = re.compile(r"afghan|kabul|lavrov|csto|collective security|taliban", re.IGNORECASE)
_FOREIGN_RE = re.compile(r"\b(?:el|la|los|las|del|que|und|die|der|das|ist|nicht|les|des|une|est|dans|pour)\b")
_CHAIN: dict[str, list[str]] | None = None


def _chain() -> dict[str, list[str]]:
    """A first-order word chain over the repo's own English news text (replay pages, extraction gold).

    Articles built from it share few 3-word sequences, like different real stories (the story grouper's
    threshold is a 3-word-shingle Jaccard of 0.09): templated sentences alone made every article of a
    run one "story". Sentences naming a watchlist term are left out: those terms come only from
    WATCH_SENTENCES, so ~10% of articles carry them.
    """
    global _CHAIN
    if _CHAIN is None:
        gold = sorted((ROOT / "bench" / "extraction" / "gold").glob("*.txt"))
        texts = [f.read_text("utf-8", "replace") for f in gold]
        labelled = ROOT / "bench" / "tagging" / "labelled.jsonl"
        if labelled.exists():
            texts += [json.loads(ln).get("text") or "" for ln in labelled.read_text("utf-8").splitlines() if ln.strip()]
        for f in sorted((ROOT / "seeds" / "replay").glob("*/news/*.html")):
            page = f.read_text("utf-8", "replace")
            texts += [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r"<p[^>]*>(.*?)</p>", page, re.S)]
        chain: dict[str, list[str]] = {}
        for text in texts:
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
                if len(sentence) < 40 or _WATCH_RE.search(sentence) or _FOREIGN_RE.search(sentence) or \
                        sum(c.isascii() for c in sentence) < 0.97 * len(sentence):
                    continue
                tokens = ["<s>", *sentence.split()]
                for a, b in zip(tokens, tokens[1:], strict=False):
                    chain.setdefault(a, []).append(b)
        _CHAIN = chain
    return _CHAIN


def _markov_sentence(rng: random.Random) -> str | None:
    chain = _chain()
    if not chain.get("<s>"):
        return None
    words, word = [], "<s>"
    for _ in range(45):  # bounded
        nxt = chain.get(word)
        if not nxt:
            break
        word = rng.choice(nxt)
        words.append(word)
        if word[-1] in ".!?" and len(words) >= 8:
            break
    if len(words) < 8:
        return None
    # swap ~3 words in 10 for a random word of the vocabulary: different stories then share few 3-word runs
    vocab = _vocab()
    words = [rng.choice(vocab) if 0 < i < len(words) - 1 and rng.random() < 0.3 else w for i, w in enumerate(words)]
    sentence = " ".join(words)
    return sentence if sentence[-1] in ".!?" else sentence + "."


_VOCAB: list[str] = []


def _vocab() -> list[str]:
    if not _VOCAB:
        _VOCAB.extend(sorted({w.strip(".,;:!?\"“”()") for w in _chain() if w.isascii() and w.isalpha() and
                              w.islower() and len(w) > 3}))
    return _VOCAB


class Outlet:
    """One synthetic outlet: identity, host, and its articles (generated on first use)."""

    def __init__(self, index: int, items: int, anchor: datetime, hosts: str) -> None:
        self.index = index
        self.items = items
        self.anchor = anchor
        rng = random.Random(f"outlet-{index}")
        self.country = COUNTRIES[index % len(COUNTRIES)]
        self.id = f"synth-{index:03d}"
        self.name = f"{self.country[4] if index % 3 == 0 else self.country[2]} {rng.choice(PAPER_WORDS)}"
        self.template = TEMPLATES[index % len(TEMPLATES)]
        self.address = f"127.0.0.{2 + index}" if hosts == "distinct" else "127.0.0.1"
        self._articles: list[dict[str, Any]] | None = None

    def base(self, port: int) -> str:
        return f"http://{self.address}:{port}/o{self.index}"

    def articles(self) -> list[dict[str, Any]]:
        if self._articles is None:
            self._articles = self._generate()
        return self._articles

    def _generate(self) -> list[dict[str, Any]]:
        rng = random.Random(f"articles-{self.index}")
        out, titles = [], set()
        for j in range(self.items):
            watch = rng.random() < WATCHLIST_SHARE
            c1, c2 = rng.sample(COUNTRIES, 2)
            topic = rng.choice(TOPICS)
            fields = {"Cap": c1[2], "Cap2": c2[2], "cap": c1[2], "topic": topic,
                      "Official": _cap(rng.choice(OFFICIALS)), "verb": rng.choice(VERBS), "Dem": c1[3],
                      "dem": c1[3], "city": c1[4], "country": c1[1],
                      "Country": c1[1], "Country2": c2[1]}
            for attempt in range(20):  # headlines are distinct within an outlet (same headline = folded)
                template = rng.choice(WATCH_TITLES if watch and rng.random() < 0.6 else TITLE_TEMPLATES)
                title = template.format(**fields)
                if attempt:
                    title += f" ({rng.choice(['update', 'analysis', 'explainer', 'live', 'report'])} {attempt})"
                if title.casefold() not in titles:
                    break
            titles.add(title.casefold())
            paragraphs = self._body(rng, c1, c2, topic, watch)
            published = self.anchor - timedelta(minutes=7 * j + (self.index % 7), seconds=rng.randrange(60))
            slug = "-".join("".join(ch for ch in w.lower() if ch.isalnum()) for w in title.split()[:8])
            out.append({
                "j": j, "title": title, "slug": slug, "paragraphs": paragraphs, "published": published,
                "section": rng.choice(SECTIONS), "watch": watch,
                "author": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "lead": f"{_cap(rng.choice(OFFICIALS))} in {c1[2]} {rng.choice(VERBS)} {topic} on "
                        f"{published:%A}, {rng.choice(FILLERS)[0].lower()}{rng.choice(FILLERS)[1:]}",
            })
        return out

    @staticmethod
    def _body(rng: random.Random, c1: tuple, c2: tuple, topic: str, watch: bool) -> list[str]:
        target = rng.randint(300, 800)
        paragraphs, words = [], 0
        watch_left = rng.randint(1, 3) if watch else 0
        while words < target:
            sentences = []
            for _ in range(rng.randint(2, 4)):
                roll = rng.random()
                if roll > 0.12:
                    s = _markov_sentence(rng)
                    if s:
                        sentences.append(s)
                        continue
                    roll = rng.random() * 0.12
                if watch_left and roll < 0.04:
                    watch_left -= 1
                    s = rng.choice(WATCH_SENTENCES).format(cap=c1[2], dem=c1[3], city=c1[4])
                elif roll < 0.07:
                    s = (f"{_cap(rng.choice(OFFICIALS))} of {rng.choice([c1, c2])[1]} {rng.choice(VERBS)} {topic} "
                         f"during a visit to {rng.choice([c1, c2])[2]}, according to officials.")
                elif roll < 0.09:
                    n = rng.randint(2, 95)
                    s = (f"The figure rose by {n} percent compared with last year, the statistics agency in "
                         f"{c1[2]} said, while traders in {c1[4]} reported {rng.choice(['higher', 'lower'])} demand.")
                elif roll < 0.11:
                    s = (f"\u201cWe expect {rng.choice(TOPICS)} to improve before the end of the year,\u201d said "
                         f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, an economist in {c2[4]}.")
                else:
                    s = rng.choice(FILLERS)
                sentences.append(s)
            paragraph = " ".join(sentences)
            paragraphs.append(paragraph)
            words += len(paragraph.split())
        while watch_left:  # make sure a watchlist article names its term
            watch_left -= 1
            paragraphs.insert(rng.randrange(1, len(paragraphs)),
                              rng.choice(WATCH_SENTENCES).format(cap=c1[2], dem=c1[3], city=c1[4]))
        return paragraphs

    def link(self, port: int, a: dict[str, Any]) -> str:
        return f"{self.base(port)}/news/{a['published']:%Y/%m/%d}/{100000 + a['j']}-{a['slug']}.html"

    # -- documents ------------------------------------------------------------------------------

    def feed(self, port: int) -> bytes:
        esc = html.escape
        items = []
        for a in self.articles():
            items.append(
                f"<item><title>{esc(a['title'])}</title><link>{esc(self.link(port, a))}</link>"
                f"<guid isPermaLink=\"true\">{esc(self.link(port, a))}</guid>"
                f"<pubDate>{format_datetime(a['published'], usegmt=True)}</pubDate>"
                f"<dc:creator>{esc(a['author'])}</dc:creator><category>{a['section']}</category>"
                f"<description>{esc(a['lead'])}</description></item>")
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
                f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>{esc(self.name)}</title>'
                f"<link>{self.base(port)}/</link><description>News from {self.country[1]}</description>"
                f"<language>en</language><ttl>15</ttl>{''.join(items)}</channel></rss>").encode()

    def page(self, port: int, j: int) -> bytes:
        a = self.articles()[j]
        esc = html.escape
        base, url = self.base(port), self.link(port, a)
        others = [b for b in self.articles() if b["j"] != j][:12]
        nav = "".join(f'<li><a href="{base}/{s.lower()}/">{s}</a></li>' for s in SECTIONS)
        related = "".join(f'<li><a href="{self.link(port, b)}">{esc(b["title"])}</a></li>' for b in others[:5])
        most = "".join(f'<li><a href="{self.link(port, b)}">{esc(b["title"])}</a></li>' for b in others[5:11])
        body = "".join(f"<p>{esc(p)}</p>" for p in a["paragraphs"])
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": a["title"],
                         "datePublished": a["published"].isoformat(), "author": [{"@type": "Person",
                                                                                   "name": a["author"]}],
                         "publisher": {"@type": "Organization", "name": self.name}, "mainEntityOfPage": url})
        head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(a["title"])} | '
                f'{esc(self.name)}</title><meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<meta name="description" content="{esc(a["lead"])}"><link rel="canonical" href="{url}">'
                f'<meta property="og:type" content="article"><meta property="og:site_name" content="{esc(self.name)}">'
                f'<meta property="og:title" content="{esc(a["title"])}"><meta property="og:url" content="{url}">'
                f'<meta property="article:published_time" content="{a["published"].isoformat()}">'
                f'<meta property="article:section" content="{a["section"]}">'
                f'<link rel="stylesheet" href="{base}/static/site.css?v=7">'
                f'<script type="application/ld+json">{ld}</script>'
                f'<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}'
                f"gtag('js',new Date());</script></head>")
        cookie = ('<div id="cookie-banner" class="consent"><p>We use cookies to improve your experience. '
                  '<button>Accept all</button> <button>Manage options</button></p></div>')
        newsletter = ('<aside class="newsletter"><h3>Get the morning briefing</h3><form action="/subscribe">'
                      '<input type="email" placeholder="Your email"><button>Sign up</button></form></aside>')
        footer = (f'<footer><p>&copy; 2026 {esc(self.name)}. All rights reserved.</p><ul>'
                  f'<li><a href="{base}/about/">About us</a></li><li><a href="{base}/contact/">Contact</a></li>'
                  f'<li><a href="{base}/privacy/">Privacy policy</a></li><li><a href="{base}/rss.xml">RSS</a></li>'
                  f"</ul></footer>")
        share = (f'<div class="share">Share: <a href="https://facebook.com/sharer?u={url}">Facebook</a> '
                 f'<a href="https://x.com/intent/tweet?url={url}">X</a> <a href="https://t.me/share?url={url}">'
                 f"Telegram</a></div>")
        readalso = (f'<p class="read-also">Read also: <a href="{self.link(port, others[0])}">'
                    f'{esc(others[0]["title"])}</a></p>')
        date = f"{a['published']:%d %B %Y, %H:%M}"
        if self.template == "table":
            content = (f'<table id="layout" role="presentation"><tr><td id="content"><div class="crumbs">'
                       f'<a href="{base}/">Home</a> &raquo; {a["section"]}</div><h1>{esc(a["title"])}</h1>'
                       f'<div class="date">{date}</div><div class="news-text">{body}</div>{share}</td>'
                       f'<td id="right"><div class="block-title">Most read</div><ul>{most}</ul></td></tr></table>')
        else:
            lead_cls = {"agency": "lead", "broadsheet": "standfirst", "portal": "excerpt"}[self.template]
            content = (f'<main><nav class="breadcrumbs"><a href="{base}/">Home</a> / <a href="{base}/'
                       f'{a["section"].lower()}/">{a["section"]}</a></nav><article><header><h1>{esc(a["title"])}</h1>'
                       f'<p class="{lead_cls}">{esc(a["lead"])}</p><div class="byline">By <span class="author">'
                       f'{esc(a["author"])}</span> | <time datetime="{a["published"].isoformat()}">{date}</time>'
                       f'</div></header><figure><img src="{base}/img/{a["j"]}.jpg" alt=""><figcaption>'
                       f'{esc(self.country[2])}. Photo: {esc(self.name)}</figcaption></figure>'
                       f'<div class="article-body">{body[:len(body) // 2]}{readalso}{body[len(body) // 2:]}</div>'
                       f'{share}</article><section class="related"><h2>Related news</h2><ul>{related}</ul></section>'
                       f'</main><aside class="sidebar"><h2>Most read</h2><ol>{most}</ol>{newsletter}</aside>')
        page = (f'{head}<body class="tpl-{self.template}">{cookie}<header class="site"><a class="logo" href="{base}/">'
                f'{esc(self.name)}</a><ul class="menu">{nav}</ul><form class="search" action="{base}/search">'
                f'<input name="q"></form></header>{content}{footer}</body></html>')
        return page.encode()


def outlets(count: int, items: int, hosts: str, anchor: datetime | None = None) -> list[Outlet]:
    anchor = (anchor or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=2)
    return [Outlet(i, items, anchor, hosts) for i in range(count)]


def write_registry(path: Path, outs: list[Outlet], port: int, *, max_concurrency: int, min_delay_s: float) -> None:
    """An outlet registry in the product's format (include/config/outlets.yaml, seeds/replay/outlets.yaml)."""
    lines = ['version: "bench"',
             "polling: {min_interval_minutes: 15, max_interval_minutes: 360, max_backoff_hours: 24}",
             "hosts:", f"  default: {{max_concurrency: {max_concurrency}, min_delay_s: {min_delay_s}}}", "outlets:"]
    for o in outs:
        lines += [f"  - id: {o.id}", f"    name: {json.dumps(o.name)}", f'    feed_url: "{o.base(port)}/rss.xml"',
                  f'    homepage: "{o.base(port)}/"', f"    country: {o.country[0]}", "    languages: [en]",
                  "    allow_private: true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the server (child process) --------------------------------------------------------------------

class _Site:
    def __init__(self, outs: list[Outlet], port: int) -> None:
        self.outs = outs
        self.port = port
        self.cache: dict[str, tuple[bytes, bytes, bytes, str]] = {}  # path -> (ctype, body, gz, etag)
        self.stats: Counter[str] = Counter()
        self.last_modified = format_datetime(outs[0].anchor if outs else datetime.now(UTC), usegmt=True)

    def resolve(self, path: str) -> tuple[bytes, bytes, bytes, str] | None:
        hit = self.cache.get(path)
        if hit is not None:
            return hit
        made = self._make(path)
        if made is None:
            return None
        ctype, body = made
        entry = (ctype, body, gzip.compress(body, 5), '"' + hashlib.sha1(body).hexdigest()[:20] + '"')
        if not path.startswith("/robots"):
            self.cache[path] = entry
        return entry

    def _make(self, path: str) -> tuple[bytes, bytes] | None:
        if path == "/robots.txt":
            return b"text/plain; charset=utf-8", b"User-agent: *\nDisallow: /search\nDisallow: /admin/\n"
        parts = path.split("/")
        if len(parts) < 3 or not parts[1].startswith("o") or not parts[1][1:].isdigit():
            return None
        i = int(parts[1][1:])
        if i >= len(self.outs):
            return None
        o = self.outs[i]
        if parts[2] == "rss.xml":
            return b"application/rss+xml; charset=utf-8", o.feed(self.port)
        if parts[2] == "news" and len(parts) >= 7:
            num = parts[6].split("-", 1)[0]
            if num.isdigit() and 0 <= int(num) - 100000 < o.items:
                return b"text/html; charset=utf-8", o.page(self.port, int(num) - 100000)
        return None


class _Http(asyncio.Protocol):
    site: _Site

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            self.transport.close()
            return
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        path = target.split("?", 1)[0]
        entry = self.site.resolve(path) if method == "GET" else None
        kind = "robots" if path == "/robots.txt" else "feed" if path.endswith(".xml") else "page"
        if entry is None:
            self.site.stats["404"] += 1
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        ctype, body, gz, etag = entry
        if headers.get("if-none-match") == etag:
            self.site.stats[kind + "_304"] += 1
            self.transport.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode())
            return
        self.site.stats[kind] += 1
        use_gz = "gzip" in headers.get("accept-encoding", "")
        payload = gz if use_gz else body
        self.site.stats["bytes"] += len(payload)
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: " + str(len(payload)).encode()
            + (b"\r\nContent-Encoding: gzip" if use_gz else b"") + b"\r\nETag: " + etag.encode()
            + b"\r\nLast-Modified: " + self.site.last_modified.encode() + b"\r\nVary: Accept-Encoding\r\n\r\n"
            + payload)


async def _serve(outs: list[Outlet], max_lifetime: float) -> None:
    loop = asyncio.get_running_loop()
    addresses = sorted({o.address for o in outs}, key=lambda a: tuple(int(x) for x in a.split(".")))
    servers: list[asyncio.AbstractServer] = []
    port = 0
    for attempt in range(20):  # same port on every address; retry with another if one is taken
        try:
            first = await loop.create_server(_Http, addresses[0], 0)
            port = first.sockets[0].getsockname()[1]
            servers = [first]
            for addr in addresses[1:]:
                servers.append(await loop.create_server(_Http, addr, port))
            break
        except OSError:
            for s in servers:
                s.close()
            servers = []
            if attempt == 19:
                raise
    _Http.site = _Site(outs, port)
    print(f"PORT {port}", flush=True)
    done = asyncio.Event()

    def watch_stdin() -> None:
        for line in sys.stdin:  # ends when the parent closes stdin or exits
            if line.strip() == "stats":
                print(json.dumps(dict(_Http.site.stats)), flush=True)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        await asyncio.wait_for(done.wait(), max_lifetime)
    except TimeoutError:
        pass
    for s in servers:
        s.close()


class SiteServer:
    """The synthetic site in a child process."""

    def __init__(self, count: int, items: int, hosts: str, anchor: datetime, max_lifetime: float = 3600) -> None:
        self.proc = __import__("subprocess").Popen(
            [sys.executable, __file__, "--serve", "--outlets", str(count), "--items", str(items), "--hosts", hosts,
             "--anchor", anchor.isoformat(), "--max-lifetime", str(max_lifetime)],
            stdin=-1, stdout=-1, text=True, bufsize=1)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"synthetic site did not start: {line!r}")
        self.port = int(line.split()[1])

    def stats(self) -> dict[str, int]:
        self.proc.stdin.write("stats\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]

    def cpu_s(self) -> float:
        import psutil

        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--outlets", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--hosts", choices=("distinct", "one"), default="distinct")
    ap.add_argument("--anchor", default=None)
    ap.add_argument("--max-lifetime", type=float, default=3600)
    ap.add_argument("--sample", action="store_true", help="print one page and word-count stats")
    args = ap.parse_args()
    anchor = datetime.fromisoformat(args.anchor) if args.anchor else datetime.now(UTC)
    outs = outlets(args.outlets, args.items, args.hosts, anchor)
    if args.sample:
        words = [sum(len(p.split()) for p in a["paragraphs"]) for o in outs for a in o.articles()]
        watch = sum(a["watch"] for o in outs for a in o.articles())
        t = time.perf_counter()
        sizes = [len(o.page(8000, a["j"])) for o in outs[:4] for a in o.articles()]
        print(f"{len(words)} articles, words min {min(words)} mean {sum(words) / len(words):.0f} max {max(words)}, "
              f"watchlist {watch} ({watch / len(words):.1%}), page bytes mean {sum(sizes) / len(sizes):.0f}, "
              f"{(time.perf_counter() - t) / len(sizes) * 1000:.2f} ms/page to render")
        print(outs[1].page(8000, 3).decode()[:3000])
        return
    if args.serve:
        asyncio.run(_serve(outs, args.max_lifetime))


if __name__ == "__main__":
    main()
