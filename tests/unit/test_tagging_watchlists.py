"""Watchlist matching with the real watchlist file: every spelling an outlet uses, and nothing else.

What an analyst would notice: a Russian, Arabic or Dari story about Lavrov, the CSTO or Afghanistan
reaches the digest; a Russian recipe with bay leaves («лавровый лист») or an English essay on
"Afghanistanism" does not; and each hit says which alias matched and where.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from media_monitoring.config import load_watchlists
from media_monitoring.tagging import Tagger

pytestmark = pytest.mark.unit

CONFIG = Path(__file__).resolve().parents[2] / "include" / "config"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(CONFIG / "watchlists.yaml", CONFIG / "regions.yaml")


def _terms(tagger: Tagger, text: str, title: str = "") -> set[str]:
    return {h.term for h in tagger.tag(title, text).watchlist_hits}


def _matched(tagger: Tagger, text: str) -> list[tuple[str, str, str]]:
    """(term, alias, matched text) of every hit, in order."""
    return [(h.term, h.alias, h.matched) for h in tagger.tag("", text).watchlist_hits]


@pytest.mark.parametrize(("text", "term", "matched"), [
    # Russian declines names: every case form of Лавров, Афганистан, Кабул, and the adjective.
    ("Министр иностранных дел Сергей Лавров заявил", "Lavrov", "Лавров"),
    ("встреча Сергея Лаврова с коллегой", "Lavrov", "Лаврова"),
    ("по словам Лаврову, нет", "Lavrov", "Лаврову"),
    ("переговоры с Лавровым", "Lavrov", "Лавровым"),
    ("ситуация в Афганистане", "Afghanistan", "Афганистане"),
    ("граница с Афганистаном", "Afghanistan", "Афганистаном"),
    ("территория Афганистана", "Afghanistan", "Афганистана"),
    ("контакты с властями в Кабуле", "Afghanistan", "Кабуле"),
    ("на таджикско-афганской границе", "Afghanistan", "афганской"),
    ("союзники по ОДКБ", "CSTO", "ОДКБ"),
    ("страны Организации Договора о коллективной безопасности", "CSTO",
     "Организации Договора о коллективной безопасности"),
    # The watchlist writes these names once, in the nominative; the other cases come from pymorphy3.
    ("в рамках Организации Договора о коллективной безопасности", "CSTO",
     "Организации Договора о коллективной безопасности"),
    ("руководство Организацией Договора о коллективной безопасности", "CSTO",
     "Организацией Договора о коллективной безопасности"),
    ("беседа с Сергеем Лавровым", "Lavrov", "Лавровым"),
    ("письмо Лаврове", "Lavrov", "Лаврове"),
    # Ukrainian
    ("зустріч із Сергієм Лавровим", "Lavrov", "Лавровим"),
    ("ситуація в Афганістані", "Afghanistan", "Афганістані"),
    ("члени Організації Договору про колективну безпеку", "CSTO",
     "Організації Договору про колективну безпеку"),
    # Arabic
    ("قال وزير الخارجية الروسي سيرغي لافروف", "Lavrov", "لافروف"),
    ("الوضع في أفغانستان", "Afghanistan", "أفغانستان"),
    ("منظمة معاهدة الأمن الجماعي", "CSTO", "منظمة معاهدة الأمن الجماعي"),
    # Persian / Dari, as TOLOnews writes it
    ("سرگئی لاوروف، وزیر خارجه روسیه", "Lavrov", "لاوروف"),
    ("کمک به افغانستان", "Afghanistan", "افغانستان"),
    ("باشندگان کابل", "Afghanistan", "کابل"),
    # English
    ("Sergei Lavrov said", "Lavrov", "Sergei Lavrov"),
    ("Sergey Lavrov said", "Lavrov", "Sergey Lavrov"),
    ("the Collective Security Treaty Organization met", "CSTO", "Collective Security Treaty Organization"),
    ("the CSTO's exercises", "CSTO", "CSTO"),
    ("Afghanistanis who fled", "Afghanistan", "Afghanistanis"),
    ("Afghan officials", "Afghanistan", "Afghan"),
])
def test_surface_forms_in_every_script_are_found(tagger: Tagger, text: str, term: str, matched: str) -> None:
    hits = [h for h in tagger.tag("", text).watchlist_hits if h.term == term]
    assert [h.matched for h in hits] == [matched], f"{text!r}: {[(h.term, h.matched) for h in hits]}"


@pytest.mark.parametrize("text", [
    "Лавровый лист полезен не только как приправа.",  # bay leaf, capitalised at the sentence start
    "Хранить лавровый лист лучше в стеклянной банке; отвары лаврового листа.",
    "при долгой варке лавр может придать блюду горечь",
    "Он работал не ради лавров.",  # "not for the laurels": genitive plural of «лавр», lower case
    "Троице-Сергиева лавра",
    "Afghanistanism: worrying about remote problems instead of local ones.",
    "the csto of the day",  # CSTO is an acronym: case-sensitive
    "ACSTOR and CSTOL are other words",
    "Lavrovsky Street",
])
def test_words_that_only_look_like_a_term_are_not_hits(tagger: Tagger, text: str) -> None:
    assert _matched(tagger, text) == []


def test_arabic_proclitic_is_allowed_and_kept_out_of_the_span(tagger: Tagger) -> None:
    text = "وأفغانستان ولافروف"  # "and Afghanistan", "and Lavrov": the conjunction is written attached
    hits = tagger.tag("", text).watchlist_hits
    assert {(h.term, h.matched) for h in hits} == {("Afghanistan", "أفغانستان"), ("Lavrov", "لافروف")}
    for h in hits:
        assert text[h.start:h.end] == h.matched
        assert text[h.start - 1] == "و"


def test_arabic_and_persian_letter_variants_match_and_report_the_spelling_used(tagger: Tagger) -> None:
    # Arabic kaf (ك) in a Persian name, and Arabic without the hamza on the alef
    assert ("Afghanistan", "کابل", "كابل") in _matched(tagger, "في كابل")
    # the Persian spelling matches its own alias, not the Arabic one listed first
    assert _matched(tagger, "افغانستان") == [("Afghanistan", "افغانستان", "افغانستان")]
    assert _matched(tagger, "أفغانستان") == [("Afghanistan", "أفغانستان", "أفغانستان")]


def test_hit_reports_alias_field_span_snippet_and_version(tagger: Tagger) -> None:
    version = load_watchlists(CONFIG / "watchlists.yaml").watchlists[0].version
    title = "Lavrov warns Central Asia"
    text = "MOSCOW - Russian Foreign Minister Sergei Lavrov urged the CSTO to act on Afghanistan."
    hits = tagger.tag(title, text).watchlist_hits
    assert {(h.term, h.alias, h.field) for h in hits} == {
        ("Lavrov", "Lavrov", "title"), ("Lavrov", "Sergei Lavrov", "text"),
        ("CSTO", "CSTO", "text"), ("Afghanistan", "Afghanistan", "text")}
    for h in hits:
        content = title if h.field == "title" else text
        assert content[h.start:h.end] == h.matched
        assert h.matched in h.snippet
        assert h.version == version
        assert h.to_json()["span"] == [h.start, h.end]


def test_case_insensitive_aliases_match_any_capitalisation(tagger: Tagger) -> None:
    assert _terms(tagger, "KABUL, Oct 28 - AFGHANISTAN") == {"Afghanistan"}
    assert _terms(tagger, "ЛАВРОВ") == set()  # the Russian surname is case-sensitive (see «лавров»)


def test_persian_spelling_of_lavrov_is_on_the_watchlist() -> None:
    """«لاوروف» is how Afghan and Iranian outlets write Lavrov; the Arabic «لافروف» differs by a letter."""
    watchlist = load_watchlists(CONFIG / "watchlists.yaml").watchlists[0]
    lavrov = next(t for t in watchlist.terms if t.name == "Lavrov")
    assert {"لاوروف", "لافروف"} <= {a.text for a in lavrov.aliases}


def test_a_namesake_article_is_not_a_hit_unless_the_intended_person_is_pinned(tagger: Tagger) -> None:
    actor = "Фестиваль памяти Кирилла Лаврова. В программе фильмы с участием Лаврова."
    assert [h for h in tagger.tag("", actor).watchlist_hits if h.term == "Lavrov"] == []
    both = actor + " На открытии выступил министр иностранных дел Сергей Лавров."
    assert "Лавров" in {h.matched for h in tagger.tag("", both).watchlist_hits if h.term == "Lavrov"}


def test_excluded_phrases_do_not_match(tagger: Tagger) -> None:
    assert tagger.tag("", "An Afghan hound won best in show.").watchlist_hits == []
    assert [h.term for h in tagger.tag("", "Afghan refugees crossed the border.").watchlist_hits] == ["Afghanistan"]


def test_shared_word_start_tests_match_as_one_test_per_phrase() -> None:
    """The watchlists' regexes make the start-of-word test once per script: the same matches, and the
    same alias behind each one, as one whole-word test per phrase in the phrases' order."""
    import json
    import re

    from media_monitoring.config import Alias
    from media_monitoring.tagging.matching import literal, whole_word
    from media_monitoring.tagging.watchlists import _alias_pattern, _whole_words
    from media_monitoring.text import is_arabic_script

    root = Path(__file__).resolve().parents[2]
    texts = [json.loads(line)["text"] or "" for line in
             (root / "bench/tagging/labelled.jsonl").read_text("utf-8").splitlines()]
    texts += ["وأفغانستان و«افغانستان» (Afghan) 1Afghan afghan-hound Afghan  hounds «CSTO» ОДКБ-2 Лаврова",
              "x(Kabul) (Kabul)x Kabul's 12 Kabul"]
    phrase_lists = [[a.text for a in t.aliases] + list(t.exclude) + list(t.namesakes)
                    for w in load_watchlists(CONFIG / "watchlists.yaml").watchlists for t in w.terms]
    phrase_lists += [["(Kabul)", "Kabul", "أفغانستان", "12 Kabul", "Afghan"], ["Afghan", "وأفغان", "Afghanistan"]]
    for phrases in phrase_lists:
        aliases = [Alias(text=p, inflect=False) for p in phrases]  # as written: the subject is word starts
        plain = re.compile("|".join(whole_word(f"({literal(a.text)})", arabic=is_arabic_script(a.text))
                                    for a in aliases), re.IGNORECASE)
        pattern, order = _whole_words([(a.text, _alias_pattern(a)) for a in aliases])
        shared = re.compile(pattern, re.IGNORECASE)
        for text in texts:
            expected = [(m.span(), phrases[m.lastindex - 1]) for m in plain.finditer(text)]
            assert [(m.span(), phrases[order[m.lastindex - 1]]) for m in shared.finditer(text)] == expected


def test_case_forms_decline_the_head_of_a_name_only() -> None:
    """Only the head of a name takes its case; the words after it keep the case their grammar fixes."""
    from media_monitoring.tagging.inflection import case_forms

    csto = case_forms("Организация Договора о коллективной безопасности")
    assert csto[0] == "Организация Договора о коллективной безопасности"
    assert set(csto[1:]) == {f"{head} Договора о коллективной безопасности"
                             for head in ("Организации", "Организацию", "Организацией")}
    assert set(case_forms("Сергей Лавров")) >= {"Сергея Лаврова", "Сергею Лаврову", "Сергеем Лавровым",
                                                "Сергее Лаврове"}
    # an inanimate plural keeps its nominative form in the accusative («коллективные силы»)
    assert "Коллективных силы оперативного реагирования" not in case_forms(
        "Коллективные силы оперативного реагирования")
    assert "Исламский государство" not in case_forms("Исламское государство")


@pytest.mark.parametrize("phrase", ["ОДКБ", "Lavrov", "لافروف", "Ауғанстан", "глава МИД"])
def test_abbreviations_foreign_scripts_and_unknown_words_stay_as_written(phrase: str) -> None:
    from media_monitoring.tagging.inflection import case_forms

    forms = case_forms(phrase)
    assert forms[0] == phrase
    assert all(form.endswith("МИД") for form in forms) if phrase == "глава МИД" else forms == (phrase,)


def test_a_namesake_is_recognised_in_every_case(tagger: Tagger) -> None:
    """The watchlist names the actor once, «Кирилл Лавров»; his other cases are namesakes too."""
    assert _terms(tagger, "Спектакль с Кириллом Лавровым вспоминают в Петербурге. Лавровым восхищались.") == set()
    assert _terms(tagger, "Кириллу Лаврову и Сергею Лаврову") == {"Lavrov"}
