"""E-mail through the SMTP server of the settings (SMTP_*): alerts and digests to a site's CS team."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any


def message(sender: str, to: list[str], subject: str, text: str, html: str, delivery_id: str) -> EmailMessage:
    """A plain-text e-mail with an HTML alternative; ``X-Guide-Delivery`` names the alert."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    msg["X-Guide-Delivery"] = delivery_id
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(cfg: Mapping[str, Any], msg: EmailMessage, timeout: float) -> None:
    """Hand ``msg`` to SMTP_HOST; raises OSError (smtplib's errors are OSErrors) unless it was accepted."""
    host, port, tls = cfg["SMTP_HOST"], cfg["SMTP_PORT"], cfg["SMTP_TLS"]
    if not host:
        raise OSError("SMTP_HOST is not set")
    context = ssl.create_default_context()
    try:
        if tls == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if tls == "starttls":
                client.starttls(context=context)
            if cfg["SMTP_USER"]:
                client.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            client.send_message(msg)
    except OSError as exc:
        raise OSError(f"SMTP: {type(exc).__name__}: {exc}"[:300]) from None
