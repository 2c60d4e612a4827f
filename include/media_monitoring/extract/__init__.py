"""Page to article: trafilatura with settings chosen for news pages, plus our own rules.

Every choice below was measured on the benchmark in bench/extraction (``evaluate.py``; the numbers are
in bench/RESULTS.md, section "Extraction"). Figures quoted here are shingle F1, micro-averaged over
its 48 article pages (22 replay pages, 26 pages written for evaluation); "-rule" is the score of our
whole path with that one rule switched off, against 0.987 as shipped (bare trafilatura: 0.927).

trafilatura settings (``PRIMARY``):
- ``favor_precision``: drops "Read also"/paywall/label lines that balanced mode keeps. With our rules in
  place: precision 0.987, balanced 0.982, favor_recall 0.979;
- ``include_comments=False``: ``bare_extraction`` keeps comments out of the text anyway, so this only
  spares extracting them (``trafilatura.extract`` appends them: its defaults lose 0.008 F1 to them);
- ``include_tables=True``: data tables are article text (0.982 without); link tables are pruned below;
- ``fast=True``: skips trafilatura's readability/jusText comparison on every page. It changed no text
  on the corpus; without it our path costs 1.31x more CPU. The comparison runs as our fallback instead,
  only where the text is implausibly short;
- ``deduplicate=False``: trafilatura's deduplication keeps a process-wide cache and drops any segment
  seen more than twice in the same worker process: a wire story republished by three outlets, or a page
  re-fetched after an update, lost paragraphs depending on the worker's history. Recurring lines of an
  outlet are handled deterministically by boilerplate.py instead.

What we add:
- fallback (-rule: 0.974, macro 0.943 vs 0.984): when the text is implausibly short - fewer than
  :data:`~media_monitoring.rules.MIN_ARTICLE_WORDS` (50) words, or under a quarter of the words the page
  holds in <p> elements when those are 200+ - the page is extracted again with trafilatura's full balanced
  cascade (its readability-lxml fork, jusText, the JSON-LD/paragraph baseline, the recall retry), and
  that text is kept if clearly longer; ``Extracted.extractor`` says which produced the text. Each
  candidate alone on the corpus: that cascade F1 0.935, readability-lxml 0.915, trafilatura's baseline
  0.862, jusText 0.729 - hence the choice, and no new dependency. When trafilatura finds no text at
  all, its metadata is still extracted;
- the standfirst (-rule: 0.965): trafilatura drops the lead/standfirst paragraph, which sits above the
  body container (``<p class="lead|standfirst|dek|excerpt|...">``, or an element repeating the page's
  description); it is put back in front of the text when it is visible text outside navigation,
  links, list items and captions;
- link blocks are pruned before extraction (-rule: 0.970): lists and tables made mostly of links
  ("Most read", "Related News", "More from ...") with their short heading, and "label: <link>"
  paragraphs ("Read also: ...", "Lire aussi | ...", "Читайте также: ..."); trafilatura only drops
  link-rich tables of 200+ characters and keeps such lists and lines inside the article container;
- a first line repeating the title is dropped, the title is its own field (-rule: 0.980);
- layout tables (a cell holding 80+ words in block elements) become plain blocks, so an old table
  layout is not extracted as one giant table row with the menu and the footer (-rule: 0.985);
- ZWNJ (U+200C), which Persian, Pashto, Urdu and Kurdish spelling needs inside words, survives in the
  text: trafilatura deletes it as non-printable ("می‌گوید" became "میگوید"), so it is swapped for a
  printable stand-in before parsing and restored after (the metric ignores it; readers and search don't);
- the title: a "Site :: Headline" title is cut to the run of its parts that the page shows as its headline
  or the feed names (title accuracy 0.98, 0.96 without), else a first or last part that is the site's
  name is cut off ("Headline | Site", "Site - Headline", "Headline — Site"), the site's name being
  og:site_name or the name in the address (pamirherald.example: "Pamir Herald"); separators inside a
  headline stay ("Lavrov: CSTO ready ..."). A title that is only the site's name gives way to the feed's
  title, else the page's own headline (<h1> or a headline-like element), else its <title> without the
  site's name. The feed's spelling wins when the two differ only in format characters;
- the publication date comes from the page (htmldate through trafilatura); when htmldate finds only the
  day, the page's own structured timestamp (JSON-LD ``datePublished``, ``article:published_time`` and
  similar meta) gives the time if it falls on that day (minute accuracy 0.92, 0.52 without), else the
  feed's time if it does; a date known only to the day is stored at 12:00 UTC, so it falls on the right
  calendar day from UTC-11 to UTC+11. The page's reading is weighed against the feed's date and the time
  the entry was first seen: more than a week from the feed's date, or after the entry was first seen, it
  is some other date on the page (htmldate's ``original_date`` prefers the oldest it finds: a related
  article's, an archive link's, a copyright year) and the page's structured timestamp is taken if
  plausible, else the feed's date; ``date_set_aside`` says which date was set aside and why. An old
  article listed with its old date keeps it. The source of the date is recorded ("page", "feed" or "none");
- the text is checked against the feed: when it holds under 30% of the distinct words (4+ letters) of the
  feed's summary and the headline, trafilatura's defaults are run on the page as fetched (none of our
  rules, no comments) and their text is taken if it holds 60% or more (``extractor``
  "trafilatura-defaults"). On old table layouts our rules can keep the wrong block, an ad, an "Article
  Tools" box or a comment policy, where trafilatura's defaults find the article; a text of ours that holds
  the article is never given up for a longer one (on the cases in ``bench/extraction/cases``, the three
  such pages score F1 0.00 without the check, 0.63-0.72 with it, as trafilatura's defaults do; the page
  our rules win keeps 1.00). A headline alone (fewer than 8 such words) is too little to judge by;
- the author: people named in the page's JSON-LD win over trafilatura's guess (which merges the meta
  author, often the publisher, with the byline); labels such as "By", "Von", "Автор:" are stripped
  (author accuracy 0.94, 0.81 without);
- the language comes from the page's own declaration, else from detection on the text;
- the page's ``<link rel=canonical>`` is honoured when it stays on the outlet's site.

Where each part lives: :mod:`.article` (the trafilatura calls, the fallback, the text and fields put
together), :mod:`.page` (what we read and prune in the page's tree before trafilatura, and the ZWNJ
stand-in) and :mod:`.metadata` (title, author, publication date, language, canonical address).
"""

from __future__ import annotations

from media_monitoring.extract.article import DATE_PARAMS, FALLBACK, PRIMARY, Extracted, extract_article

__all__ = ["DATE_PARAMS", "FALLBACK", "PRIMARY", "Extracted", "extract_article"]
