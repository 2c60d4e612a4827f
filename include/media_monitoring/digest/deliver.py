"""Deliver a rendered digest exactly once per (day, subscription): by SMTP or to an outbox folder.

A send log row is written as "sending" before the transport is called and set to "sent" after.
A rerun or retry finds "sent" and sends nothing. A transport error leaves "failed" with the error and
the attempt count, and the next run tries again. A crash between the two leaves "sending": the next
attempt sends again with the same Message-ID, so mail clients show one message.
"""

from __future__ import annotations

import email.policy
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from media_monitoring.config import Analysts, Subscription
from media_monitoring.digest.render import RenderedDigest
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import digests as store

log = logging.getLogger(__name__)

SmtpSend = Callable[[str, list[str], bytes], None]  # (envelope sender, recipients, message)


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "digest"


def addressed_message(analysts: Analysts, subscription: Subscription, subject: str, *, kind: str, key: str,
                      now: datetime) -> EmailMessage:
    """A message's headers for one subscription: a Message-ID stable per (kind, key, subscription), so a
    message sent again after a crash is one message to mail clients, and an ``X-Media-Monitor-<Kind>`` tag."""
    msg = EmailMessage()  # the default policy refuses CR/LF in header values
    msg["Subject"] = subject
    msg["From"] = analysts.sender
    msg["To"] = subscription.email
    if analysts.reply_to:
        msg["Reply-To"] = analysts.reply_to
    domain = analysts.sender.rsplit("@", 1)[-1].strip(" >") or "media-monitor.local"
    msg["Message-ID"] = f"<{kind}.{key}.{slug(subscription.name)}@{domain}>"
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg[f"X-Media-Monitor-{kind.capitalize()}"] = f"{key}; {slug(subscription.name)}"
    return msg


def build_message(rendered: RenderedDigest, analysts: Analysts, subscription: Subscription, day: date,
                  created_at: datetime) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML second."""
    msg = addressed_message(analysts, subscription, rendered.subject, kind="digest", key=day.isoformat(),
                            now=created_at)
    # quoted-printable keeps every line under SMTP's 998-character limit (inlined CSS makes long lines)
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return msg


def envelope_sender(analysts: Analysts) -> str:
    match = re.search(r"<([^>]+)>", analysts.sender)
    return match.group(1) if match else analysts.sender.strip()


def _body(msg: EmailMessage, subtype: str) -> str:
    """The text of the message's ``text/<subtype>`` part (a digest message has a plain and an HTML one)."""
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        raise ValueError(f"message {msg['Message-ID']} has no text/{subtype} part")
    return str(part.get_content())


def deliver(
    wh: Warehouse,
    msg: EmailMessage,
    *,
    day: date,
    subscription: Subscription,
    run_id: str,
    sender: str,
    smtp_send: SmtpSend | None,
    outbox_dir: Path,
    now: datetime,
) -> str:
    """Send ``msg`` unless the send log says it went out. Returns "sent" or "already_sent"."""
    prior = store.sent(wh, day, subscription.name)
    if prior and prior["status"] == "sent":
        log.info("digest %s for %s already sent (%s, %s); nothing to do", day, subscription.name,
                 prior["transport"], prior["message_id"])
        return "already_sent"
    transport = "smtp" if smtp_send else "outbox"
    location = None
    if transport == "outbox":
        location = str(outbox_dir / day.isoformat() / f"{slug(subscription.name)}.eml")
    row = {"digest_date": day, "subscription": subscription.name, "recipients": [subscription.email],
           "message_id": msg["Message-ID"], "subject": msg["Subject"], "transport": transport,
           "location": location, "run_id": run_id, "status": "sending", "sent_at": now,
           "body_text": _body(msg, "plain"), "body_html": _body(msg, "html"),
           "attempts": (prior["attempts"] if prior else 0) + 1, "error": prior["error"] if prior else None}
    store.record_send(wh, row)
    data = msg.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as SMTP and .eml readers expect
    if smtp_send:
        try:
            smtp_send(sender, [subscription.email], data)
        except Exception as exc:
            store.record_send(wh, {**row, "status": "failed", "error": f"{type(exc).__name__}: {exc}"})
            raise
        log.info("digest %s for %s sent by SMTP to %s", day, subscription.name, subscription.email)
    else:
        path = Path(location)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a message
        log.info("digest %s for %s written to %s", day, subscription.name, path)
    store.record_send(wh, {**row, "status": "sent"})
    return "sent"
