# ruff: noqa: E501  (HTML templates: a page's markup reads better unwrapped)
"""Page templates of the invented outlets in ``articles/*.yaml`` (written for evaluation, not captures).

Each template renders one article into a full page the way a real site of that kind does: navigation,
consent banners, tickers, sidebars, in-body chrome (newsletter boxes, "read also" links, ads), reader
comments, footers, scripts and structured data. Where a piece of in-body chrome goes is given by a
bare keyword in the article's ``blocks`` (``newsletter``, ``related``, ``ad`` ...); every other block is
article text except ``figure`` captions and ``pull`` quotes, which repeat or illustrate the text.

The gold text of a page is built from the same blocks by ``gold_lines`` so page and gold never drift.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from html import escape
from typing import Any

Article = dict[str, Any]
Outlet = dict[str, Any]

WRITTEN_NOTE = ("<!-- Written for evaluation (bench/extraction): invented outlet and text, "
                "not a capture of a real page. -->")


def gold_lines(article: Article) -> list[str]:
    """The article text a reader sees: standfirst, paragraphs, subheads, quotes, lists, tables, Q&A."""
    lines: list[str] = []
    if article.get("standfirst"):
        lines.append(article["standfirst"])
    labels = article.get("qa_labels", ["Q", "A"])
    for block in article["blocks"]:
        if isinstance(block, str):
            if " " in block:  # a bare keyword is in-body chrome, a sentence is a paragraph
                lines.append(block)
            continue
        (kind, value), = block.items()
        if kind in ("h2", "quote"):
            lines.append(value)
        elif kind == "list":
            lines.extend(value)
        elif kind == "table":
            lines.extend(" ".join(row) for row in value)
        elif kind == "qa":
            lines.extend([f"{labels[0]}: {value[0]}", f"{labels[1]}: {value[1]}"])
        elif kind == "entry":
            lines.append(value["title"])
            lines.extend(value["text"])
        # figure captions and pull quotes are not article text
    return lines


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def _url(outlet: Outlet, article: Article) -> str:
    return outlet["base"] + article["path"]


def _links(outlet: Outlet, items: list[str], prefix: str = "/news/", cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "\n".join(f'<li{attr}><a href="{outlet["base"]}{prefix}{i + 101}">{_e(t)}</a></li>'
                     for i, t in enumerate(items))


def _menu(outlet: Outlet, names: list[str]) -> str:
    return "\n".join(f'<li class="menu-item"><a href="{outlet["base"]}/{n.lower().replace(" ", "-")}/">{_e(n)}</a></li>'
                     for n in names)


def _jsonld(outlet: Outlet, article: Article, kind: str = "NewsArticle", author_type: str = "Person",
            body: bool = False, org_author_when_none: bool = False) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": kind,
        "mainEntityOfPage": {"@type": "WebPage", "@id": _url(outlet, article)},
        "headline": article["title"], "datePublished": article["published"],
        "dateModified": article.get("modified", article["published"]),
        "publisher": {"@type": "Organization", "name": outlet["name"],
                      "logo": {"@type": "ImageObject", "url": outlet["base"] + "/static/logo.png"}},
        "inLanguage": outlet["language"],
    }
    if article.get("author"):
        data["author"] = [{"@type": author_type, "name": article["author"]}]
    elif org_author_when_none:
        data["author"] = {"@type": "Organization", "name": outlet["name"]}
    if article.get("standfirst"):
        data["description"] = article["standfirst"]
    if body:
        data["articleBody"] = "\n\n".join(gold_lines(article)[1 if article.get("standfirst") else 0:])
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False, indent=1)}</script>'


def _og(outlet: Outlet, article: Article, title_suffix: str = "", published_meta: bool = True,
        description: str | None = None, locale: str | None = None) -> str:
    desc = description if description is not None else (article.get("standfirst") or gold_lines(article)[0][:160])
    tags = [
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{_e(outlet["name"])}">',
        f'<meta property="og:title" content="{_e(article["title"] + title_suffix)}">',
        f'<meta property="og:url" content="{_url(outlet, article)}">',
        f'<meta property="og:description" content="{_e(desc)}">',
        f'<meta name="description" content="{_e(desc)}">',
        f'<meta property="og:image" content="{outlet["base"]}/media/{article["id"]}.jpg">',
        f'<link rel="canonical" href="{_url(outlet, article)}">',
        '<meta name="twitter:card" content="summary_large_image">',
    ]
    if locale:
        tags.append(f'<meta property="og:locale" content="{locale}">')
    if published_meta:
        tags.append(f'<meta property="article:published_time" content="{article["published"]}">')
        tags.append(f'<meta property="article:modified_time" content="{article.get("modified", article["published"])}">')
        tags.append(f'<meta property="article:section" content="{_e(article.get("section"))}">')
    return "\n".join(tags)


def _tracking() -> str:
    return ('<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}'
            'gtag("js",new Date());gtag("config","G-EXAMPLE01");</script>\n'
            '<script async src="https://www.googletagmanager.example/gtag/js?id=G-EXAMPLE01"></script>')


def _render_blocks(article: Article, chrome: dict[str, Callable[[], str]], p: Callable[[str], str],
                   figure: Callable[[str], str], extra: dict[str, Callable[[Any], str]] | None = None) -> str:
    out: list[str] = []
    labels = article.get("qa_labels", ["Q", "A"])
    for block in article["blocks"]:
        if isinstance(block, str):
            out.append(p(block) if " " in block else chrome[block]())
            continue
        (kind, value), = block.items()
        if extra and kind in extra:
            out.append(extra[kind](value))
        elif kind == "figure":
            out.append(figure(value))
        elif kind == "h2":
            out.append(f"<h2>{_e(value)}</h2>")
        elif kind == "quote":
            out.append(f"<blockquote><p>{_e(value)}</p></blockquote>")
        elif kind == "pull":
            out.append(f'<aside class="pull-quote" aria-hidden="true"><blockquote>{_e(value)}</blockquote></aside>')
        elif kind == "list":
            out.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in value) + "</ul>")
        elif kind == "table":
            head, *rows = value
            out.append("<table class=\"data-table\"><thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in head)
                       + "</tr></thead><tbody>" + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>"
                                                          for r in rows) + "</tbody></table>")
        elif kind == "qa":
            out.append(f"<p><strong>{_e(labels[0])}: {_e(value[0])}</strong></p>")
            out.append(f"<p><strong>{_e(labels[1])}:</strong> {_e(value[1])}</p>")
        else:
            raise ValueError(f"unknown block {kind}")
    return "\n".join(out)


def _others(article: Article, siblings: list[Article]) -> list[Article]:
    return [s for s in siblings if s["id"] != article["id"]] or [article]


# --- WordPress (en) ---------------------------------------------------------------------------------

def wordpress(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    sidebar_news = ["Police seek witnesses after bike shop break-in", "High school robotics team heads to nationals",
                    "Ferry fares to rise 5% in April", "Letters: The bridge tolls are unfair",
                    "Weekend guide: five things to do in Port Aldren", "Obituary: Margaret Ellison, 1931-2024"]
    related = "\n".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title"><a href="{_url(o, s)}">{_e(s["title"])}</a></h4>'
        f'<p class="jp-relatedposts-post-date">{_e(s["date_display"].split(" at ")[0])}</p>'
        f'<p class="jp-relatedposts-post-context">In "{_e(s["section"])}"</p></div>' for s in others)
    chrome = {
        "related": lambda: f'<p><strong>Related:</strong> <a href="{_url(o, others[0])}">{_e(others[0]["title"])}</a></p>',
        "newsletter": lambda: ('<div class="mc4wp-form newsletter-box"><h4>Subscribe to our newsletter</h4>'
                               "<p>Get the day’s top stories from Port Aldren in your inbox every morning.</p>"
                               '<form method="post"><input type="email" name="EMAIL" placeholder="Your email address">'
                               '<input type="submit" value="Sign up"></form></div>'),
        "tipline": lambda: ("<p><em>Have a news tip? Email newsroom@northwindherald.example or message us on "
                            "Signal at 555-0142.</em></p>"),
    }
    body = _render_blocks(
        a, chrome, lambda t: f"<p>{_e(t)}</p>",
        lambda c: (f'<figure class="wp-block-image size-large"><img src="{o["base"]}/wp-content/uploads/{a["id"]}.jpg" '
                   f'alt="" loading="lazy"><figcaption class="wp-element-caption">{_e(c)}</figcaption></figure>'))
    comments = "\n".join(
        f'<li id="comment-{i + 4410}" class="comment even thread-even depth-1"><article class="comment-body">'
        f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{_e(n)}</b> <span class="says">says:</span></div>'
        f'<div class="comment-metadata"><a href="#comment-{i + 4410}"><time>{_e(d)}</time></a></div></footer>'
        f'<div class="comment-content"><p>{_e(t)}</p></div><div class="reply"><a class="comment-reply-link" href="#">Reply</a></div>'
        f"</article></li>" for i, (n, d, t) in enumerate(a.get("comments", [])))
    n_comments = len(a.get("comments", []))
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(a["title"])} &#8211; {_e(o["name"])}</title>
<meta name="robots" content="index, follow, max-image-preview:large">
<meta name="author" content="{_e(a.get("author"))}">
{_og(o, a, locale="en_US")}
<script type="application/ld+json" class="yoast-schema-graph">{json.dumps({"@context": "https://schema.org", "@graph": [
    {"@type": "Article", "@id": _url(o, a) + "#article", "headline": a["title"], "datePublished": a["published"],
     "dateModified": a["published"], "author": {"name": a.get("author"), "@id": o["base"] + "/#/schema/person/1"},
     "publisher": {"@id": o["base"] + "/#organization"}, "articleSection": [a["section"]], "inLanguage": "en-US"},
    {"@type": "Organization", "@id": o["base"] + "/#organization", "name": o["name"], "url": o["base"]}]}, ensure_ascii=False)}</script>
<link rel="stylesheet" id="wp-block-library-css" href="{o["base"]}/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3" media="all">
<link rel="alternate" type="application/rss+xml" title="{_e(o["name"])} &raquo; Feed" href="{o["base"]}/feed/">
{_tracking()}
</head>
<body class="post-template-default single single-post postid-{zlib.crc32(a["id"].encode()) % 90000} single-format-standard">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>
<header id="masthead" class="site-header">
  <div class="top-bar"><span class="top-bar-date">{_e(a["date_display"].split(" at ")[0])}</span>
    <ul class="social-links"><li><a href="https://facebook.example/northwind">Facebook</a></li><li><a href="https://x.example/northwind">X</a></li><li><a href="{o["base"]}/feed/">RSS</a></li></ul>
    <a class="subscribe-button" href="{o["base"]}/subscribe/">Subscribe</a></div>
  <div class="site-branding"><p class="site-title"><a href="{o["base"]}/" rel="home">{_e(o["name"])}</a></p>
    <p class="site-description">Independent local news for Port Aldren since 1887</p></div>
  <nav id="site-navigation" class="main-navigation"><button class="menu-toggle" aria-controls="primary-menu">Menu</button>
    <ul id="primary-menu" class="menu">{_menu(o, ["News", "City", "Business", "Community", "Schools", "Sports", "Opinion", "Obituaries", "Events", "Classifieds"])}</ul></nav>
</header>
<div id="content" class="site-content">
<main id="primary" class="site-main">
<article id="post-{zlib.crc32(a["id"].encode()) % 90000}" class="post type-post status-publish format-standard has-post-thumbnail hentry category-{a["section"].lower()}">
  <header class="entry-header">
    <span class="cat-links"><a href="{o["base"]}/category/{a["section"].lower()}/" rel="category tag">{_e(a["section"])}</a></span>
    <h1 class="entry-title">{_e(a["title"])}</h1>
    <div class="entry-meta"><span class="byline">by <span class="author vcard"><a class="url fn n" href="{o["base"]}/author/{(a.get("author") or "staff").lower().replace(" ", "-")}/">{_e(a.get("author"))}</a></span></span>
      <span class="posted-on"><time class="entry-date published" datetime="{a["published"]}">{_e(a["date_display"])}</time></span>
      <span class="comments-link"><a href="#comments">{n_comments} Comments</a></span></div>
  </header>
  <div class="entry-content">
{body}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social sd-social-icon-text sd-sharing"><h3 class="sd-title">Share this:</h3>
<div class="sd-content"><ul><li class="share-facebook"><a class="share-facebook sd-button" href="?share=facebook" rel="nofollow noopener noreferrer"><span>Facebook</span></a></li>
<li class="share-x"><a class="share-x sd-button" href="?share=x" rel="nofollow noopener noreferrer"><span>X</span></a></li>
<li class="share-email"><a class="share-email sd-button" href="mailto:?subject=shared" rel="nofollow"><span>Email</span></a></li>
<li class="share-print"><a class="share-print sd-button" href="#print"><span>Print</span></a></li></ul></div></div></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3>{related}</div>
  </div>
  <footer class="entry-footer"><span class="tags-links">Tagged <a href="{o["base"]}/tag/port-aldren/" rel="tag">Port Aldren</a>, <a href="{o["base"]}/tag/city-council/" rel="tag">city council</a></span></footer>
  <div class="author-box"><img src="{o["base"]}/wp-content/uploads/authors/{a["id"]}.jpg" alt="" width="80" height="80">
    <div class="author-box-text"><h4 class="author-name">{_e(a.get("author"))}</h4>
    <p>{_e(a.get("author"))} covers city hall, transport and housing for {_e(o["name"])}. Before joining the paper, they reported for public radio in the region.</p>
    <a href="{o["base"]}/author/">View all posts</a></div></div>
</article>
<nav class="navigation post-navigation" aria-label="Posts"><h2 class="screen-reader-text">Post navigation</h2>
<div class="nav-links"><div class="nav-previous"><a href="{_url(o, others[0])}" rel="prev"><span class="meta-nav">Previous</span> {_e(others[0]["title"])}</a></div></div></nav>
<div id="comments" class="comments-area">
  <h2 class="comments-title">{n_comments} thoughts on &ldquo;{_e(a["title"])}&rdquo;</h2>
  <ol class="comment-list">{comments}</ol>
  <div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
  <form action="{o["base"]}/wp-comments-post.php" method="post" id="commentform" class="comment-form"><p class="comment-notes">Your email address will not be published. Required fields are marked *</p>
  <p class="comment-form-comment"><label for="comment">Comment *</label><textarea id="comment" name="comment"></textarea></p>
  <p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p></form></div>
</div>
</main>
<aside id="secondary" class="widget-area">
  <section class="widget widget_search"><form role="search" class="search-form"><label><span class="screen-reader-text">Search for:</span><input type="search" class="search-field" placeholder="Search &hellip;"></label></form></section>
  <section class="widget widget_recent_entries"><h2 class="widget-title">Latest News</h2><ul>{_links(o, sidebar_news)}</ul></section>
  <section class="widget widget_text"><h2 class="widget-title">Support local journalism</h2><div class="textwidget"><p>The Northwind Herald is funded by readers like you. Become a member from $5 a month and get ad-free access to every story.</p><p><a href="{o["base"]}/support/">Become a member</a></p></div></section>
</aside>
</div>
<footer id="colophon" class="site-footer"><div class="footer-widgets"><ul>{_menu(o, ["About us", "Contact", "Advertise", "Corrections", "Ethics policy", "Privacy policy", "Careers"])}</ul></div>
<div class="site-info">&copy; 2024 {_e(o["name"])}. All rights reserved. <span class="sep"> | </span><a href="https://wordpress.example/">Proudly powered by WordPress</a></div></footer>
</div>
<div id="cookie-notice" role="dialog" class="cookie-notice-hidden cookie-revoke-hidden cn-position-bottom" aria-label="Cookie Notice"><div class="cookie-notice-container"><span id="cn-notice-text" class="cn-text-container">We use cookies to ensure that we give you the best experience on our website. If you continue to use this site we will assume that you are happy with it.</span><span id="cn-notice-buttons" class="cn-buttons-container"><a href="#" id="cn-accept-cookie" class="cn-set-cookie cn-button">Ok</a><a href="{o["base"]}/privacy-policy/" class="cn-privacy-policy-link cn-button">Privacy policy</a></span></div></div>
<script src="{o["base"]}/wp-includes/js/comment-reply.min.js?ver=6.4.3" id="comment-reply-js" async></script>
</body>
</html>
"""


# --- Bitrix-style Russian regional site -------------------------------------------------------------

def bitrix(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    partners = ["Названы самые популярные направления для отдыха осенью", "Врачи рассказали, как защититься от гриппа",
                "Эксперты объяснили рост цен на бензин", "Как оформить налоговый вычет в 2024 году: инструкция"]
    latest = [("14:05", "В Астане открыли новую школу на 1200 мест"), ("13:40", "Курс тенге укрепился к доллару"),
              ("13:12", "В горах Алматы выпал первый снег"), ("12:58", "Футбольный «Кайрат» сменил главного тренера"),
              ("12:31", "На трассе Алматы — Бишкек ограничат движение"), ("11:47", "Цены на гречку выросли на 8%")]
    chrome = {
        "readalso": lambda: f'<p><b>Читайте также:</b> <a href="{_url(o, others[0])}">{_e(others[0]["title"])}</a></p>',
        "telegram": lambda: ('<p>Подписывайтесь на наш <a href="https://t.me/steppereport">Telegram-канал</a>, '
                             "чтобы первыми узнавать главные новости.</p>"),
        "reprint": lambda: ('<p class="reprint">При использовании материалов ссылка на Steppe Report обязательна.</p>'),
    }
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<div class="news-detail-photo"><img src="{o["base"]}/upload/iblock/{a["id"]}.jpg" alt=""><div class="photo-sign">{_e(c)}</div></div>')
    comments = "".join(f'<div class="comment-item"><div class="comment-author">{_e(n)}</div><div class="comment-date">{_e(d)}</div><div class="comment-text">{_e(t)}</div></div>'
                       for n, d, t in a.get("comments", []))
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="ru">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{_e(a["title"])} - Steppe Report</title>
<meta name="keywords" content="новости, Казахстан, Кыргызстан, {_e(a["section"])}">
<meta name="description" content="{_e(a["standfirst"])}">
<meta property="og:title" content="{_e(a["title"])}">
<meta property="og:description" content="{_e(a["standfirst"])}">
<meta property="og:image" content="{o["base"]}/upload/iblock/{a["id"]}.jpg">
<link href="/bitrix/cache/css/s1/steppe/template_styles.css?17300001" type="text/css" rel="stylesheet">
<script type="text/javascript">if(!window.BX)window.BX={{}};if(!window.BX.message)window.BX.message=function(mess){{}};BX.message({{'LANGUAGE_ID':'ru','SITE_ID':'s1'}});</script>
<script src="/bitrix/js/main/core/core.min.js?1730000123"></script>
<script>(function(m,e,t,r,i,k,a){{m[i]=m[i]||function(){{(m[i].a=m[i].a||[]).push(arguments)}};}})(window,document,"script","https://mc.yandex.example/metrika/tag.js","ym");ym(12345678,"init",{{clickmap:true}});</script>
</head>
<body>
<div class="wrapper">
<div class="header"><div class="header-top"><a class="logo" href="{o["base"]}/"><img src="{o["base"]}/local/templates/steppe/img/logo.svg" alt="Steppe Report"></a>
<div class="header-currency">USD 481.20 &nbsp; EUR 521.75 &nbsp; RUB 4.98</div><div class="header-weather">Алматы +12°</div>
<div class="header-search"><form action="/search/"><input type="text" name="q" placeholder="Поиск по сайту"></form></div></div>
<ul class="top-menu">{_menu(o, ["Новости", "Политика", "Экономика", "Общество", "Культура", "Спорт", "Происшествия", "Мнения", "Видео", "Спецпроекты"])}</ul></div>
<div class="breadcrumbs"><a href="{o["base"]}/">Главная</a> / <a href="{o["base"]}/news/">Новости</a> / <span>{_e(a["section"])}</span></div>
<div class="content-wrap"><div class="content-left">
<div class="news-detail">
<h1>{_e(a["title"])}</h1>
<div class="news-info"><span class="news-date">{_e(a["date_display"])}</span> <span class="news-views">Просмотров: 1 284</span> <span class="news-section">{_e(a["section"])}</span></div>
<div class="news-author">Автор: <a href="{o["base"]}/authors/{a["id"]}/">{_e(a["author"])}</a></div>
<div class="news-anons"><b>{_e(a["standfirst"])}</b></div>
<div class="news-text">
{body}
</div>
<div class="news-tags">Теги: <a href="/tags/transport/">транспорт</a> <a href="/tags/region/">регионы</a></div>
<div class="news-share">Поделиться: <a href="https://vk.example/share">ВКонтакте</a> <a href="https://t.me/share">Telegram</a> <a href="https://wa.example/send">WhatsApp</a></div>
<div class="news-error">Нашли ошибку? Выделите текст и нажмите Ctrl+Enter</div>
</div>
<div class="partners-block"><div class="block-title">Новости партнеров</div><ul>{_links(o, partners, "/partners/")}</ul></div>
<div class="comments-block"><div class="block-title">Комментарии ({len(a.get("comments", []))})</div>{comments}
<form class="comment-form"><textarea placeholder="Ваш комментарий"></textarea><button>Отправить</button></form><p class="comment-rules">Редакция оставляет за собой право удалять комментарии, нарушающие правила сайта.</p></div>
</div>
<div class="content-right"><div class="block-title">Последние новости</div><ul class="last-news">
{"".join(f'<li><span class="time">{t}</span> <a href="{o["base"]}/news/{i}">{_e(h)}</a></li>' for i, (t, h) in enumerate(latest))}
</ul><div class="banner-240"><a href="{o["base"]}/adv/"><img src="{o["base"]}/upload/rk/banner.gif" alt="Реклама"></a></div></div></div>
<div class="footer"><div class="footer-menu"><a href="/about/">О проекте</a> <a href="/adv/">Реклама</a> <a href="/contacts/">Контакты</a> <a href="/rules/">Правила</a></div>
<div class="footer-copy">&copy; 2012–2024 Steppe Report. Все права защищены. 18+</div>
<div class="footer-copy">Свидетельство о постановке на учет СМИ № 12345-ИА.</div></div>
</div>
</body>
</html>
"""


# --- Arabic RTL site ----------------------------------------------------------------------------------

def arabic(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    most_read = ["ارتفاع أسعار الذهب في السوق المحلية", "الأرصاد: أجواء حارة حتى نهاية الأسبوع",
                 "الحكومة تعلن عن حزمة حوافز للمستثمرين", "مواعيد امتحانات الثانوية العامة", "افتتاح طريق جديد يربط عمّان بالزرقاء"]
    chrome = {
        "readalso": lambda: ('<div class="read-also"><span class="read-also__title">اقرأ أيضاً</span><ul>'
                             + "".join(f'<li><a href="{_url(o, s)}">{_e(s["title"])}</a></li>' for s in others[:2]) + "</ul></div>"),
        "telegram": lambda: '<p>تابعوا آخر الأخبار عبر <a href="https://t.me/alwadinews">قناتنا على تلغرام</a></p>',
    }
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<figure class="article-image"><img src="{o["base"]}/images/{a["id"]}.jpg" alt="{_e(a["title"])}"><figcaption>{_e(c)}</figcaption></figure>')
    lead = f'<p class="article-lead">{_e(a["standfirst"])}</p>' if a.get("standfirst") else ""
    byline = f'<span class="author">بقلم: <a href="{o["base"]}/writers/{a["id"]}">{_e(a["author"])}</a></span>' if a.get("author") else ""
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} | {_e(o["name"])}</title>
{_og(o, a, locale="ar_AR")}
{_jsonld(o, a, org_author_when_none=True)}
{_tracking()}
</head>
<body class="rtl article-page">
<header class="site-header"><div class="top-strip"><span class="date-today">{_e(a["date_display"].split(" - ")[0])}</span>
<a href="{o["base"]}/en">English</a> <a href="{o["base"]}/login">تسجيل الدخول</a></div>
<div class="logo"><a href="{o["base"]}/"><img src="{o["base"]}/static/logo.png" alt="{_e(o["name"])}"></a></div>
<nav class="main-nav"><ul>{_menu(o, ["الرئيسية", "محليات", "عربي ودولي", "اقتصاد", "ثقافة", "رياضة", "منوعات", "فيديو", "مقالات"])}</ul></nav>
<div class="breaking"><span>عاجل</span><ul><li>مجلس النواب يقر مشروع قانون الموازنة</li><li>وزير الخارجية يصل إلى القاهرة في زيارة رسمية</li></ul></div>
</header>
<main class="container"><div class="row"><div class="col-main">
<article class="article">
<div class="article-section"><a href="{o["base"]}/{a["section"]}">{_e(a["section"])}</a></div>
<h1 class="article-title">{_e(a["title"])}</h1>
<div class="article-meta">{byline}<time datetime="{a["published"]}">{_e(a["date_display"])}</time></div>
{lead}
<div class="share-bar"><a class="fb" href="#">فيسبوك</a><a class="tw" href="#">إكس</a><a class="wa" href="#">واتساب</a><a class="copy" href="#">نسخ الرابط</a></div>
<div class="article-body">
{body}
</div>
<div class="article-tags"><span>الكلمات المفتاحية:</span> <a href="#">{_e(a["section"])}</a> <a href="#">الأردن</a></div>
</article>
<section class="related"><h3>أخبار ذات صلة</h3><ul>{"".join(f'<li><a href="{_url(o, s)}">{_e(s["title"])}</a></li>' for s in others)}</ul></section>
</div>
<aside class="col-side"><h3>الأكثر قراءة</h3><ol>{_links(o, most_read)}</ol>
<div class="ad-box">إعلان</div></aside></div></main>
<footer class="site-footer"><ul>{_menu(o, ["من نحن", "اتصل بنا", "سياسة الخصوصية", "شروط الاستخدام", "أعلن معنا"])}</ul>
<p>جميع الحقوق محفوظة © 2024 {_e(o["name"])}</p></footer>
</body>
</html>
"""


# --- headless-CMS publisher (en) ------------------------------------------------------------------

def headless(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    chrome = {
        "ad": lambda: ('<div class="ad-wrapper" data-testid="inline-ad"><span class="ad-label">Advertisement</span>'
                       '<div id="div-gpt-ad-inline" style="min-height:250px"></div></div>'),
        "readmore": lambda: (f'<p class="related-link" data-testid="read-more"><strong>Read more:</strong> '
                             f'<a href="{o["base"]}/world/asia/2024/04/11/uzbekistan-cotton-water/">Uzbekistan bets on drip '
                             f"irrigation to save its cotton</a></p>"),
        "newsletter": lambda: ('<div class="newsletter-inline" data-testid="newsletter-signup"><h3>The Asia Brief</h3>'
                               "<p>Our correspondents on the region’s biggest stories, every Monday.</p>"
                               '<form><input type="email" placeholder="Enter your email"><button type="submit">Sign up</button></form>'
                               '<p class="fine-print">By signing up you agree to our Terms of Use and Privacy Policy.</p></div>'),
    }
    body = _render_blocks(
        a, chrome, lambda t: f'<p class="article-body__paragraph" data-testid="paragraph">{_e(t)}</p>',
        lambda c: (f'<figure class="media-figure" data-testid="inline-image"><picture><img src="{o["base"]}/img/{a["id"]}.webp" '
                   f'alt="{_e(c)}" loading="lazy"></picture><figcaption><span class="caption">{_e(c.split(" (")[0])}</span> '
                   f'<span class="credit">({_e(c.split(" (")[-1])}</span></figcaption></figure>'),
        extra={"h2": lambda v: f'<h2 class="article-body__subhead">{_e(v)}</h2>'})
    paywall = ""
    if a.get("paywalled"):
        paywall = ('<div class="paywall-prompt" data-testid="paywall"><h3>Continue reading with a subscription</h3>'
                   "<p>Subscribe for unlimited access to The Meridian Post, including the archive and the app. Cancel anytime.</p>"
                   f'<a class="btn" href="{o["base"]}/subscribe">Subscribe now</a><p>Already a subscriber? <a href="{o["base"]}/login">Log in</a></p></div>')
    state = json.dumps({"page": {"type": "article", "id": a["id"], "section": a["section"], "paywall": bool(a.get("paywalled"))},
                        "user": {"loggedIn": False}, "ads": {"slots": ["top", "inline", "right"]}})
    updated = (f'<span class="updated">Updated {_e("May 3, 2024")}</span>' if a.get("modified") else "")
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(a["title"])} | The Meridian Post</title>
{_og(o, a, title_suffix="", locale="en_GB")}
{_jsonld(o, a)}
<link rel="preload" as="font" href="{o["base"]}/fonts/meridian-serif.woff2" crossorigin>
{_tracking()}
</head>
<body>
<div id="__app">
<div class="css-1x2y3z" data-testid="top-banner"><a href="{o["base"]}/subscribe">Get 3 months for $1 &ndash; Limited-time offer</a></div>
<header class="css-h3d4r" data-testid="masthead"><a class="css-logo" href="{o["base"]}/" aria-label="The Meridian Post home"><svg aria-hidden="true"></svg></a>
<nav class="css-nav" aria-label="Sections"><ul>{_menu(o, ["World", "Politics", "Business", "Climate", "Technology", "Science", "Culture", "Opinion", "Podcasts"])}</ul></nav>
<div class="css-account"><a href="{o["base"]}/login">Log in</a><a class="css-btn" href="{o["base"]}/subscribe">Subscribe</a></div></header>
<div class="css-ad-top" data-testid="ad-top"><span>Advertisement</span><div id="div-gpt-ad-top"></div></div>
<main id="main-content">
<div class="css-article-wrap" data-testid="article">
<div class="css-kicker"><a href="{o["base"]}/{a["section"].lower()}/">{_e(a["section"])}</a></div>
<h1 class="css-headline" data-testid="headline">{_e(a["title"])}</h1>
<div class="css-dek" data-testid="dek"><p>{_e(a["standfirst"])}</p></div>
<div class="css-byline" data-testid="byline"><span>By <a href="{o["base"]}/by/{a["author"].lower().replace(" ", "-")}">{_e(a["author"])}</a></span>
<time datetime="{a["published"]}">{_e(a["date_display"])}</time>{updated}<span class="css-readtime">{max(2, len(" ".join(gold_lines(a)).split()) // 230)} min read</span></div>
<div class="css-share" data-testid="share-tools"><button>Share</button><button>Save</button><button>Gift this article</button><a href="#comments">Comments</a></div>
<div class="css-body" data-testid="article-body">
{body}
{paywall}
</div>
<div class="css-author-bio" data-testid="author-bio"><p><strong>{_e(a["author"])}</strong> is a correspondent for The Meridian Post based in Almaty, covering Central Asia. She previously reported from Istanbul and Tbilisi.</p></div>
<div class="css-comments-cta" id="comments"><button>View comments (48)</button></div>
</div>
<section class="css-more" data-testid="more-from-section"><h2>More from {_e(a["section"])}</h2><ul>
{"".join(f'<li><a href="{_url(o, s)}"><h3>{_e(s["title"])}</h3><p>{_e(s["standfirst"])}</p></a></li>' for s in others)}
<li><a href="{o["base"]}/world/2024/04/28/caspian-seals"><h3>Why are Caspian seals dying?</h3><p>Scientists point to pollution, fishing nets and a shrinking sea.</p></a></li>
<li><a href="{o["base"]}/world/2024/04/25/tashkent-housing"><h3>Tashkent’s building boom leaves old neighborhoods behind</h3><p>Thousands of families have been moved to make way for towers.</p></a></li>
</ul></section>
</main>
<footer class="css-footer"><ul>{_menu(o, ["About", "Contact", "Careers", "Terms of Use", "Privacy Policy", "Cookie Settings", "Accessibility", "Help"])}</ul>
<p>&copy; 2024 The Meridian Post Company. All rights reserved.</p></footer>
</div>
<div id="onetrust-banner-sdk" class="otFlat" role="region" aria-label="Cookie banner"><div class="ot-sdk-container"><div id="onetrust-policy"><p id="onetrust-policy-text">We and our partners use cookies and similar technologies to personalise content and ads, to provide social media features and to analyse our traffic. You can accept all cookies or manage your preferences.</p></div>
<div id="onetrust-button-group"><button id="onetrust-accept-btn-handler">Accept all cookies</button><button id="onetrust-pc-btn-handler">Manage preferences</button></div></div></div>
<script id="__STATE__" type="application/json">{state}</script>
<script src="{o["base"]}/static/js/main.3f9c1a.js" defer></script>
</body>
</html>
"""


# --- news agency with a brief in heavy chrome -------------------------------------------------------

def agency(o: Outlet, a: Article, siblings: list[Article]) -> str:
    latest = [
        ("11:32", "Kazakhstan’s central bank leaves base rate at 14.25%", "The regulator cited persistent inflation risks and a weaker tenge."),
        ("11:05", "Uzbekistan to list 10% of national airline on Tashkent exchange", "The offering is planned for the second quarter of next year."),
        ("10:48", "Tajik president meets Chinese delegation on Rogun financing", "Talks focused on loans for the hydropower plant’s next phase."),
        ("10:20", "Turkmenistan opens gas-to-gasoline plant expansion", "The plant will raise output to 1.2 million tonnes a year."),
        ("09:57", "Kyrgyz som steady ahead of Eurobond placement", "The finance ministry plans to raise $300 million."),
        ("09:31", "Almaty airport reports 14% rise in passengers", "International routes accounted for most of the growth."),
        ("09:02", "Heavy snow closes Bishkek–Osh highway pass", "Traffic was halted on the Too-Ashuu pass overnight."),
        ("08:44", "Azerbaijan, Kazakhstan sign Caspian cargo deal", "The agreement covers container shipping between Aktau and Baku."),
    ]
    most_read = ["Central Asia’s gold producers brace for new taxes", "Tashkent metro fares to rise from January",
                 "Kazakhstan wheat exports hit five-year high", "Five things to watch in regional markets this week"]
    body = _render_blocks(a, {}, lambda t: f"<p>{_e(t)}</p>", lambda c: "")
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="en">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} - Capital Wire</title>
{_og(o, a)}
{_tracking()}
</head>
<body>
<div class="ticker"><b>BREAKING</b> <a href="{o["base"]}/en/news/breaking/1">Kazakhstan’s central bank leaves base rate at 14.25% &ndash; statement</a></div>
<header><a class="logo" href="{o["base"]}/en/">Capital Wire</a><span class="slogan">Business news from Central Asia and the Caucasus</span>
<nav><ul>{_menu(o, ["Top news", "Economy", "Markets", "Energy", "Transport", "Politics", "Regions", "Analytics", "Press releases", "Calendar"])}</ul></nav>
<div class="langs"><a href="{o["base"]}/ru/">RU</a> <a href="{o["base"]}/kz/">KZ</a> <b>EN</b></div></header>
<div class="market-strip"><span>USD/KZT 481.20 ▲0.3%</span> <span>USD/UZS 12,790 ▲0.1%</span> <span>Brent 74.12 ▼0.8%</span> <span>Gold 2,651 ▲0.4%</span></div>
<div class="page"><div class="main">
<div class="news-item">
<div class="rubric">{_e(a["section"])}</div>
<h1>{_e(a["title"])}</h1>
<div class="date"><time datetime="{a["published"]}">{_e(a["date_display"])}</time></div>
<div class="text">
{body}
</div>
<div class="tags">Tags: <a href="#">Kyrgyzstan</a> <a href="#">{_e(a["section"])}</a> <a href="#">Legislation</a></div>
<div class="subscribe-note">Capital Wire newswire subscribers receive this news in real time. <a href="{o["base"]}/en/subscribe">Request a trial</a></div>
</div>
<div class="latest"><h2>Latest news</h2>
{"".join(f'<div class="latest-item"><span class="time">{t}</span> <a href="{o["base"]}/en/news/{i}">{_e(h)}</a><p>{_e(s)}</p></div>' for i, (t, h, s) in enumerate(latest))}
<a class="all" href="{o["base"]}/en/news/">All news</a></div>
</div>
<div class="sidebar"><h3>Most read</h3><ol>{_links(o, most_read, "/en/news/")}</ol>
<h3>Calendar</h3><ul><li>Nov 7: Kazakhstan industrial output, October</li><li>Nov 8: Uzbekistan CPI, October</li><li>Nov 11: Kyrgyz budget hearings</li></ul>
<div class="promo">Capital Wire Analytics: sector reports on mining, energy and banking. <a href="{o["base"]}/en/analytics/">Learn more</a></div></div></div>
<footer><p>&copy; 2009-2024 Capital Wire. All rights reserved. Use of materials requires an active hyperlink to Capital Wire.</p>
<ul>{_menu(o, ["About", "Editorial policy", "Advertising", "Contacts", "RSS", "Mobile app"])}</ul></footer>
</body>
</html>
"""


# --- French daily -------------------------------------------------------------------------------------

def french(o: Outlet, a: Article, siblings: list[Article]) -> str:
    lire_aussi = iter([
        ("Lire aussi |", "À Orléans, le bus à haut niveau de service séduit les usagers"),
        ("Lire aussi |", "Transports publics : les métropoles face au mur des investissements"),
    ])
    chrome = {
        "lireaussi": lambda: (lambda pair: f'<p class="article__paragraph article__paragraph--lf"><span class="icon__related"></span>'
                              f'<span class="article__lire-aussi">{pair[0]}</span> <a class="js-article-read-also" href="{o["base"]}/societe/article/2024/09/01/x_{zlib.crc32(pair[1].encode()) % 9999}.html">{_e(pair[1])}</a></p>')(next(lire_aussi)),
    }
    body = _render_blocks(a, chrome, lambda t: f'<p class="article__paragraph">{_e(t)}</p>',
                          lambda c: f'<figure class="article__media"><img src="{o["base"]}/img/{a["id"]}.jpg" alt=""><figcaption class="article__legend">{_e(c)}</figcaption></figure>')
    paywall = ""
    if a.get("paywalled"):
        paywall = ('<section class="paywall"><p class="article__status">Il vous reste 71.48% de cet article à lire. La suite est réservée aux abonnés.</p>'
                   f'<a class="btn" href="{o["base"]}/abonnement/">S’abonner</a><p>Déjà abonné ? <a href="{o["base"]}/connexion/">Se connecter</a></p>'
                   "<p>Offre spéciale : 1 € par mois pendant 3 mois, sans engagement.</p></section>")
    modified = f' <span class="meta__date--update">, {_e(a["modified_display"])}</span>' if a.get("modified_display") else ""
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])}</title>
{_og(o, a, locale="fr_FR")}
{_jsonld(o, a)}
{_tracking()}
</head>
<body class="article-page">
<div id="didomi-host"><div class="didomi-popup-container"><div class="didomi-popup-notice-text"><p><b>Votre vie privée, notre priorité</b></p><p>Avec votre accord, nos partenaires et nous utilisons des cookies ou technologies similaires pour stocker et accéder à des informations personnelles comme votre visite sur ce site. Vous pouvez retirer votre consentement ou vous opposer aux traitements basés sur l’intérêt légitime à tout moment en cliquant sur « En savoir plus » ou dans notre politique de confidentialité sur ce site.</p></div>
<button class="didomi-button">Accepter &amp; Fermer</button><button class="didomi-button-standard">En savoir plus</button><a href="#">Continuer sans accepter</a></div></div>
<header class="Header"><div class="Header__logo"><a href="{o["base"]}/">{_e(o["name"])}</a></div>
<nav class="Nav"><ul>{_menu(o, ["Actualités", "International", "Politique", "Société", "Économie", "Culture", "Sport", "Idées", "Le Mag"])}</ul></nav>
<a class="Header__subscribe" href="{o["base"]}/abonnement/">S’abonner</a> <a href="{o["base"]}/connexion/">Se connecter</a></header>
<main class="article article--content">
<section class="article__wrapper">
<ul class="breadcrumb"><li><a href="{o["base"]}/{a["section"].lower()}/">{_e(a["section"])}</a></li></ul>
<h1 class="article__title">{_e(a["title"])}</h1>
<p class="article__desc">{_e(a["standfirst"])}</p>
<section class="meta meta__publisher"><span class="meta__author">Par <a class="article__author-link" href="{o["base"]}/signataires/{a["author"].lower().replace(" ", "-")}/">{_e(a["author"])}</a></span>
<span class="meta__date">{_e(a["date_display"])}</span>{modified}<span class="meta__reading-time">Temps de lecture : 3 min.</span></section>
<section class="article__content">
{body}
{paywall}
</section>
<section class="article__footer"><div class="services"><h3>Services</h3><ul><li><a href="#">Découvrez nos offres</a></li><li><a href="#">Cours d’anglais en ligne</a></li><li><a href="#">Codes promo</a></li></ul></div>
<div class="article__reactions"><a href="#">Réagir</a> <a href="#">Partager</a> <a href="#">Ajouter à vos sélections</a></div></section>
</section>
<aside class="aside__plus-lus"><h3>Les plus lus</h3><ol>{_links(o, ["Rentrée : le prix des fournitures scolaires en hausse", "La Loire à vélo bat des records de fréquentation", "Impôts locaux : ce qui change cette année", "Orages : vigilance orange dans le Centre-Val de Loire"])}</ol></aside>
</main>
<footer class="Footer"><ul>{_menu(o, ["Le journal", "Nous contacter", "Mentions légales", "Politique de confidentialité", "Gestion des cookies", "Charte du groupe"])}</ul>
<p>© {_e(o["name"])} - Reproduction interdite de tous les articles, sauf accord de la rédaction.</p></footer>
</body>
</html>
"""


# --- German magazine ----------------------------------------------------------------------------------

def german(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    chrome = {
        "mehrzumthema": lambda: ('<section data-area="related_articles" class="related-box"><h3>Mehr zum Thema</h3><ul>'
                                 + "".join(f'<li><a href="{_url(o, s)}"><span class="kicker">{_e(s["section"])}</span> <span class="title">{_e(s["title"])}</span></a></li>' for s in others)
                                 + f'<li><a href="{o["base"]}/wirtschaft/bahn-puenktlichkeit-a-11"><span class="kicker">Verspätungen</span> <span class="title">Warum die Bahn so unpünktlich ist</span></a></li></ul></section>'),
        "ad": lambda: '<div class="ad-container" data-area="ad"><span class="ad-label">Anzeige</span><div id="ad-inline-1"></div></div>',
    }
    body = _render_blocks(a, chrome, lambda t: f'<div class="RichText"><p>{_e(t)}</p></div>',
                          lambda c: f'<figure data-area="image"><img src="{o["base"]}/images/{a["id"]}.jpg" alt=""><figcaption><p>{_e(c.split(" Foto:")[0])}</p><span class="credit">Foto:{_e(c.split(" Foto:")[-1])}</span></figcaption></figure>')
    forum = "".join(f'<div class="forum-post"><div class="forum-user">{_e(n)}</div><div class="forum-date">{_e(d)}</div><p>{_e(t)}</p></div>'
                    for n, d, t in a.get("comments", []))
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="de">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} - Rheinblatt</title>
<meta name="author" content="{_e(o["name"])}, Hamburg, Germany">
<meta name="date" content="{a["published"]}">
{_og(o, a, locale="de_DE")}
{_jsonld(o, a)}
{_tracking()}
</head>
<body>
<div id="sp_message_container" class="consent-layer"><div class="message"><h2>Werbefinanziert weiterlesen</h2><p>Wir und unsere Partner verwenden Cookies und ähnliche Technologien, um unser Angebot zu finanzieren. Wenn Sie zustimmen, verarbeiten wir Ihre Daten zu Werbezwecken. Alternativ können Sie unser werbefreies Abo abschließen.</p><button>Zustimmen</button><button>Zum Abo</button></div></div>
<header data-area="header"><a class="logo" href="{o["base"]}/">Rheinblatt</a><nav><ul>{_menu(o, ["Schlagzeilen", "Politik", "Ausland", "Wirtschaft", "Panorama", "Sport", "Kultur", "Netzwelt", "Wissenschaft", "Mobilität"])}</ul></nav>
<a href="{o["base"]}/abo/">Rheinblatt+ testen</a></header>
<main><article aria-label="{_e(a["title"])}">
<header data-area="intro">
<h2 class="kicker"><span class="text-primary">{_e(a["section"])}</span></h2>
<h1><span class="headline">{_e(a["title"])}</span></h1>
<div class="leading-loose">{_e(a["standfirst"])}</div>
<div data-area="author_byline">Von <a href="{o["base"]}/impressum/autor-{a["id"]}">{_e(a["author"])}</a></div>
<div class="timeformat"><time datetime="{a["published"].replace("T", " ")[:19]}">{_e(a["date_display"])}</time></div>
<div data-area="share"><button>Artikel teilen</button><button>Merken</button><a href="#forum">{len(a.get("comments", []))} Kommentare</a></div>
</header>
<section data-area="body">
{body}
</section>
<footer data-area="article_footer"><div class="topic-tags">Mehr lesen über <a href="#">Deutsche Bahn</a> <a href="#">Verkehr</a></div>
<p class="feedback">Haben Sie einen Fehler gefunden? <a href="#">Jetzt melden.</a></p></footer>
</article>
<section id="forum" data-area="forum"><h2>Diskutieren Sie mit</h2><p class="forum-rules">Die Kommentare werden moderiert. Bitte beachten Sie die Netiquette.</p>{forum}<a href="#">Alle Kommentare öffnen</a></section>
<section data-area="more_articles"><h2>Mehr aus {_e(a["section"])}</h2><ul>{_links(o, ["Lokführer drohen mit neuen Streiks", "Wie teuer wird das Deutschlandticket?", "E-Autos: Neuzulassungen brechen ein"])}</ul></section>
</main>
<footer><ul>{_menu(o, ["Impressum", "Datenschutz", "Nutzungsbedingungen", "Kontakt", "Hilfe", "Abo kündigen"])}</ul><p>© Rheinblatt GmbH &amp; Co. KG</p></footer>
</body>
</html>
"""


# --- Spanish daily (article and live blog) ------------------------------------------------------------

def spanish(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    chrome = {
        "masinfo": lambda: ('<aside class="a_ei"><p class="a_ei_t">Más información</p>'
                            + "".join(f'<article class="c c-xs"><h2 class="c_t"><a href="{_url(o, s)}">{_e(s["title"])}</a></h2></article>' for s in others)
                            + "</aside>"),
        "newsletter": lambda: ('<div class="a_nl"><p class="a_nl_t">Newsletter</p><p>Apúntate a la newsletter de El Faro y recibe cada mañana las noticias de Valencia.</p>'
                               f'<a href="{o["base"]}/newsletters/">Apúntate</a></div>'),
    }

    def entry(v: dict[str, Any]) -> str:
        paras = "".join(f"<p>{_e(t)}</p>" for t in v["text"])
        return (f'<article class="lv-entry" id="e{v["time"].replace(":", "")}"><div class="lv-entry-head"><time class="lv-time">{v["time"]}</time>'
                f'<span class="lv-author">Redacción</span></div><h2 class="lv-title">{_e(v["title"])}</h2>{paras}'
                '<div class="lv-share"><a href="#">Compartir</a> <a href="#">Copiar enlace</a></div></article>')

    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<figure class="a_m"><img src="{o["base"]}/img/{a["id"]}.jpg" alt=""><figcaption class="a_m_p"><span>{_e(c)}</span></figcaption></figure>',
                          extra={"entry": entry, "list": lambda v: '<div class="lv-keys"><h3>Claves</h3><ul>' + "".join(f"<li>{_e(i)}</li>" for i in v) + "</ul></div>"})
    kind = "LiveBlogPosting" if a.get("live") else "NewsArticle"
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="es">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} | El Faro de Levante</title>
{_og(o, a, locale="es_ES")}
{_jsonld(o, a, kind=kind)}
{_tracking()}
</head>
<body>
<div id="didomi-notice" class="didomi-notice"><p>Utilizamos cookies propias y de terceros para fines analíticos y para mostrarte publicidad personalizada en base a un perfil elaborado a partir de tus hábitos de navegación. Puedes aceptar todas las cookies pulsando el botón «Aceptar» o configurarlas.</p><button>Aceptar</button><button>Configurar</button></div>
<header class="_hd"><a class="_logo" href="{o["base"]}/">El Faro de Levante</a><nav><ul>{_menu(o, ["Valencia", "Comunitat", "España", "Internacional", "Economía", "Opinión", "Deportes", "Cultura", "Gastronomía"])}</ul></nav>
<a class="_sub" href="{o["base"]}/suscripciones/">Suscríbete</a></header>
<main id="main"><article class="a _g _g-lg">
<header class="a_e"><div class="a_k"><a href="{o["base"]}/{a["section"].lower()}/">{_e(a["section"])}</a></div>
<h1 class="a_t">{_e(a["title"])}</h1>
<h2 class="a_st">{_e(a["standfirst"])}</h2></header>
<div class="a_md"><div class="a_md_a"><a href="{o["base"]}/autor/{a["id"]}/" class="a_md_a_n">{_e(a["author"])}</a></div>
<div class="a_md_f"><span>Valencia</span> - <time datetime="{a["published"]}"><a href="#">{_e(a["date_display"])}</a></time></div>
<div class="a_md_sh"><a href="#">Compartir en Whatsapp</a><a href="#">Compartir en Facebook</a><a href="#">Compartir en Twitter</a><a href="#">Copiar enlace</a><a href="#">Comentarios</a></div></div>
<div class="a_c clearfix" data-dtm-region="articulo_cuerpo">
{body}
</div>
<div class="a_pw">Suscríbete para seguir leyendo. Lee sin límites por 1 € el primer mes.</div>
<ul class="a_tags"><li><a href="#">Vivienda</a></li><li><a href="#">Valencia</a></li></ul>
</article>
<section class="b_mas"><h3>Lo más visto</h3><ol>{_links(o, ["El Valencia CF ficha a un central uruguayo", "Las Fallas ya tienen cartel para 2025", "Dónde comer la mejor paella según los valencianos"])}</ol></section>
</main>
<footer class="_ft"><ul>{_menu(o, ["Aviso legal", "Política de privacidad", "Política de cookies", "Contacto", "Publicidad"])}</ul><p>© El Faro de Levante. Todos los derechos reservados.</p></footer>
</body>
</html>
"""


# --- Persian site -------------------------------------------------------------------------------------

def persian(o: Outlet, a: Article, siblings: list[Article]) -> str:
    others = _others(a, siblings)
    chrome = {
        "morelinks": lambda: ('<div class="more-links"><h4>بیشتر بخوانید</h4><ul>'
                              + "".join(f'<li><a href="{_url(o, s)}">{_e(s["title"])}</a></li>' for s in others)
                              + '<li><a href="/fa/news/1">نرخ اسعار خارجی در بازار کابل</a></li></ul></div>'),
    }
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<div class="field-image"><img src="{o["base"]}/sites/default/files/{a["id"]}.jpg" alt="{_e(c)}"><span class="caption">{_e(c)}</span></div>')
    summary = f'<div class="field-summary"><p>{_e(a["standfirst"])}</p></div>' if a.get("standfirst") else ""
    popular = _links(o, ["نشست تازه درباره آب\u200cهای مشترک", "بازار طلا در هرات", "برنامه تازه برای بازگشت مهاجران"],
                     "/fa/news/")
    comments = "".join(f'<div class="comment"><span class="username">{_e(n)}</span><span class="submitted">{_e(d)}</span><p>{_e(t)}</p></div>'
                       for n, d, t in a.get("comments", []))
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} | {_e(o["name"])}</title>
{_og(o, a)}
{_tracking()}
</head>
<body class="node-type-article">
<header><div class="logo"><a href="{o["base"]}/fa">{_e(o["name"])}</a></div>
<ul class="menu">{_menu(o, ["خانه", "افغانستان", "جهان", "اقتصاد", "ورزش", "فرهنگ", "ویدیو", "گزارش"])}</ul>
<div class="lang"><a href="{o["base"]}/ps">پښتو</a> <a href="{o["base"]}/en">English</a></div></header>
<div class="container"><div class="main">
<div class="node node-article">
<div class="field-category"><a href="#">{_e(a["section"])}</a></div>
<h1 class="page-title">{_e(a["title"])}</h1>
<div class="submitted"><span class="field-author">{_e(a["author"])}</span> - <span class="date">{_e(a["date_display"])}</span></div>
{summary}
<div class="field-body">
{body}
</div>
<div class="share">اشتراک\u200cگذاری: <a href="#">فیسبوک</a> <a href="#">توییتر</a> <a href="#">تلگرام</a></div>
</div>
<div class="comments"><h3>دیدگاه\u200cها</h3>{comments}<form><textarea placeholder="دیدگاه خود را بنویسید"></textarea><button>ارسال</button></form></div>
</div>
<aside class="sidebar"><h3>مطالب پربیننده</h3><ul>{popular}</ul></aside></div>
<footer><p>تمامی حقوق برای {_e(o["name"])} محفوظ است.</p></footer>
</body>
</html>
"""


# --- old table layout, Pashto, text separated by <br> -----------------------------------------------------

def oldtable(o: Outlet, a: Article, siblings: list[Article]) -> str:
    text = "<br><br>\n".join(_e(t) for t in gold_lines(a))
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
{WRITTEN_NOTE}
<html dir="rtl">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{_e(o["name"])} :: {_e(a["title"])}</title>
</head>
<body bgcolor="#FFFFFF">
<table width="980" border="0" cellpadding="0" cellspacing="0" align="center">
<tr><td colspan="2"><a href="{o["base"]}/ps/"><img src="{o["base"]}/images/banner.jpg" width="980" height="120" alt="{_e(o["name"])}"></a></td></tr>
<tr><td colspan="2" class="menu"><a href="{o["base"]}/ps/">کور</a> | <a href="{o["base"]}/ps/news/">خبرونه</a> | <a href="{o["base"]}/ps/articles/">لیکنې</a> | <a href="{o["base"]}/ps/sports/">ورزش</a> | <a href="{o["base"]}/ps/contact/">اړیکه</a></td></tr>
<tr>
<td width="700" valign="top">
<div class="newstitle">{_e(a["title"])}</div>
<div class="newsdate">{_e(a["date_display"])}</div>
<div class="newsbody">
{text}
</div>
<div class="print"><a href="?print=1">چاپ</a> | <a href="?mail=1">ملګري ته یې واستوئ</a></div>
</td>
<td width="280" valign="top" class="sidebar">
<div class="boxtitle">وروستي خبرونه</div>
<ul><li><a href="{o["base"]}/ps/news/1">په جلال اباد کې نوې روغتیايي کلینیک پرانیستل شو</a></li>
<li><a href="{o["base"]}/ps/news/2">د تورخم له لارې سوداګري بیا پیل شوه</a></li>
<li><a href="{o["base"]}/ps/news/3">په کونړ کې د سړک جوړولو کار بشپړ شو</a></li></ul>
<div class="boxtitle">اعلانونه</div><a href="{o["base"]}/ps/adv/"><img src="{o["base"]}/images/adv.gif" alt="اعلان"></a>
</td></tr>
<tr><td colspan="2" class="footer">ټول حقونه د {_e(o["name"])} سره خوندي دي. 2024 ©</td></tr>
</table>
</body>
</html>
"""


# --- Uzbek site -------------------------------------------------------------------------------------------

def uzbek(o: Outlet, a: Article, siblings: list[Article]) -> str:
    chrome = {
        "mavzu": lambda: (f'<div class="related-inline"><b>Mavzuga oid:</b> <a href="{o["base"]}/uz/jamiyat/2024/08/30/metro-narx/">'
                          "Metro va avtobusda yo‘l haqi oshirilmaydi</a></div>"),
        "telegram": lambda: ('<p><strong>Telegram kanalimizga obuna bo‘ling:</strong> <a href="https://t.me/toshkentxabar">@toshkentxabar</a></p>'),
    }
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<div class="article-photo"><img src="{o["base"]}/media/{a["id"]}.jpg" alt=""><p class="photo-caption">{_e(c)}</p></div>')
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="uz">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} — {_e(o["name"])}</title>
{_og(o, a)}
{_tracking()}
</head>
<body>
<header class="header"><a class="logo" href="{o["base"]}/uz/">{_e(o["name"])}</a>
<ul class="nav">{_menu(o, ["Yangiliklar", "Jamiyat", "Iqtisodiyot", "Siyosat", "Sport", "Madaniyat", "Dunyo"])}</ul>
<div class="lang"><a href="{o["base"]}/ru/">Рус</a> <a href="{o["base"]}/oz/">Ўзб</a></div></header>
<div class="content"><div class="article">
<div class="article-category">{_e(a["section"])}</div>
<h1>{_e(a["title"])}</h1>
<div class="article-info"><span class="date">{_e(a["date_display"])}</span> <span class="author">{_e(a["author"])}</span> <span class="views">2 341</span></div>
<div class="article-text">
{body}
</div>
<div class="article-share">Ulashish: <a href="#">Telegram</a> <a href="#">Facebook</a></div>
</div>
<div class="sidebar"><h3>So‘nggi yangiliklar</h3><ul>{_links(o, ["Samarqandda xalqaro festival boshlandi", "Dollar kursi yana oshdi", "Paxta terimi yakunlanmoqda"], "/uz/")}</ul></div></div>
<footer><p>© 2024 {_e(o["name"])}. Materiallardan foydalanilganda havola berilishi shart.</p></footer>
</body>
</html>
"""


# --- AMP ---------------------------------------------------------------------------------------------------

def amp(o: Outlet, a: Article, siblings: list[Article]) -> str:
    chrome = {"ad": lambda: ('<amp-ad width="300" height="250" type="doubleclick" data-slot="/1234/coastal/news" layout="responsive">'
                             '<div placeholder>Advertisement</div></amp-ad>')}
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: (f'<figure class="lead-media"><amp-img src="{o["base"]}/img/{a["id"]}.jpg" width="1200" height="675" layout="responsive" alt=""></amp-img>'
                                     f"<figcaption>{_e(c)}</figcaption></figure>"))
    return f"""<!doctype html>
{WRITTEN_NOTE}
<html ⚡ lang="en">
<head>
<meta charset="utf-8">
<script async src="https://cdn.ampproject.example/v0.js"></script>
<script async custom-element="amp-ad" src="https://cdn.ampproject.example/v0/amp-ad-0.1.js"></script>
<script async custom-element="amp-social-share" src="https://cdn.ampproject.example/v0/amp-social-share-0.1.js"></script>
<title>{_e(a["title"])} | Coastal Times</title>
<link rel="canonical" href="{o["base"]}{a["path"].replace("/amp", "")}">
<meta name="viewport" content="width=device-width,minimum-scale=1,initial-scale=1">
{_jsonld(o, a)}
<style amp-boilerplate>body{{-webkit-animation:-amp-start 8s steps(1,end) 0s 1 normal both}}</style>
<style amp-custom>.header{{background:#003}} .byline{{font-size:14px}}</style>
</head>
<body>
<amp-sidebar id="sidebar" layout="nodisplay" side="left"><ul>{_menu(o, ["Home", "Local", "Weather", "Traffic", "Sports", "Business", "Opinion", "Obituaries"])}</ul></amp-sidebar>
<header class="header"><button on="tap:sidebar.toggle">Menu</button><a href="{o["base"]}/">Coastal Times</a></header>
<article>
<div class="section-label">{_e(a["section"])}</div>
<h1>{_e(a["title"])}</h1>
<p class="dek">{_e(a["standfirst"])}</p>
<div class="byline">By {_e(a["author"])} | <time datetime="{a["published"]}">{_e(a["date_display"])}</time></div>
<div class="share"><amp-social-share type="facebook" width="32" height="32"></amp-social-share><amp-social-share type="twitter" width="32" height="32"></amp-social-share><amp-social-share type="email" width="32" height="32"></amp-social-share></div>
{body}
</article>
<section class="more"><h2>More local news</h2><ul>{_links(o, ["Harbor seals return to Seabright beach", "School board approves new calendar", "Highway 1 repairs to start in March"], "/amp/news/")}</ul></section>
<footer><p>© 2024 Coastal Times. All rights reserved.</p><a href="{o["base"]}/privacy">Privacy</a> <a href="{o["base"]}/terms">Terms</a></footer>
</body>
</html>
"""


# --- client-rendered app shell -----------------------------------------------------------------------

def appshell(o: Outlet, a: Article, siblings: list[Article]) -> str:
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(a["title"])} | Ridgeline News</title>
{_og(o, a)}
{_jsonld(o, a, body=True)}
<link rel="stylesheet" href="{o["base"]}/static/css/main.8c1e2f.css">
</head>
<body>
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
<script>window.__CONFIG__={{"apiBase":"https://api.ridgeline-news.example","region":"us-west","features":{{"comments":true,"paywall":false}}}};</script>
<script src="{o["base"]}/static/js/main.8c1e2f.js"></script>
</body>
</html>
"""


# --- Ukrainian site ---------------------------------------------------------------------------------------

def ukrainian(o: Outlet, a: Article, siblings: list[Article]) -> str:
    chrome = {"chytaite": lambda: (f'<p><strong>Читайте також:</strong> <a href="{o["base"]}/news/2024/05/02/avtobusy">'
                                   "На Сихів вийдуть нові автобуси</a></p>")}
    body = _render_blocks(a, chrome, lambda t: f"<p>{_e(t)}</p>",
                          lambda c: f'<div class="article__photo"><img src="{o["base"]}/uploads/{a["id"]}.jpg" alt=""><div class="article__photo-caption">{_e(c)}</div></div>')
    comments = "".join(f'<li class="comment"><b>{_e(n)}</b> <span>{_e(d)}</span><p>{_e(t)}</p></li>' for n, d, t in a.get("comments", []))
    return f"""<!DOCTYPE html>
{WRITTEN_NOTE}
<html lang="uk">
<head>
<meta charset="utf-8">
<title>{_e(a["title"])} | {_e(o["name"])}</title>
{_og(o, a, locale="uk_UA")}
{_tracking()}
</head>
<body>
<header class="header"><a class="header__logo" href="{o["base"]}/">{_e(o["name"])}</a>
<nav><ul>{_menu(o, ["Новини", "Місто", "Україна", "Економіка", "Культура", "Спорт", "Афіша"])}</ul></nav></header>
<div class="page"><main class="article">
<div class="article__rubric">{_e(a["section"])}</div>
<h1 class="article__title">{_e(a["title"])}</h1>
<div class="article__meta"><span class="article__date">{_e(a["date_display"])}</span> <span class="article__author">Автор: {_e(a["author"])}</span></div>
<div class="article__lead">{_e(a["standfirst"])}</div>
<div class="article__body">
{body}
</div>
<div class="article__share">Поділитися: <a href="#">Facebook</a> <a href="#">Telegram</a> <a href="#">Viber</a></div>
<div class="comments"><h3>Коментарі</h3><ul>{comments}</ul></div>
</main>
<aside class="sidebar"><h3>Популярне</h3><ul>{_links(o, ["Де у Львові відкрили нові укриття", "Ціни на ринках: що подорожчало", "Розклад відключень світла на тиждень"])}</ul></aside></div>
<footer><p>© 2024 {_e(o["name"])}. Усі права захищено.</p></footer>
</body>
</html>
"""


TEMPLATES: dict[str, Callable[[Outlet, Article, list[Article]], str]] = {
    "wordpress": wordpress, "bitrix": bitrix, "arabic": arabic, "headless": headless, "agency": agency,
    "french": french, "german": german, "spanish": spanish, "persian": persian, "oldtable": oldtable,
    "uzbek": uzbek, "amp": amp, "appshell": appshell, "ukrainian": ukrainian,
}
