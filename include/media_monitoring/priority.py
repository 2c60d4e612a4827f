"""Priority alerts: a hit of a priority term reaches the analyst within minutes, once per story.

Two steps, like the digest: ``select_alerts`` writes one ledger row per (subscription, story) for the
priority hits stored since the last runs (the ledger's key is the rule "one alert per story"), and
``send_alerts`` delivers every pending alert on each of its channels (email, JSON webhooks) with a send
log per channel, so a retry or a rerun sends nothing twice.

An alert waits (state ``pending``, ``held`` says why) while its subscription's quiet hours last, or while
the subscription has had ``max_per_hour`` alerts in the last hour; the next runs send it. If the
subscription's digest delivers the article meanwhile, the alert is not sent (``in_digest``).

An alerted article that is edited or taken down later (``media_recheck``) raises one more alert per
revision, "changed since sent", unless the subscription's digest reported the change first.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from media_monitoring.config import Analysts, Subscription, Watchlist, load_registry
from media_monitoring.curation import subscriptions as subscription_store
from media_monitoring.curation import watchlists as watchlist_store
from media_monitoring.digest.deliver import SmtpSend, addressed_message, envelope_sender, slug
from media_monitoring.revisions import describe
from media_monitoring.rules import MAX_TEXT_CHARS
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import alerts as store

log = logging.getLogger(__name__)

# Articles stored this long before a run can still raise an alert: covers the alert DAG being down or
# backed up for a few hours; older ones are the digest's (an alert hours late is no longer an alert).
ALERT_LOOKBACK = timedelta(hours=6)
RATE_WINDOW = timedelta(hours=1)  # max_per_hour counts the alerts sent in this sliding window
WEBHOOK_TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)  # a receiver slower is down
EMAIL_CHANNEL = "email"

WebhookResolver = Callable[[str], "str | None"]  # connection id -> URL, None when it does not exist
WebhookPost = Callable[[str, dict[str, Any], str], None]  # (url, payload, idempotency key)


class AlertDeliveryError(RuntimeError):
    """Some alerts could not be sent on some channel; everything else was."""


def alert_terms(sub: Subscription, watchlists: dict[str, Watchlist]) -> dict[str, list[str] | None]:
    """{watchlist: priority term names} the subscription alerts on (None: every term, ``terms: all``)."""
    out: dict[str, list[str] | None] = {}
    for name in sub.watchlists:
        if name not in watchlists:
            continue
        if sub.alerts.terms == "all":
            out[name] = None
        else:
            names = [t.name for t in watchlists[name].terms if t.priority]
            if names:
                out[name] = names
    return out


def quiet_until(sub: Subscription, now: datetime) -> datetime | None:
    """The end of the subscription's quiet hours if ``now`` is inside them (local time), else None."""
    if not sub.alerts.quiet_hours:
        return None
    tz = ZoneInfo(sub.timezone)
    start_s, end_s = sub.alerts.quiet_hours.split("-")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if (start < end or clock < end) else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def _enabled(analysts: Analysts) -> list[Subscription]:
    return [s for s in analysts.subscriptions if s.alerts.enabled]


def select_alerts(*, settings: Settings, warehouse: Warehouse, run_id: str, now: datetime) -> dict[str, int]:
    """Write the ledger row of each new priority story per subscription; returns new alerts by subscription.

    Candidates: articles stored in (now - ALERT_LOOKBACK, now] with a hit the subscription alerts on (and a
    place in its regions with ``regions_mode: only``), whose story has no alert of it yet and that no digest
    of it delivered. Of a story's new articles the first stored (then published) raises the alert.

    Raises:
        ConfigError: analysts.yaml or watchlists.yaml is invalid (file, line and field named).
    """
    analysts = subscription_store.in_force(settings, warehouse)
    watchlists = {w.name: w for w in watchlist_store.in_force(settings, warehouse).watchlists}
    created: dict[str, int] = {}
    for sub in _enabled(analysts):
        terms = alert_terms(sub, watchlists)
        if not terms:
            log.warning("subscription %s has alerts enabled but no priority term in %s", sub.name,
                        ", ".join(sub.watchlists))
            continue
        hits = store.candidate_hits(warehouse, sub.name, terms, stored_after=now - ALERT_LOOKBACK,
                                    stored_until=now)
        interest = set(sub.regions)
        by_story: dict[str, dict[str, Any]] = {}
        for hit in hits:
            if sub.regions_mode == "only" and interest and not interest & set(hit["regions"] or ()):
                continue
            story = by_story.get(hit["story_id"])
            if story is None:
                story = by_story[hit["story_id"]] = {
                    "subscription": sub.name, "story_id": hit["story_id"], "article_id": hit["article_id"],
                    "title": hit["title"], "url": hit["url"], "outlet_id": hit["outlet_id"],
                    "language": hit["language"], "published_at": hit["published_at"],
                    "published_local": hit["published_local"], "stored_at": hit["stored_at"], "terms": [],
                    "run_id": run_id, "created_at": now, "state": "pending", "held": None, "sent_at": None}
            if hit["article_id"] != story["article_id"]:
                continue  # another article of the same story: the story's alert is raised once
            if any(t["term"] == hit["term"] and t["watchlist"] == hit["watchlist"] for t in story["terms"]):
                continue  # the first (title before text) occurrence of each term explains the alert
            story["terms"].append({"watchlist": hit["watchlist"], "term": hit["term"], "alias": hit["alias"],
                                   "matched": hit["matched"], "field": hit["field"],
                                   "snippet": (hit["snippet"] or "")[:MAX_TEXT_CHARS]})
        changes = _revision_alerts(warehouse, sub.name, run_id, now)
        store.record_alerts(warehouse, list(by_story.values()) + changes)
        created[sub.name] = len(by_story) + len(changes)
    log.info("priority alerts selected: %s", created or "no subscription has alerts enabled")
    return created


def revision_key(article_id: str, check_no: int) -> str:
    """The alert ledger key of a "changed since sent" alert (its story_id column): one per revision."""
    return hashlib.blake2b(f"{article_id}:{check_no}".encode(), digest_size=16).hexdigest()


def _revision_alerts(wh: Warehouse, subscription: str, run_id: str, now: datetime) -> list[dict[str, Any]]:
    """One alert row per revision of an article that alerted the subscription before it changed."""
    rows = []
    for r in store.changed_after_alert(wh, subscription, checked_after=now - ALERT_LOOKBACK, checked_until=now):
        what = describe(r["kind"], r["title_before"], r["title_after"], r["words_added"], r["words_removed"])
        rows.append({"subscription": subscription, "story_id": revision_key(r["article_id"], r["check_no"]),
                     "article_id": r["article_id"], "title": r["title_after"] or r["title_before"], "url": r["url"],
                     "outlet_id": r["outlet_id"], "language": r["language"], "published_at": r["published_at"],
                     "published_local": r["published_local"], "stored_at": r["stored_at"], "terms": r["terms"],
                     "run_id": run_id, "created_at": now, "state": "pending", "held": None, "sent_at": None,
                     "revision": {"check_no": r["check_no"], "kind": r["kind"], "what": what,
                                  "title_before": r["title_before"], "story_id": r["story_id"],
                                  "checked_at": r["checked_at"].isoformat()}})
    return rows


def _local(value: datetime | None, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%d %b %Y %H:%M %Z") if value else "undated"


def build_email(alert: dict[str, Any], analysts: Analysts, sub: Subscription, outlet_name: str,
                coverage: dict[str, Any] | None, now: datetime) -> EmailMessage:
    """A short plain-text alert: the subject names the terms and the outlet (nothing from article text)."""
    terms = ", ".join(dict.fromkeys(t["term"] for t in alert["terms"]))
    revision = alert.get("revision")
    label = "changed since sent: " if revision else ""
    msg = addressed_message(analysts, sub, f"[media-monitor alert] {label}{terms}: {outlet_name}"[:200],
                            kind="alert", key=alert["story_id"], now=now)
    lines = [alert["title"] or "(untitled)", "", alert["url"], ""]
    if revision:
        found = _local(datetime.fromisoformat(revision["checked_at"]), sub.timezone)
        lines += [f"Changed:   {revision['what']} (found {found})",
                  "           You were alerted to this article before it changed.", ""]
    lines += [f"Outlet:    {outlet_name} ({alert.get('language') or '?'})",
              f"Published: {_local(alert['published_at'], sub.timezone)}",
              f"Stored:    {_local(alert['stored_at'], sub.timezone)}"]
    if coverage and coverage.get("article_count", 1) > 1 and not revision:
        lines.append(f"Story:     {coverage['article_count']} articles from {len(coverage['outlets'])} outlet(s)"
                     " so far; later articles of this story do not alert again")
    lines += ["", "Why this is here:"]
    for t in alert["terms"]:
        lines.append(f"  {t['term']} ({t['watchlist']}): matched \u201c{t['matched']}\u201d in the {t['field']}")
        lines.append(f"    \u2026{' '.join(t['snippet'].split())}\u2026")
    closing = ("The next digest lists it under \u201cchanged since sent\u201d." if revision
               else "The article is also in the next digest.")
    lines += ["", f"Priority alert for {sub.name}. {closing}"]
    msg.set_content("\n".join(lines) + "\n", cte="quoted-printable")
    return msg


def webhook_payload(alert: dict[str, Any], sub: Subscription, outlet_name: str,
                    coverage: dict[str, Any] | None) -> dict[str, Any]:
    """Generic JSON; ``text`` is a one-line summary that Slack and Teams incoming webhooks display as is."""
    terms = list(dict.fromkeys(t["term"] for t in alert["terms"]))
    revision = alert.get("revision")
    return {
        "type": "media-monitor.article-changed" if revision else "media-monitor.priority-alert",
        "id": idempotency_key(alert),
        "subscription": sub.name,
        "story_id": alert["story_id"],
        "terms": alert["terms"],
        "article": {"id": alert["article_id"], "title": alert["title"], "url": alert["url"],
                    "outlet_id": alert["outlet_id"], "outlet": outlet_name, "language": alert.get("language"),
                    "published_at": alert["published_at"].isoformat() if alert["published_at"] else None,
                    "stored_at": alert["stored_at"].isoformat() if alert["stored_at"] else None},
        "story": {"articles": coverage["article_count"], "outlets": coverage["outlets"]} if coverage else None,
        "revision": revision,
        "text": (f"[{', '.join(terms)}] {'changed since sent (' + revision['what'] + '): ' if revision else ''}"
                 f"{alert['title'] or '(untitled)'} ({outlet_name}) {alert['url']}"),
    }


def idempotency_key(alert: dict[str, Any]) -> str:
    return f"{slug(alert['subscription'])}.{alert['story_id']}"


def post_json(url: str, payload: dict[str, Any], key: str, *, user_agent: str = "media-monitoring") -> None:
    """POST ``payload`` with timeouts, no redirects; a non-2xx answer raises. The receiver may dedupe on the
    ``Idempotency-Key`` header (a crash between its 200 and our send log repeats the POST with the same key)."""
    with httpx.Client(timeout=WEBHOOK_TIMEOUT, follow_redirects=False,
                      headers={"User-Agent": user_agent}) as client:
        response = client.post(url, json=payload, headers={"Idempotency-Key": key})
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code}")


def _deliver(wh: Warehouse, alert: dict[str, Any], channel: str, *, target: str, message_id: str,
             transport: str, body: str, run_id: str, now: datetime, location: str | None,
             send: Callable[[], None]) -> str:
    """Send on one channel unless its send log says it went out: "sent" or "already_sent"."""
    prior = store.send_log(wh, alert["subscription"], alert["story_id"]).get(channel)
    if prior and prior["status"] == "sent":
        return "already_sent"
    row = {"subscription": alert["subscription"], "story_id": alert["story_id"], "channel": channel,
           "target": target, "message_id": message_id, "transport": transport, "location": location,
           "run_id": run_id, "status": "sending", "sent_at": now, "body": body,
           "attempts": (prior["attempts"] if prior else 0) + 1, "error": prior["error"] if prior else None}
    store.record_send(wh, row)
    try:
        send()
    except Exception as exc:
        store.record_send(wh, {**row, "status": "failed", "error": f"{type(exc).__name__}: {exc}"})
        raise
    store.record_send(wh, {**row, "status": "sent"})
    return "sent"


def _write_eml(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".eml.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # atomic: a reader never sees half a message


def send_alerts(*, settings: Settings, warehouse: Warehouse, run_id: str, now: datetime,
                smtp_send: SmtpSend | None, webhook_url: WebhookResolver,
                post: WebhookPost | None = None) -> dict[str, int]:
    """Deliver every pending alert whose subscription may receive it now; returns counts by outcome.

    Email goes through ``smtp_send`` (or to ``outbox/alerts/<subscription>/<story>.eml``), each webhook
    connection gets a JSON POST. A channel that fails is recorded and tried again by the next run; the
    other channels and alerts still go out.

    Raises:
        AlertDeliveryError: after trying everything, if any channel failed.
    """
    post = post or (lambda url, payload, key: post_json(url, payload, key, user_agent=settings.user_agent))
    analysts = subscription_store.in_force(settings, warehouse)
    names = {o.id: o.name for o in load_registry(settings.outlets_file, settings.replay_base).outlets}
    counts = {"sent": 0, "quiet_hours": 0, "rate_limited": 0, "in_digest": 0}
    failures: dict[str, str] = {}
    for sub in _enabled(analysts):
        waiting = store.pending(warehouse, sub.name)
        if not waiting:
            continue
        quiet = quiet_until(sub, now)
        allowance = sub.alerts.max_per_hour - store.sent_since(warehouse, sub.name, now - RATE_WINDOW)
        for alert in waiting:
            key = idempotency_key(alert)
            revision = alert.get("revision")
            if (store.revision_reported(warehouse, sub.name, alert["article_id"], revision["check_no"]) if revision
                    else store.digested(warehouse, sub.name, alert["article_id"])):
                store.set_state(warehouse, sub.name, alert["story_id"], state="in_digest", held=None)
                counts["in_digest"] += 1
                continue
            log_rows = store.send_log(warehouse, sub.name, alert["story_id"]).values()
            started = any(r["status"] == "sent" for r in log_rows)
            if quiet is not None and not started:  # an alert half out (one channel failed) is finished at once
                held = f"quiet hours until {_local(quiet, sub.timezone)}"
                store.set_state(warehouse, sub.name, alert["story_id"], held=held)
                counts["quiet_hours"] += 1
                continue
            if allowance <= 0 and not started:
                held = f"rate limit: {sub.alerts.max_per_hour} alerts in the last hour"
                store.set_state(warehouse, sub.name, alert["story_id"], held=held)
                counts["rate_limited"] += 1
                continue
            outlet_name = names.get(alert["outlet_id"], alert["outlet_id"])
            coverage = None if revision else store.story_coverage(warehouse, alert["story_id"])
            ok = True
            if sub.alerts.email:
                msg = build_email(alert, analysts, sub, outlet_name, coverage, now)
                data = msg.as_bytes(policy=email.policy.SMTP)
                path = settings.outbox_dir / "alerts" / slug(sub.name) / f"{alert['story_id']}.eml"
                transport = "smtp" if smtp_send else "outbox"

                def send_email(data: bytes = data, path: Path = path, to: str = sub.email) -> None:
                    if smtp_send:
                        smtp_send(envelope_sender(analysts), [to], data)
                    else:
                        _write_eml(path, data)

                try:
                    _deliver(warehouse, alert, EMAIL_CHANNEL, target=sub.email, message_id=msg["Message-ID"],
                             transport=transport, body=msg.get_content(), run_id=run_id, now=now,
                             location=str(path) if transport == "outbox" else None, send=send_email)
                except Exception as exc:
                    log.exception("alert %s by email to %s failed; the next run tries again", key, sub.email)
                    failures[f"{key} email"] = f"{type(exc).__name__}: {exc}"
                    ok = False
            for conn_id in sub.alerts.webhooks:
                channel = f"webhook:{conn_id}"
                url = webhook_url(conn_id)
                payload = webhook_payload(alert, sub, outlet_name, coverage)
                if url is None:
                    if store.send_log(warehouse, sub.name, alert["story_id"]).get(channel) is None:
                        log.warning("alert %s: no connection %r, webhook skipped", key, conn_id)
                        store.record_send(warehouse, {
                            "subscription": sub.name, "story_id": alert["story_id"], "channel": channel,
                            "target": conn_id, "message_id": key, "transport": "webhook", "location": None,
                            "run_id": run_id, "status": "skipped", "sent_at": now, "body": "", "attempts": 0,
                            "error": f"no Airflow connection {conn_id!r}"})
                    continue
                try:
                    _deliver(warehouse, alert, channel, target=conn_id, message_id=key, transport="webhook",
                             body=json.dumps(payload, ensure_ascii=False, sort_keys=True), run_id=run_id,
                             now=now, location=None,
                             send=partial(post, url, payload, key))
                except Exception as exc:
                    log.exception("alert %s to webhook %s failed; the next run tries again", key, conn_id)
                    failures[f"{key} {channel}"] = f"{type(exc).__name__}: {exc}"
                    ok = False
            if ok:
                # alerted when its first channel went out (a retried channel does not make it later)
                sends = [r["sent_at"] for r in store.send_log(warehouse, sub.name, alert["story_id"]).values()
                         if r["status"] == "sent"]
                store.set_state(warehouse, sub.name, alert["story_id"], state="sent", held=None,
                                sent_at=min(sends, default=now))
                counts["sent"] += 1
                allowance -= 0 if started else 1
    log.info("priority alerts: %s, %d channel(s) failed", counts, len(failures))
    if failures:
        raise AlertDeliveryError(f"{len(failures)} alert channel(s) could not be sent (tried again by the next "
                                 f"run): {failures}")
    return counts
