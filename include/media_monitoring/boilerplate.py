"""Per-outlet template learning: lines that recur across many articles of one outlet are its boilerplate.

Extraction keeps whatever sits inside an article's container, and outlets paste the same lines into
every story: a byline block, "Related News", "Subscribe to our newsletter", a Telegram prompt, a
copyright or reprint notice, "Read also: <some headline>". No page-level rule can tell such a line
from article text, but the outlet's history can: a short line found in many distinct articles of the
same outlet is template, not reporting.

Pure module (no Airflow, no I/O). State is one ``OutletTemplate`` per outlet, updated incrementally
article after article and serialisable to JSON so the pipeline can persist it run after run::

    template = OutletTemplate.from_json(stored) if stored else OutletTemplate(outlet_id)
    template.observe(extracted.text, article_key=article_id)   # once per new article
    cleaned = template.clean(extracted.text)                    # -> Cleaned(text, removed)
    # or both at once, each line put in normal form once: template.observe_and_clean(text, article_id)
    stored = template.to_json()

What counts (all configurable on the template):
- a line is a paragraph of the extracted text (``\\n``-separated); it is compared in normal form
  (:func:`media_monitoring.text.line_form`): word tokens only, case-folded, Unicode format characters
  (ZWNJ, bidi marks) dropped, digits as ``0`` (so "© 2021" and "© 2024" match);
- only short-ish lines count (``max_words``, default 40): article paragraphs are longer and unique;
- a line is boilerplate once it was seen in at least ``min_articles`` distinct articles (default 3)
  AND in at least ``min_share`` of the outlet's articles seen so far (default 0.2): recurring
  background sentences ("The CSTO includes Armenia, Belarus, ...") recur in a topical few per cent of
  an outlet's stories, template lines in most of them;
- "label: varying text" lines (label of 1-3 words, whole line at most ``max_prefix_words`` words,
  no quotation marks after the colon, not a question) also count by their label, so "Read also: <headline>" and
  "Читайте также: <headline>" are learnt although the headline changes;
- removal is safe: nothing is removed from a text under ``min_words`` (the article minimum,
  :data:`~media_monitoring.rules.MIN_ARTICLE_WORDS`), and removal stops before the text would fall under it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from media_monitoring.rules import MIN_ARTICLE_WORDS
from media_monitoring.text import line_form, word_count

STATE_VERSION = 1

# "Read also: ...", "Related: ...", "Читайте также: ...", "اقرأ أيضاً: ...", "Lire aussi | ..."
_LABEL_RE = re.compile(r"^\s*([^\W\d][\w'’ .-]{0,40}?)\s*[:|]\s+(\S.*)$")
_QUOTES = "\"“”„«»‹›「」"


@dataclass
class Cleaned:
    text: str
    removed: list[str] = field(default_factory=list)  # the lines taken out, in text order
    words: int | None = None  # len(text.split()), when the cleaning counted it already

    @property
    def word_count(self) -> int:
        return word_count(self.text) if self.words is None else self.words


def _digest(kind: str, norm: str) -> str:
    return hashlib.blake2b(f"{kind}\x00{norm}".encode(), digest_size=8).hexdigest()


@dataclass
class OutletTemplate:
    """Recurring lines of one outlet: line key -> number of distinct articles it was seen in."""

    outlet_id: str
    min_articles: int = 3
    min_share: float = 0.2
    max_words: int = 40
    max_prefix_words: int = 25
    max_keys: int = 5_000  # bound on the state (~150 KB of JSON): rarest keys evicted first, oldest first
    articles_seen: int = 0
    # key -> [articles containing it, index of the last article that contained it]
    counts: dict[str, list[int]] = field(default_factory=dict)
    # a readable example of each key seen at least twice (for review; bounded like counts)
    samples: dict[str, str] = field(default_factory=dict)
    # fingerprints of recently observed articles: observing the same article again is a no-op
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=2000))

    # --- learning ---------------------------------------------------------------------------------

    def observe(self, text: str, article_key: str | None = None) -> bool:
        """Count the lines of one article. Returns False when this article was already observed."""
        lines = text.split("\n")
        return self._observe(text, article_key, lines, [self._keys(line) for line in lines])

    def observe_and_clean(self, text: str, article_key: str | None = None, *, min_words: int = MIN_ARTICLE_WORDS,
                          words: int | None = None) -> Cleaned:
        """:meth:`observe` then :meth:`clean` of one new article, each line put in normal form once
        (``words``: ``len(text.split())``, if the caller counted them already)."""
        lines = text.split("\n")
        line_keys = [self._keys(line) for line in lines]
        self._observe(text, article_key, lines, line_keys)
        return self._clean(text, lines, line_keys, min_words, words)

    def _observe(self, text: str, article_key: str | None, lines: list[str], line_keys: list[list[str]]) -> bool:
        fingerprint = _digest("article", article_key if article_key is not None else text.strip())
        if fingerprint in self.recent:
            return False
        self.recent.append(fingerprint)
        self.articles_seen += 1
        keys: dict[str, str] = {}
        for line, line_key in zip(lines, line_keys, strict=True):
            for key in line_key:
                keys.setdefault(key, line.strip())
        for key, line in keys.items():
            entry = self.counts.get(key)
            if entry is None:
                self.counts[key] = [1, self.articles_seen]
            else:
                entry[0] += 1
                entry[1] = self.articles_seen
                if key not in self.samples:
                    self.samples[key] = line[:200]
        if len(self.counts) > self.max_keys:
            self._evict()
        return True

    def _keys(self, line: str) -> list[str]:
        norm = line_form(line)
        if not norm:
            return []
        n_words = norm.count(" ") + 1
        keys = []
        if n_words <= self.max_words:
            keys.append(_digest("line", norm))
        label = self._label(line, n_words)
        if label:
            keys.append(_digest("label", label))
        return keys

    def _label(self, line: str, n_words: int) -> str | None:
        if n_words > self.max_prefix_words:
            return None
        match = _LABEL_RE.match(line)
        if not match:
            return None
        rest = match.group(2).rstrip()
        if any(q in rest for q in _QUOTES) or rest.endswith("?"):
            return None  # a quotation ("Lavrov: “...”") or an interview question is content, not a label
        label = line_form(match.group(1))
        return label if len(label) >= 3 and label.count(" ") < 3 else None

    def _evict(self) -> None:
        target = int(self.max_keys * 0.8)
        order = sorted(self.counts.items(), key=lambda kv: (kv[1][0], kv[1][1]))
        for key, _ in order[: len(self.counts) - target]:
            del self.counts[key]
            self.samples.pop(key, None)

    # --- decision -------------------------------------------------------------------------------------

    def threshold(self) -> int:
        """Articles a line must appear in to be boilerplate, given how many articles were seen."""
        return max(self.min_articles, math.ceil(self.min_share * self.articles_seen))

    def _count(self, key: str) -> int:
        entry = self.counts.get(key)
        return entry[0] if entry else 0

    def line_score(self, line: str) -> int:
        """How many observed articles contain ``line`` (or its label); 0 when it does not qualify."""
        return self._score(self._keys(line))

    def _score(self, keys: list[str]) -> int:
        return max((self._count(k) for k in keys), default=0)

    def is_boilerplate(self, line: str) -> bool:
        return self.line_score(line) >= self.threshold()

    def boilerplate_lines(self) -> list[tuple[str, int]]:
        """Examples of the lines currently judged boilerplate, with their article counts (for review)."""
        limit = self.threshold()
        return sorted(((self.samples.get(k, k), c[0]) for k, c in self.counts.items() if c[0] >= limit),
                      key=lambda item: -item[1])

    def clean(self, text: str, *, min_words: int = MIN_ARTICLE_WORDS) -> Cleaned:
        """``text`` without this outlet's boilerplate lines, never leaving fewer than ``min_words`` words.

        The most recurrent lines go first; a line whose removal would take the text under ``min_words``
        is kept (and so is everything in a text that is already under it).
        """
        return self._clean(text, text.split("\n"), None, min_words)

    def _clean(self, text: str, lines: list[str], line_keys: list[list[str]] | None, min_words: int,
               words: int | None = None) -> Cleaned:
        total = word_count(text) if words is None else words
        if total < min_words:
            return Cleaned(text, words=total)
        limit = self.threshold()
        if line_keys is None:
            line_keys = [self._keys(line) for line in lines]
        scored = [(score, i) for i, keys in enumerate(line_keys) if (score := self._score(keys)) >= limit]
        drop: set[int] = set()
        for _score, i in sorted(scored, key=lambda s: (-s[0], s[1])):
            words = word_count(lines[i])
            if total - words < min_words:
                continue
            drop.add(i)
            total -= words
        if not drop:
            return Cleaned(text, words=total)
        kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
        # words never span lines: the kept lines hold the words not dropped
        return Cleaned(kept.strip(), [lines[i] for i in sorted(drop)], words=total)

    # --- persistence ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION, "outlet_id": self.outlet_id, "articles_seen": self.articles_seen,
            "params": {"min_articles": self.min_articles, "min_share": self.min_share, "max_words": self.max_words,
                       "max_prefix_words": self.max_prefix_words, "max_keys": self.max_keys},
            "counts": self.counts, "samples": self.samples, "recent": list(self.recent),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutletTemplate:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported template state version {data.get('version')!r}")
        template = cls(data["outlet_id"], **data.get("params", {}))
        template.articles_seen = int(data.get("articles_seen", 0))
        template.counts = {k: [int(v[0]), int(v[1])] for k, v in data.get("counts", {}).items()}
        template.samples = dict(data.get("samples", {}))
        template.recent.extend(data.get("recent", []))
        return template

    @classmethod
    def from_json(cls, raw: str | bytes) -> OutletTemplate:
        return cls.from_dict(json.loads(raw))


def learn(outlet_id: str, texts: list[str], **params: Any) -> OutletTemplate:
    """A template learnt from ``texts`` (one extracted text per distinct article of the outlet)."""
    template = OutletTemplate(outlet_id, **params)
    for text in texts:
        template.observe(text)
    return template
