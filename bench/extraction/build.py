"""Build the evaluation corpus: written pages, gold texts and the manifest.

    .venv/bin/python bench/extraction/build.py

- Written pages (``articles/*.yaml`` rendered by ``templates.py``) go to ``pages/<id>.html``; their gold
  text comes from the same article blocks (``templates.gold_lines``).
- Replay pages stay in ``seeds/replay``; their gold text is the standfirst plus the paragraphs of the
  article body, selected below by one XPath per outlet template and then reviewed by hand (the gold
  files are committed: rerunning this script must reproduce them byte for byte).
- ``manifest.yaml`` lists every page with its gold title, author, date and language.

Gold conventions (both sets): body = standfirst/lead + paragraphs + subheads + quotes + lists + table
rows + Q&A + live-blog entry titles and text; NOT the title, byline, date line, captions, pull quotes,
related links, newsletter/Telegram prompts, paywall prompts, ads, share bars, tags or comments.
Author = the name of the visible byline (which may be a desk or the outlet itself), else a person named
by the structured data or meta tags; null when the page credits nobody but the outlet in its metadata
(agency copy: TASS, AKIpress, Asia-Plus, RIA).
"""

from __future__ import annotations

import sys
from pathlib import Path

import lxml.html
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from templates import TEMPLATES, gold_lines  # noqa: E402

REPLAY = ROOT / "seeds" / "replay"
REPLAY_BASE = "http://127.0.0.1:8765"

# outlet -> (standfirst xpath or None, body paragraphs xpath, author rule: ("xpath", path, prefix) | ("literal", value))
REPLAY_GOLD = {
    "almayadeen-en": ('//p[contains(@class, "article-standfirst")]', '//div[@class="article-body"]/p',
                      ("xpath", '//li[@class="article-author"]', "By ")),
    "pukhtunnama": (None, '//div[@class="entry-content"]/p', ("xpath", '//span[contains(@class, "author")]/a', "")),
    "tass-en": ('//div[@class="news-header__lead"]', '//div[@class="text-block"]/p', ("literal", None)),
    "ria-ru": (None, '//div[@class="article__text"]', ("literal", None)),
    "tolonews": (None, '//div[contains(@class, "field--name-body")]/p', ("xpath", '//span[@class="node-author"]', "")),
    "akipress": (None, '//div[@class="news-text"]/p', ("literal", None)),
    "kazinform": (None, '//div[@class="article__body"]/p', ("xpath", '//span[@class="article__author"]', "")),
    "asiaplus-tj": (None, '//div[@class="node__body"]/p', ("literal", None)),
}


def _text(el: lxml.html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def replay_entries() -> list[dict]:
    expected = yaml.safe_load((REPLAY / "expected.yaml").read_text(encoding="utf-8"))["pages"]
    outlets = {o["id"]: o for o in yaml.safe_load((REPLAY / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]}
    entries = []
    for page in expected:
        name = "replay-" + page["outlet"] + "-" + page["path"].rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")[:48]
        html = (REPLAY / page["path"].lstrip("/")).read_bytes().replace(b"{{REPLAY_BASE}}", REPLAY_BASE.encode())
        tree = lxml.html.fromstring(html)
        lines: list[str] = []
        author = None
        if not page["quarantine"]:
            lead_xp, body_xp, author_rule = REPLAY_GOLD[page["outlet"]]
            if lead_xp:
                lines += [_text(e) for e in tree.xpath(lead_xp)]
            lines += [t for e in tree.xpath(body_xp) if (t := _text(e))]
            if author_rule[0] == "literal":
                author = author_rule[1]
            else:
                found = tree.xpath(author_rule[1])
                author = _text(found[0]).removeprefix(author_rule[2]).strip() if found else None
        (HERE / "gold" / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append({
            "name": name, "set": "replay", "outlet": page["outlet"], "file": f"seeds/replay{page['path']}",
            "url": REPLAY_BASE + page["path"], "language": outlets[page["outlet"]]["languages"][0],
            "kind": "non-article" if page["quarantine"] else "article",
            "title": page["title"], "author": author, "date": page["published"], "date_precision": "minute",
            "notes": "replay page (seeds/replay); gold body selected by XPath per template and reviewed",
        })
    return entries


def written_entries() -> list[dict]:
    entries = []
    for path in sorted((HERE / "articles").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        outlets = data.get("outlets") or [{**data["outlet"], "articles": data["articles"]}]
        for outlet in outlets:
            articles = outlet["articles"]
            render = TEMPLATES[outlet["template"]]
            for article in articles:
                html = render(outlet, article, articles)
                lxml.html.fromstring(html.encode())  # must parse
                (HERE / "pages" / f"{article['id']}.html").write_text(html, encoding="utf-8")
                (HERE / "gold" / f"{article['id']}.txt").write_text("\n".join(gold_lines(article)) + "\n",
                                                                     encoding="utf-8")
                author = article.get("gold_author", article.get("author"))
                entries.append({
                    "name": article["id"], "set": "written", "outlet": outlet["id"],
                    "file": f"bench/extraction/pages/{article['id']}.html", "url": outlet["base"] + article["path"],
                    "language": outlet["language"], "kind": "article", "title": article["title"], "author": author,
                    "date": article["published"], "date_precision": article.get("date_precision", "minute"),
                    "notes": f"written for evaluation; template {outlet['template']}",
                })
    return entries


def main() -> None:
    (HERE / "pages").mkdir(exist_ok=True)
    (HERE / "gold").mkdir(exist_ok=True)
    entries = replay_entries() + written_entries()
    header = ("# Evaluation corpus of bench/extraction, generated by build.py (do not edit by hand).\n"
              "# set: replay = seeds/replay snapshot pages; written = pages written for evaluation (invented outlets\n"
              "# and text, not captures). Gold body text: gold/<name>.txt. date_precision: minute when the page\n"
              "# shows the time of publication, day when it shows only the day.\n")
    (HERE / "manifest.yaml").write_text(header + yaml.safe_dump({"pages": entries}, allow_unicode=True, sort_keys=False,
                                                                width=200), encoding="utf-8")
    print(f"{len(entries)} pages: {sum(e['set'] == 'replay' for e in entries)} replay, "
          f"{sum(e['set'] == 'written' for e in entries)} written")


if __name__ == "__main__":
    main()
