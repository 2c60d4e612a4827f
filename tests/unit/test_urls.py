"""Canonical URLs and article keys: one article, one key, however it is linked."""

from __future__ import annotations

import pytest

from media_monitoring.urls import canonical_url, url_key

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/news/1?utm_source=rss&utm_medium=feed&utm_campaign=x",
         "https://example.com/news/1"),
        ("https://example.com/news/1?fbclid=IwAR0abc", "https://example.com/news/1"),
        ("https://example.com/news/1?gclid=abc&msclkid=def&yclid=1&mc_cid=2&_ga=3",
         "https://example.com/news/1"),
        ("https://example.com/news/1?UTM_Source=x", "https://example.com/news/1"),
        ("https://EXAMPLE.com/News/1", "https://example.com/News/1"),  # host folded, path kept
        ("HTTPS://www.Example.COM/a", "https://example.com/a"),
        ("https://www.example.com./a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),  # 443 is not http's default
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_url_normalises(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_article_parameters_as_written() -> None:
    assert canonical_url("https://example.com/story.php?id=42&utm_source=tw") == "https://example.com/story.php?id=42"
    assert canonical_url("https://example.com/a?b=2&a=1") == "https://example.com/a?b=2&a=1"
    # no re-encoding and no invented "=": the canonical URL still names the same resource
    assert canonical_url("https://example.com/article.php?123") == "https://example.com/article.php?123"
    assert (canonical_url("https://example.com/go?u=https://x.org/p%20q&fbclid=1")
            == "https://example.com/go?u=https://x.org/p%20q")


def test_canonical_url_keeps_ipv6_brackets() -> None:
    assert canonical_url("http://[::1]:8080/a#x") == "http://[::1]:8080/a"
    assert canonical_url("http://[2001:DB8::1]/a") == "http://[2001:db8::1]/a"


def test_url_key_ignores_scheme_and_tracking() -> None:
    variants = [
        "https://www.example.com/news/2021/10/28/story.html",
        "http://example.com/news/2021/10/28/story.html",
        "https://example.com/news/2021/10/28/story.html?utm_source=rss&utm_medium=feed",
        "https://EXAMPLE.com:443/news/2021/10/28/story.html#top",
        "http://www.example.com:80/news/2021/10/28/story.html?fbclid=abc&gclid=def",
    ]
    assert len({url_key(v) for v in variants}) == 1
    assert len(url_key(variants[0])) == 32


def test_url_key_differs_between_articles() -> None:
    keys = {
        url_key("https://example.com/news/1"),
        url_key("https://example.com/news/2"),
        url_key("https://example.com/news/1?id=2"),
        url_key("https://other.example.com/news/1"),
        url_key("https://example.com:8443/news/1"),
        url_key("https://example.com/News/1"),
    }
    assert len(keys) == 6
