"""Stories: rewrites of one wire item across outlets are one story; different news on one topic is not.

What an analyst would notice: TASS's item on CSTO drills and Kazinform's and AKIpress's rewrites of it
appear once in the digest, "covered by 3 outlets in 3 countries"; the two seed articles (Lavrov on US
forces in Central Asia, August and October 2021) stay two stories; a verbatim copy counts once; the
same text ten days later is new news.

The rewrites are in bench/tagging/stories.yaml (fixture, written for evaluation), where
bench/tagging/stories_eval.py also takes the thresholds' evidence from.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from media_monitoring.digest.compose import coverage_text
from media_monitoring.tagging import signatures, stories
from media_monitoring.tagging.stories import StoryArticle, StoryIndex
from media_monitoring.text import story_words

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
WRITTEN = {a["id"]: a for a in yaml.safe_load((ROOT / "bench" / "tagging" / "stories.yaml").read_text("utf-8"))
           ["articles"]}
T0 = datetime(2021, 10, 19, 11, 20, tzinfo=UTC)


def _article(article_id: str, title: str, text: str, published: datetime, outlet: str = "outlet",
             country: str | None = None, countries: tuple[str, ...] = ()) -> StoryArticle:
    return StoryArticle(article_id, signatures.signature(title, text), published, outlet, country, countries,
                        signatures.text_hash(text))


def _written(article_id: str, **changes: Any) -> StoryArticle:
    a = WRITTEN[article_id]
    art = _article(article_id, a["title"], a["text"], datetime.fromisoformat(a["published"]), a["outlet"],
                   a["outlet_country"])
    return StoryArticle(**{**art.__dict__, **changes})


def _seed_articles() -> tuple[tuple[str, str], tuple[str, str]]:
    """(title, text) of the two seed documents' articles: no chrome, no caption, no Related News box."""
    lines = (SEEDS / "000_906231da9371c19f.txt").read_text("utf-8").splitlines()
    title = "Lavrov: Russia Does not want US Army in Central Asia"
    start = next(i for i, s in enumerate(lines) if s.startswith("Russian Foreign Minister Sergey Lavrov announces"))
    end = next(i for i, s in enumerate(lines) if s.startswith("It is worth mentioning"))
    skip = {"Related News", title, "US, Saudi Arabia sign landmark $600bln investment agreement",
            "Hamas' Hamad-US-Palest. Bahbah talks led to Alexander's release: Excl."}
    body = [s.strip() for s in lines[start:end + 1] if s.strip() and not s.strip().startswith("•")
            and s.strip() not in skip]
    pukhtun = (SEEDS / "004_44b952da9092fe42.txt").read_text("utf-8").splitlines()
    p_body = [s.strip() for s in pukhtun[1:] if s.strip() and "© REUTERS" not in s]
    return (title, "\n\n".join(body)), (pukhtun[0].strip(), "\n\n".join(p_body))


# -- the two cases --------------------------------------------------------------------------


def test_two_rewrites_of_one_wire_story_from_different_outlets_are_one_story() -> None:
    tass, kazinform = _written("s1-tass"), _written("s1-kazinform")
    for a in (WRITTEN["s1-tass"], WRITTEN["s1-kazinform"]):
        assert len(story_words(a["text"])) >= 150  # full stories, not briefs
    assert WRITTEN["s1-tass"]["text"].split(".")[0] != WRITTEN["s1-kazinform"]["text"].split(".")[0]
    assignments = StoryIndex().assign([kazinform, tass])
    assert assignments == [("s1-kazinform", "s1-tass"), ("s1-tass", "s1-tass")]  # the earlier one founds it


def test_three_outlets_one_story_with_summary() -> None:
    index = StoryIndex()
    batch = [_written("s1-tass", countries=("TJ", "AF", "RU")), _written("s1-kazinform", countries=("KZ", "TJ")),
             _written("s1-akipress", countries=("KG", "TJ"))]
    assert {story for _, story in index.assign(batch)} == {"s1-tass"}
    summary = index.summary("s1-tass")
    assert summary.outlets == ("akipress", "kazinform", "tass-en")
    assert summary.outlet_countries == ("KG", "KZ", "RU")
    assert summary.countries[0] == "TJ"  # named by all three articles
    assert set(summary.countries) == {"AF", "KG", "KZ", "RU", "TJ"}
    assert summary.first_seen == datetime(2021, 10, 19, 11, 20, tzinfo=UTC)  # TASS, 14:20 Moscow time
    assert summary.article_count == summary.copies == 3
    assert coverage_text(len(summary.outlets), len(summary.outlet_countries)) == "covered by 3 outlets in 3 countries"


def test_the_two_seed_articles_are_two_stories() -> None:
    (title0, text0), (title4, text4) = _seed_articles()
    assert "Collective Security Treaty Organization" in text0 and "CSTO [Collective" in text4
    a = _article("seed-000", title0, text0, datetime(2021, 8, 24, 14, 21, tzinfo=UTC), "almayadeen-en", "LB")
    b = _article("seed-004", title4, text4, datetime(2021, 10, 28, 11, 45, tzinfo=UTC), "pukhtunnama", "PK")
    assert signatures.similarity(a.signature, b.signature) < signatures.THRESHOLD / 2
    # Not even on the same day: the window is not what keeps them apart.
    b_same_day = StoryArticle(**{**b.__dict__, "published_at": a.published_at + timedelta(hours=2)})
    assert StoryIndex().assign([a, b_same_day]) == [("seed-000", "seed-000"), ("seed-004", "seed-004")]


def test_the_raw_seed_pages_with_their_chrome_are_two_stories_too() -> None:
    raw = [(SEEDS / name).read_text("utf-8") for name in ("000_906231da9371c19f.txt", "004_44b952da9092fe42.txt")]
    sigs = [signatures.signature("", text) for text in raw]
    assert signatures.similarity(*sigs) < signatures.THRESHOLD


# -- every written story, in every language ---------------------------------------------------------


def test_every_written_rewrite_groups_and_nothing_else_does() -> None:
    """bench/tagging/stories.yaml: rewrites in en, ru, ar and fa; same-topic follow-ups stay apart."""
    index = StoryIndex()
    assigned = dict(index.assign([_written(i) for i in WRITTEN]))
    for a, b in itertools.combinations(WRITTEN.values(), 2):
        same = assigned[a["id"]] == assigned[b["id"]]
        assert same == (a["story"] == b["story"]), (a["id"], b["id"], a["story"], b["story"])
    assert {WRITTEN[i]["lang"] for i in WRITTEN} >= {"en", "ru", "ar", "fa"}


def test_unrelated_articles_never_group() -> None:
    """The 69 labelled tagging articles (many on Lavrov, the CSTO and Afghanistan) are 69 stories."""
    import json

    rows = [json.loads(line) for line in (ROOT / "bench" / "tagging" / "labelled.jsonl").read_text("utf-8")
            .splitlines() if line.strip()]
    batch = [_article(r["id"], r["title"], r["text"], T0 + timedelta(minutes=i)) for i, r in enumerate(rows)]
    assigned = StoryIndex().assign(batch)
    assert [story for _, story in assigned] == [r["id"] for r in rows]


# -- exact duplicates -------------------------------------------------------------------------------


def test_exact_duplicate_text_has_the_same_hash() -> None:
    text = WRITTEN["s1-tass"]["text"]
    assert signatures.text_hash(text) == signatures.text_hash("  " + text.upper().replace("\n\n", "\n") + "\n")
    assert signatures.text_hash(text) != signatures.text_hash(text.replace("4,000", "5,000"))
    assert len(signatures.text_hash(text)) == 32


def test_text_hash_is_its_definition() -> None:
    """Stored hashes stay comparable: SHA-256 of the NFKC, case-folded text with its spaces collapsed."""
    import hashlib
    import unicodedata

    spaces = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
    texts = [a["text"] for a in WRITTEN.values()] + [
        "", "  a  ", spaces, f"x{spaces}y{spaces}", "Straße ﬁnal 😀 𝔘𝔫𝔦 Лавров الاتّحاد ÀÉÎ", "a\u00a0\u00a0b\u200cc"]
    for text in texts:
        key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        assert signatures.text_hash(text) == hashlib.sha256(key.encode("utf-8")).hexdigest()[:32], text[:40]
    assert signatures.text_hash(None) == signatures.text_hash("")


def test_an_exact_duplicate_is_one_article_of_the_story_but_its_outlet_counts() -> None:
    """A verbatim republication (another headline, the same body) joins its original's story."""
    original = _written("s1-tass")
    copy = StoryArticle(**{**original.__dict__, "article_id": "copy", "outlet_id": "sputnik-tj", "outlet_country": "TJ",
                           "published_at": original.published_at + timedelta(hours=3)})
    index = StoryIndex()
    detailed = index.assign_detailed([copy, original])
    assert [(d.article_id, d.story_id, d.duplicate_of) for d in detailed] == [
        ("copy", "s1-tass", "s1-tass"), ("s1-tass", "s1-tass", None)]
    summary = index.summary("s1-tass")
    assert (summary.article_count, summary.copies) == (1, 2)
    assert coverage_text(len(summary.outlets), len(summary.outlet_countries)) == "covered by 2 outlets in 2 countries"


# -- time window, determinism -----------------------------------------------------------------------


def test_the_same_story_text_ten_days_later_is_a_new_story() -> None:
    first = _written("s1-tass")
    index = StoryIndex([StoryArticle(**{**first.__dict__, "story_id": "s1-tass"})])
    repeat = StoryArticle(**{**first.__dict__, "article_id": "repeat", "published_at": first.published_at
                             + timedelta(days=10)})
    assert index.assign_detailed([repeat])[0] == stories.Assignment("repeat", "repeat", None, None, None)
    # Its rewrite an hour later joins the new story, not the old one.
    rewrite = StoryArticle(**{**_written("s1-kazinform").__dict__,
                              "published_at": repeat.published_at + timedelta(hours=1)})
    assert index.assign([rewrite]) == [("s1-kazinform", "repeat")]


def test_a_story_spans_at_most_the_window() -> None:
    """Each step is within three days, but the third article is four days after the story began."""
    a, b, c = (_written(i) for i in ("s1-tass", "s1-kazinform", "s1-akipress"))
    b = StoryArticle(**{**b.__dict__, "published_at": a.published_at + timedelta(days=2)})
    c = StoryArticle(**{**c.__dict__, "published_at": a.published_at + timedelta(days=4)})
    assert StoryIndex().assign([a, b, c]) == [("s1-tass", "s1-tass"), ("s1-kazinform", "s1-tass"),
                                             ("s1-akipress", "s1-akipress")]
    # The stories table's first_seen counts even when the story's first article is not loaded.
    stored = StoryArticle(**{**b.__dict__, "story_id": "s1-tass", "story_first_seen": a.published_at})
    assert StoryIndex([stored]).assign([c]) == [("s1-akipress", "s1-akipress")]


def test_story_ids_are_deterministic_whatever_the_order() -> None:
    batch = [_written(i) for i in WRITTEN]
    first = dict(StoryIndex().assign(batch))
    again = dict(StoryIndex().assign(list(reversed(batch))))
    assert first == again
    assert first["s3-sputnik-tj"] == "s3-ria"  # RIA published first
    assert signatures.signature("A", "b c d") == signatures.signature("A", "b c d")


def test_signature_values_are_pinned() -> None:
    """Stored signatures must stay comparable: a change here needs a new SIGNATURE_VERSION."""
    sig = signatures.signature("CSTO to hold drills", "The Collective Security Treaty Organization will hold "
                            "three joint exercises in Tajikistan.")
    assert len(sig) == signatures.NUM_PERM == 512
    assert sig[:4] == [265527603, 511912026, 79879962, 256722077]
    assert signatures.SIGNATURE_VERSION == "minhash-affine32-crc32-w3-p512-s1"


def test_signature_ignores_case_punctuation_and_persian_zwnj() -> None:
    text = "Lavrov said: «We see the risk», adding that the CSTO would help."
    assert signatures.signature("T", text) == signatures.signature("t", text.upper().replace("«", '"')
                                                                   .replace("»", '"'))
    assert signatures.signature("", "کمک‌های بشردوستانه") == signatures.signature("", "کمکهای بشردوستانه")
    assert signatures.signature("", "كابل") == signatures.signature("", "کابل")  # Arabic and Persian kaf


# -- the index as the pipeline uses it --------------------------------------------------------------


def test_a_new_article_joins_a_stored_story_from_the_warehouse() -> None:
    tass = _written("s1-tass")
    row = {"article_id": "s1-tass", "signature": signatures.pack_signature(tass.signature),
           "published_at": tass.published_at.replace(tzinfo=None), "outlet_id": "tass-en", "outlet_country": "RU",
           "countries": ["TJ"], "text_hash": tass.text_hash, "story_id": "s1-tass"}
    assert len(row["signature"]) == 4 * signatures.NUM_PERM
    index = StoryIndex([StoryArticle.from_row(row)])
    detailed = index.assign_detailed([_written("s1-kazinform")])
    assert detailed[0].story_id == "s1-tass" and detailed[0].matched_article_id == "s1-tass"
    assert signatures.THRESHOLD <= detailed[0].similarity < 1
    assert detailed[0].to_row()["story_id"] == "s1-tass"
    # A re-run of the same batch keeps the story.
    assert index.assign([_written("s1-kazinform")]) == [("s1-kazinform", "s1-tass")]
    assert index.summary("s1-tass").to_row()["outlets"] == ["kazinform", "tass-en"]


def test_lookback_is_the_window_before_the_earliest_new_article() -> None:
    assert stories.lookback([T0 + timedelta(hours=5), T0]) == T0 - stories.WINDOW
    assert stories.lookback([]) is None


def test_articles_without_words_start_their_own_stories() -> None:
    empty = [_article(i, "", " — ", T0) for i in ("a", "b")]
    assert signatures.is_empty(empty[0].signature)
    assert StoryIndex().assign(empty) == [("a", "a"), ("b", "b")]


def test_signatures_of_another_version_are_refused() -> None:
    with pytest.raises(ValueError, match="recompute"):
        StoryIndex([StoryArticle("x", [1] * 128, T0, "o", story_id="x")])


# -- the index against a brute-force reading of its rules ---------------------------------------------


def _reference(stored: list[StoryArticle], batch: list[StoryArticle]) -> list[stories.Assignment]:
    """The rules of StoryIndex applied by comparing every pair: no LSH."""
    known = {a.article_id: a for a in stored}
    first: dict[str, datetime] = {}
    for a in stored:
        first[str(a.story_id)] = min(first.get(str(a.story_id), a.published_at), a.published_at)
    done = {}
    for new in sorted(batch, key=lambda a: (a.published_at, a.article_id)):
        def open_(other: StoryArticle, new: StoryArticle = new) -> bool:
            return (abs(new.published_at - other.published_at) <= stories.WINDOW
                    and new.published_at - first[str(other.story_id)] <= stories.WINDOW)
        copies = sorted((o.published_at, o.article_id) for o in known.values()
                        if o.text_hash == new.text_hash and open_(o))
        if copies:
            o = known[copies[0][1]]
            result = stories.Assignment(new.article_id, str(o.story_id), o.article_id, 1.0, o.article_id)
        else:
            scored = sorted((-signatures.similarity(new.signature, o.signature), o.published_at, o.article_id)
                            for o in known.values() if open_(o))
            scored = [s for s in scored if -s[0] >= signatures.THRESHOLD]
            if scored:
                o = known[scored[0][2]]
                result = stories.Assignment(new.article_id, str(o.story_id), o.article_id, -scored[0][0], None)
            else:
                result = stories.Assignment(new.article_id, new.article_id, None, None, None)
        done[new.article_id] = result
        known[new.article_id] = StoryArticle(**{**new.__dict__, "story_id": result.story_id})
        first[result.story_id] = min(first.get(result.story_id, new.published_at), new.published_at)
    return [done[a.article_id] for a in batch]


def _families(seed: int, count: int, start: datetime) -> list[StoryArticle]:
    """Articles in families that share 0-40 % of their signature positions (about the threshold and
    well either side of it), some exact copies, published over six days: every rule gets exercised."""
    rng = np.random.default_rng(seed)
    out = []
    bases = [rng.integers(0, 2**32 - 1, signatures.NUM_PERM, dtype=np.uint64) for _ in range(count // 6)]
    for i in range(count):
        base = bases[int(rng.integers(len(bases)))]
        sig = rng.integers(0, 2**32 - 1, signatures.NUM_PERM, dtype=np.uint64)
        shared = rng.random(signatures.NUM_PERM) < rng.choice([0.0, 0.05, 0.085, 0.095, 0.2, 0.4])
        sig[shared] = base[shared]
        text = f"copy-{i % 7}" if i % 11 == 0 else f"text-{seed}-{i}"
        when = start + timedelta(minutes=int(rng.integers(8640)))
        out.append(StoryArticle(f"a{seed}-{i:04d}", sig.astype(np.uint32), when, f"o{i % 13}", text_hash=text))
    return out


def test_index_assigns_as_a_pairwise_comparison_of_every_article_would() -> None:
    stored_new = _families(1, 400, T0)
    assigned = _reference([], stored_new)
    stored = [StoryArticle(**{**a.__dict__, "story_id": s.story_id}) for a, s in zip(stored_new, assigned, strict=True)]
    first_batch, second_batch = _families(2, 150, T0 + timedelta(days=3)), _families(3, 150, T0 + timedelta(days=4))
    expected = _reference(stored, first_batch)
    expected += _reference(stored + [StoryArticle(**{**a.__dict__, "story_id": e.story_id})
                                     for a, e in zip(first_batch, expected, strict=True)], second_batch)
    index = StoryIndex(stored)
    got = index.assign_detailed(first_batch) + index.assign_detailed(second_batch)
    assert got == expected
    joined = [g for g in got if g.matched_article_id]
    assert 20 < len(joined) < 280 and any(g.duplicate_of for g in got)  # the case is not trivial
    assert len(index) == 700 and all(a.article_id in index for a in second_batch)
