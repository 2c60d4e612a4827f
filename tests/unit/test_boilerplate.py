"""Per-outlet template learning (boilerplate.py) on the replay outlets' pages and on synthetic histories."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from media_monitoring.boilerplate import OutletTemplate, learn
from media_monitoring.extract import extract_article
from media_monitoring.rules import MIN_ARTICLE_WORDS

pytestmark = pytest.mark.unit

REPLAY = Path(__file__).resolve().parents[2] / "seeds" / "replay"
BASE = "http://127.0.0.1:8765"
PAGES = yaml.safe_load((REPLAY / "expected.yaml").read_text(encoding="utf-8"))["pages"]


def _html(page: dict) -> bytes:
    return (REPLAY / page["path"].lstrip("/")).read_bytes().replace(b"{{REPLAY_BASE}}", BASE.encode())


def _outlet_pages(outlet: str) -> list[dict]:
    return [p for p in PAGES if p["outlet"] == outlet and not p["quarantine"]]


SYNTHETIC = ["Related News", "Subscribe to our newsletter", "© {year} Al Mayadeen English. All rights reserved"]


def _with_chrome(text: str, year: int) -> str:
    """The article text with the outlet's recurring lines pasted in, as a CMS template does."""
    lines = text.split("\n")
    return "\n".join([*lines[:2], SYNTHETIC[0], *lines[2:4], SYNTHETIC[1], *lines[4:], SYNTHETIC[2].format(year=year)])


@pytest.fixture(scope="module")
def almayadeen() -> list[tuple[dict, str]]:
    return [(p, extract_article(_html(p), BASE + p["path"]).text) for p in _outlet_pages("almayadeen-en")]


def test_recurring_lines_are_learnt_and_removed_article_sentences_never(almayadeen) -> None:
    texts = [_with_chrome(text, 2021 + i) for i, (_, text) in enumerate(almayadeen)]
    template = learn("almayadeen-en", texts)
    assert template.articles_seen == 3
    assert all(template.is_boilerplate(line.format(year=1999)) for line in SYNTHETIC)  # digits normalised
    learnt = {line for line, _count in template.boilerplate_lines()}
    assert {"Related News", "Subscribe to our newsletter"} <= learnt
    for (page, original), text in zip(almayadeen, texts, strict=True):
        cleaned = template.clean(text)
        assert cleaned.text == original  # exactly the synthetic lines went, nothing else
        assert len(cleaned.removed) == 3
        assert all(phrase in cleaned.text for phrase in page["body_must_contain"])
        for line in original.split("\n"):
            assert not template.is_boilerplate(line), line


def test_observe_and_clean_is_observe_then_clean(almayadeen) -> None:
    texts = [_with_chrome(text, 2021 + i) for i, (_, text) in enumerate(almayadeen)] * 2  # and seen again
    one, two = OutletTemplate("almayadeen-en"), OutletTemplate("almayadeen-en")
    removed = 0
    for i, text in enumerate(texts):
        key = f"article-{i % len(almayadeen)}"
        expected = (one.observe(text, article_key=key), one.clean(text))
        cleaned = two.observe_and_clean(text, article_key=key, words=len(text.split()))
        assert cleaned == expected[1]
        assert cleaned.word_count == len(cleaned.text.split())  # counted while cleaning, not again
        removed += len(cleaned.removed)
    assert two.to_dict() == one.to_dict()
    assert removed == 3 + 3 * len(almayadeen)  # the third article on, and every article seen again


def test_two_articles_are_not_enough(almayadeen) -> None:
    template = learn("almayadeen-en", [_with_chrome(t, 2021) for _, t in almayadeen[:2]])
    assert not template.is_boilerplate("Subscribe to our newsletter")
    text = _with_chrome(almayadeen[0][1], 2021)
    assert template.clean(text).text == text


def test_labelled_lines_are_learnt_by_their_label_quotes_and_questions_are_not() -> None:
    body = " ".join(f"Sentence {i} of a long enough article about the harvest in the north." for i in range(12))
    topics = ["wheat exports", "border talks", "gas prices", "school reform"]
    texts = [f"{body}\nRead also: Headline about {topic}\nLavrov: “We will answer on {topic}”\n"
             f"Rheinblatt: Why did {topic} matter?" for topic in topics]
    template = learn("outlet", texts)
    assert template.is_boilerplate("Read also: A headline never seen before")
    assert not template.is_boilerplate("Lavrov: “A quotation never seen before”")
    assert not template.is_boilerplate("Rheinblatt: Is a question content?")
    cleaned = template.clean(texts[0])
    assert cleaned.removed == ["Read also: Headline about wheat exports"]


def test_a_background_sentence_in_a_few_per_cent_of_stories_is_kept() -> None:
    background = "The CSTO includes Armenia, Belarus, Kazakhstan, Kyrgyzstan, Russia and Tajikistan."
    template = OutletTemplate("tass-en")
    for i in range(40):
        lines = [f"Story {i} paragraph {j} with its own words about event {i * 7 + j}." for j in range(8)]
        if i % 10 == 0:
            lines.append(background)  # 4 of 40 stories
        lines.append("Reproduction of materials requires a reference to TASS.")  # every story
        template.observe("\n".join(lines), article_key=f"story-{i}")
    assert template.threshold() == 8  # 20% of 40
    assert not template.is_boilerplate(background)
    assert template.is_boilerplate("Reproduction of materials requires a reference to TASS.")


def test_cleaning_never_takes_an_article_under_the_validation_minimum() -> None:
    chrome = [f"Recurring chrome line {c} of this outlet" for c in "ABCDEF"]
    template = learn("outlet", ["\n".join([f"Unique story {i} text.", *chrome]) for i in range(5)])
    short = "\n".join([" ".join(["word"] * 20), *chrome])  # 20 + 36 = 56 words
    cleaned = template.clean(short)
    assert cleaned.word_count >= MIN_ARTICLE_WORDS
    assert 0 < len(cleaned.removed) < len(chrome)
    tiny = "\n".join(["only a few words", *chrome[:2]])
    assert template.clean(tiny).text == tiny  # already under the minimum: untouched


def test_long_lines_never_count() -> None:
    paragraph = " ".join(["recurring"] * 60)
    template = learn("outlet", [f"Story {i}\n{paragraph}" for i in range(5)])
    assert not template.is_boilerplate(paragraph)


def test_state_round_trips_and_updates_incrementally(almayadeen) -> None:
    texts = [_with_chrome(t, 2021) for _, t in almayadeen]
    template = OutletTemplate("almayadeen-en")
    assert template.observe(texts[0], article_key="a")
    assert not template.observe(texts[0], article_key="a")  # the same article again: no double count
    restored = OutletTemplate.from_json(template.to_json())
    for key, text in zip("bc", texts[1:], strict=True):  # next runs continue from the stored state
        restored.observe(text, article_key=key)
        restored = OutletTemplate.from_json(restored.to_json())
    assert restored.articles_seen == 3
    assert restored.is_boilerplate("Subscribe to our newsletter")
    assert restored.clean(texts[0]).text == almayadeen[0][1]


def test_state_stays_bounded() -> None:
    template = OutletTemplate("busy", max_keys=200)
    for i in range(100):
        lines = [f"Unique line {i}-{j} {'x' * j}" for j in range(10)] + ["Follow us on Telegram"]
        template.observe("\n".join(lines), article_key=str(i))
    assert len(template.counts) <= 200
    assert template.is_boilerplate("Follow us on Telegram")


def test_akipress_most_read_block_is_learnt_when_it_survives_extraction() -> None:
    """Bare trafilatura keeps AKIpress's "Most read" table (our extraction prunes it): it is learnt."""
    import trafilatura

    pages = _outlet_pages("akipress")
    most_read = ("Kyrgyzstan, Uzbekistan agree to open new border crossing", "National Bank keeps policy rate")
    bare = [trafilatura.extract(_html(p)) or "" for p in pages]
    assert all(any(h in text for h in most_read) for text in bare)  # the block survives bare extraction
    template = learn("akipress", bare)
    for page, text in zip(pages, bare, strict=True):
        cleaned = template.clean(text)
        assert not any(h in cleaned.text for h in most_read)
        assert all(phrase in cleaned.text for phrase in page["body_must_contain"])
    ours = [extract_article(_html(p), BASE + p["path"]).text for p in pages]
    assert not any(h in text for text in ours for h in most_read)
