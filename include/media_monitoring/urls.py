"""Canonical URLs: one article, one key, however an outlet or a feed links to it."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from media_monitoring.rules import ARTICLE_KEY_CHARS

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "_ga", "_gl", "ref", "ref_src", "referrer", "cmpid", "ocid", "smid", "sr_share", "at_medium",
        "at_campaign", "utm", "rss", "from", "share",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_")


def canonical_url(url: str) -> str:
    """Normalise ``url``: lower-case scheme and host, no default port, no fragment, no tracking.

    ``https`` and ``http`` are kept distinct only in the scheme; the key (:func:`url_key`) ignores
    the scheme so the same article reached over both is stored once.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    # drop tracking parameters but keep the others exactly as written (order, encoding, "?123")
    query = "&".join(
        pair for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote_plus(pair.split("=", 1)[0]).lower())
    )
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, query, ""))


def _is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def url_key(url: str) -> str:
    """Stable article id: hash of the canonical URL without its scheme."""
    canonical = canonical_url(url)
    schemeless = canonical.split("://", 1)[-1]
    return hashlib.sha256(schemeless.encode("utf-8")).hexdigest()[:ARTICLE_KEY_CHARS]
