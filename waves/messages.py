"""Invitation and reminder texts: built-in defaults in Dutch and English, a study's own edits,
placeholders, and the multipart e-mail they become."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import string
from dataclasses import dataclass
from email.utils import format_datetime, formataddr, parseaddr

from sqlmodel import Session, select

from studyapp.core.models import MessageTemplate

PLACEHOLDERS = {
    "name": "the participant's name, or a greeting word when unknown",
    "title": "the professional title the participant chose last time (e.g. 'engineer')",
    "study": "the study's name",
    "wave": "the wave's label",
    "closes_on": "the date the participant's window closes",
    "link": "the personal link to the questionnaire",
    "stop_link": "the link to stop e-mails, withdraw or erase data",
}

DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    ("invitation", "nl"): (
        "Uitnodiging: {study} – meting {wave}",
        "Beste {name},\n\nDe nieuwe meting van {study} staat voor je klaar. Het invullen duurt ongeveer "
        "20 minuten en kan op je telefoon, tablet of computer. Je kunt tussendoor stoppen en later verder "
        "gaan; je antwoorden blijven bewaard.\n\nJe persoonlijke link: {link}\n\nDe meting sluit op "
        "{closes_on}.\n\nAlvast bedankt!\nHet onderzoeksteam van {study}\n\nGeen e-mails meer ontvangen of "
        "stoppen met het onderzoek? {stop_link}",
    ),
    ("invitation", "en"): (
        "Invitation: {study} – wave {wave}",
        "Dear {name},\n\nThe new wave of {study} is ready for you. It takes about 20 minutes on your phone, "
        "tablet or computer. You can stop at any time and continue later; your answers are kept.\n\nYour "
        "personal link: {link}\n\nThe wave closes on {closes_on}.\n\nThank you!\nThe {study} research "
        "team\n\nNo more e-mails, or leave the study? {stop_link}",
    ),
    ("reminder", "nl"): (
        "Herinnering: {study} – meting {wave} sluit op {closes_on}",
        "Beste {name},\n\nJe hebt de meting {wave} van {study} nog niet afgerond. Je antwoorden tot nu toe "
        "zijn bewaard: je gaat verder waar je gebleven was.\n\nJe persoonlijke link: {link}\n\nDe meting "
        "sluit op {closes_on}.\n\nHet onderzoeksteam van {study}\n\nGeen e-mails meer ontvangen of stoppen "
        "met het onderzoek? {stop_link}",
    ),
    ("reminder", "en"): (
        "Reminder: {study} – wave {wave} closes on {closes_on}",
        "Dear {name},\n\nYou have not finished wave {wave} of {study} yet. Your answers so far are kept: you "
        "continue where you left off.\n\nYour personal link: {link}\n\nThe wave closes on {closes_on}.\n\nThe "
        "{study} research team\n\nNo more e-mails, or leave the study? {stop_link}",
    ),
}
GREETING = {"nl": "deelnemer", "en": "participant"}
MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


class TemplateError(ValueError):
    """A template with an unknown or malformed placeholder."""


def check_template(text: str) -> None:
    """Raise :class:`TemplateError` unless every ``{placeholder}`` in ``text`` is known."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise TemplateError(f"Malformed placeholder: {error}. Write placeholders as {{name}}.") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise TemplateError(f"Unknown placeholder {{{unknown[0]}}}; use {known}.")


def template_for(*, session: Session, study_id: int, kind: str, language: str) -> tuple[str, str]:
    """The subject and body a study uses for ``kind`` in ``language`` (its own, else the default)."""
    own = session.exec(
        select(MessageTemplate).where(
            MessageTemplate.study_id == study_id, MessageTemplate.kind == kind, MessageTemplate.language == language
        )
    ).first()
    if own is not None:
        return own.subject, own.body
    return DEFAULTS[(kind, language)]


def local_date(moment, tz: str, language: str) -> str:
    """A date written out, e.g. '28 december 2026'."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(tz))
    return f"{local.day} {MONTHS[language][local.month - 1]} {local.year}"


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready to become an e-mail."""

    subject: str
    text: str
    html: str


_URL = re.compile(r"(https?://[^\s<]+)")


BUTTON = {"nl": "Open de vragenlijst", "en": "Open the questionnaire"}
_BUTTON_STYLE = (
    "display:inline-block;margin-top:8px;padding:12px 20px;background:#0b5d7a;color:#ffffff;"
    "border-radius:8px;text-decoration:none;font-weight:bold"
)


def render(subject: str, body: str, context: dict[str, str], *, language: str) -> RenderedMessage:
    """Fill the placeholders; the HTML part escapes every value and shows the personal link as a button."""
    plain_subject = subject.format_map(context).replace("\n", " ")
    text_body = body.format_map(context)
    escaped = {key: html.escape(value) for key, value in context.items()}
    paragraphs = []
    for paragraph in html.escape(body, quote=False).split("\n\n"):
        if "{link}" in paragraph:
            filled = paragraph.replace("{link}", "").format_map(escaped).replace("\n", "<br>")
            filled += f'<br><a href="{escaped["link"]}" style="{_BUTTON_STYLE}">{BUTTON[language]}</a>'
        else:
            filled = _URL.sub(
                r'<a href="\1" style="color:#0b5d7a">\1</a>', paragraph.format_map(escaped).replace("\n", "<br>")
            )
        paragraphs.append(f'<p style="margin:0 0 16px">{filled}</p>')
    page = (
        '<!doctype html><html><body style="margin:0;background:#f4f6f9;font-family:Arial,Helvetica,sans-serif;'
        'color:#1b2430"><div style="max-width:560px;margin:0 auto;padding:24px">'
        '<div style="background:#0b5d7a;color:#fff;padding:14px 20px;border-radius:10px 10px 0 0;font-weight:bold">'
        f'{escaped.get("study", "")}</div><div style="background:#fff;padding:24px 20px;border-radius:0 0 10px 10px;'
        f'line-height:1.5">{"".join(paragraphs)}</div></div></body></html>'
    )
    return RenderedMessage(subject=plain_subject, text=text_body, html=page)


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID derived from the outbox key, so a repeated message is recognisable."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


@dataclass(frozen=True)
class OutgoingMessage:
    """An e-mail ready for SMTP: envelope addresses, Message-ID and the bytes to send."""

    sender: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes

    def __getitem__(self, header: str) -> str:  # the few headers callers read
        return {"Message-ID": self.message_id, "To": self.recipient, "Subject": self.subject}[header]


def _encoded_word(text: str) -> str:
    """A header value as an RFC 2047 encoded word when it is not plain ASCII."""
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _address(name: str, address: str) -> str:
    if not name:
        return address
    if name.isascii() and not any(c in name for c in '()<>[]:;@\\,."'):
        return f"{name} <{address}>"
    if name.isascii():
        return formataddr((name, address))
    return f"{_encoded_word(name)} <{address}>"


def _body_part(content: str, subtype: str) -> bytes:
    encoded = base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode("ascii")
        + encoded
    )


def build_email(
    *,
    rendered: RenderedMessage,
    sender: str,
    recipient: str,
    recipient_name: str,
    message_id: str,
    unsubscribe_url: str | None,
    date,
) -> OutgoingMessage:
    """A multipart (text and HTML) e-mail with List-Unsubscribe headers when there is a stop link.

    Serialised directly (RFC 5322 headers, RFC 2047 encoded words, base64 bodies): the standard
    library's ``email`` package takes several milliseconds per message, which matters at hundreds of
    messages a second. The tests parse what arrives with the standard library.
    """
    boundary = "=_btg_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    sender_name, sender_address = parseaddr(sender)
    headers = [
        f"From: {_address(sender_name, sender_address)}",
        f"To: {_address(recipient_name, recipient)}",
        f"Subject: {_encoded_word(rendered.subject)}",
        f"Message-ID: {message_id}",
        f"Date: {format_datetime(date)}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    if unsubscribe_url:
        headers += [f"List-Unsubscribe: <{unsubscribe_url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    raw = (
        "\r\n".join(headers).encode("utf-8")
        + b"\r\n\r\n"
        + f"--{boundary}\r\n".encode()
        + _body_part(rendered.text, "plain")
        + f"--{boundary}\r\n".encode()
        + _body_part(rendered.html, "html")
        + f"--{boundary}--\r\n".encode()
    )
    return OutgoingMessage(
        sender=sender_address, recipient=recipient, message_id=message_id, subject=rendered.subject, raw=raw
    )
