"""Invitation and reminder texts: built-in defaults in Dutch and English, a study's own edits,
placeholders, and the multipart e-mail they become."""

from __future__ import annotations

import base64
import email.policy
import functools
import hashlib
import html
import re
import string
from dataclasses import dataclass
from datetime import datetime
from email import headerregistry
from email.utils import format_datetime, parseaddr
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from studyapp.core.inputs import forbidden_character
from studyapp.core.models import MessageTemplate
from waves.i18n import N_, Text, long_date, translated

PLACEHOLDERS = {
    "name": N_("the participant's name, or a greeting word when unknown"),
    "title": N_("the professional title the participant chose last time (e.g. 'engineer')"),
    "study": N_("the study's name"),
    "wave": N_("the wave's label"),
    "closes_on": N_("the date the participant's window closes"),
    "link": N_("the personal link to the questionnaire"),
    "stop_link": N_("the link to stop e-mails, withdraw or erase data"),
}

# The built-in texts, in English; each language's comes from the catalogues (waves.i18n).
_DEFAULTS: dict[str, tuple[str, str]] = {
    "invitation": (
        N_("Invitation: {study} – wave {wave}"),
        N_(
            "Dear {name},\n\nThe new wave of {study} is ready for you. It takes about 20 minutes on your phone, "
            "tablet or computer. You can stop at any time and continue later; your answers are kept.\n\nYour "
            "personal link: {link}\n\nThe wave closes on {closes_on}.\n\nThank you!\nThe {study} research "
            "team\n\nNo more e-mails, or leave the study? {stop_link}"
        ),
    ),
    "reminder": (
        N_("Reminder: {study} – wave {wave} closes on {closes_on}"),
        N_(
            "Dear {name},\n\nYou have not finished wave {wave} of {study} yet. Your answers so far are kept: you "
            "continue where you left off.\n\nYour personal link: {link}\n\nThe wave closes on {closes_on}.\n\nThe "
            "{study} research team\n\nNo more e-mails, or leave the study? {stop_link}"
        ),
    ),
}


@functools.cache
def default_template(kind: str, language: str) -> tuple[str, str]:
    """The built-in subject and body of ``kind`` ("invitation", "reminder") in ``language``."""
    subject, body = _DEFAULTS[kind]
    return translated(language, subject), translated(language, body)


def greeting(language: str) -> str:
    """What stands for ``{name}`` when the participant's name is unknown ("Dear participant")."""
    return translated(language, "participant")


class TemplateError(ValueError):
    """A template with an unknown or malformed placeholder."""


def check_template(text: str) -> None:
    """Raise :class:`TemplateError` unless every placeholder in ``text`` is a plain known ``{name}``.

    Stricter than Python's format syntax, which the text is filled with: no attribute or index
    (``{name.foo}``, ``{0}``), conversion (``{name!r}``) or format spec (``{name:>5}``); a literal
    brace is doubled (``{{``). Each of those would otherwise fail only when a message is filled in.
    """
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError(
            Text(N_("A brace is not closed or not doubled. Write placeholders as {name}, a literal brace as {{."))
        ) from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise TemplateError(
                Text(
                    N_("Unknown placeholder {%(name)s}; use %(known)s (a literal brace is written {{)."),
                    name=name[:40],
                    known=known,
                )
            )
        if spec or conversion:
            raise TemplateError(Text(N_("Write the placeholder as {%(name)s}, without ':' or '!'."), name=name))


def template_for(*, session: Session, study_id: int, kind: str, language: str) -> tuple[str, str]:
    """The subject and body a study uses for ``kind`` in ``language`` (its own, else the default)."""
    own = session.exec(
        select(MessageTemplate).where(
            MessageTemplate.study_id == study_id, MessageTemplate.kind == kind, MessageTemplate.language == language
        )
    ).first()
    if own is not None:
        return own.subject, own.body
    return default_template(kind, language)


def local_date(moment: datetime, tz: str, language: str) -> str:
    """A date written out, e.g. '28 december 2026'."""
    return long_date(moment.astimezone(ZoneInfo(tz)).date(), language)


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready to become an e-mail."""

    subject: str
    text: str
    html: str
    language: str = ""  # BCP 47 (``nl``, ``en``): the e-mail's Content-Language and its HTML's ``lang``


_URL = re.compile(r"(https?://[^\s<]+)")


_BUTTON_STYLE = (
    "display:inline-block;margin-top:8px;padding:12px 20px;background:#0b5d7a;color:#ffffff;"
    "border-radius:8px;text-decoration:none;font-weight:bold"
)


@functools.lru_cache(maxsize=256)
def _html_paragraphs(body: str) -> tuple[tuple[str, bool], ...]:
    """A template's paragraphs, HTML-escaped, each with whether it holds the personal link (read once per
    template, not once per message)."""
    return tuple(
        (paragraph, any(name == "link" for _, name, _, _ in string.Formatter().parse(paragraph)))
        for paragraph in html.escape(body, quote=False).split("\n\n")
    )


def html_document(body: str, *, language: str, title: str, style: str = "") -> str:
    """A complete HTML e-mail part around ``body`` (already HTML): ``<html lang>`` so a screen reader
    speaks it in its language, and a ``<title>`` (the subject) that mail programs and readers announce."""
    attributes = f' style="{style}"' if style else ""
    return (
        f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body{attributes}>{body}</body></html>"
    )


def render(subject: str, body: str, context: dict[str, str], *, language: str) -> RenderedMessage:
    """Fill the placeholders; the HTML part escapes every value and shows the personal link as a button."""
    plain_subject = one_line(subject.format_map(context))
    text_body = body.format_map(context)
    escaped = {key: html.escape(value) for key, value in context.items()}
    paragraphs = []
    button = translated(language, "Open the questionnaire")
    for paragraph, holds_link in _html_paragraphs(body):
        if holds_link:
            filled = paragraph.format_map({**escaped, "link": ""}).replace("\n", "<br>")
            filled += f'<br><a href="{escaped["link"]}" style="{_BUTTON_STYLE}">{button}</a>'
        else:
            filled = _URL.sub(
                r'<a href="\1" style="color:#0b5d7a">\1</a>', paragraph.format_map(escaped).replace("\n", "<br>")
            )
        paragraphs.append(f'<p style="margin:0 0 16px">{filled}</p>')
    page = html_document(
        '<div style="max-width:560px;margin:0 auto;padding:24px">'
        '<div style="background:#0b5d7a;color:#fff;padding:14px 20px;border-radius:10px 10px 0 0;font-weight:bold">'
        f'{escaped.get("study", "")}</div><div style="background:#fff;padding:24px 20px;border-radius:0 0 10px 10px;'
        f'line-height:1.5">{"".join(paragraphs)}</div></div>',
        language=language,
        title=plain_subject,
        style="margin:0;background:#f4f6f9;font-family:Arial,Helvetica,sans-serif;color:#1b2430",
    )
    return RenderedMessage(subject=plain_subject, text=text_body, html=page, language=language)


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID derived from the outbox key, so a repeated message is recognisable."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{_message_id_domain(sender)}>"


@functools.lru_cache(maxsize=16)
def _message_id_domain(sender: str) -> str:
    """The domain of the configured sender's address, parsed once (not once per message)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class OutgoingMessage:
    """An e-mail ready for SMTP: envelope addresses, Message-ID and the bytes to send.

    ``international`` says the message needs a server that offers SMTPUTF8 (RFC 6531): an address has
    a non-ASCII local part, which no ASCII form can stand for.
    """

    sender: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes
    international: bool = False

    def __getitem__(self, header: str) -> str:  # the few headers callers read
        return {"Message-ID": self.message_id, "To": self.recipient, "Subject": self.subject}[header]


class AddressError(ValueError):
    """An address that cannot be written into an e-mail."""


_ASCII = email.policy.SMTP
_UTF8 = email.policy.SMTP.clone(utf8=True)


_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9'-]+(?: [A-Za-z0-9'-]+)*)?")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


def one_line(text: str) -> str:
    """``text`` safe for one header line: each run of the characters a one-line field may not hold
    (:func:`studyapp.core.inputs.forbidden_character`: CR, LF, NUL and every other control character,
    line separators, bidi controls, lone surrogates) becomes one space. Names and subjects stored before
    those were refused at entry still cannot start a header."""
    if text.isprintable():  # the common case (in C): none of those characters is printable
        return " ".join(text.split())
    return " ".join("".join(" " if forbidden_character(char) else char for char in text).split())


@dataclass(frozen=True)
class Mailbox:
    """An address as SMTP and a header need it: the domain in its IDNA (ASCII) form."""

    name: str
    local_part: str
    domain: str

    @property
    def envelope(self) -> str:
        """The address for ``MAIL FROM`` / ``RCPT TO``."""
        return f"{self.local_part}@{self.domain}"

    @property
    def international(self) -> bool:
        """Whether only a server with SMTPUTF8 can take it (a non-ASCII local part)."""
        return not self.local_part.isascii()

    def header(self, field: str) -> str:
        """The folded header line (with CRLF), as the standard library's header registry builds it.

        A short ASCII address with a name of plain words is written directly, which is what the
        registry writes for it (a property test checks they agree) in a twentieth of the time.
        """
        if self.domain.isascii() and self.local_part.isascii() and _PLAIN_NAME.fullmatch(self.name):
            line = f"{field}: {self.name} <{self.envelope}>" if self.name else f"{field}: {self.envelope}"
            if len(line) <= 78 and _PLAIN_ADDRESS.fullmatch(self.envelope):
                return line + "\r\n"
        policy = _UTF8 if self.international else _ASCII
        address = headerregistry.Address(display_name=self.name, username=self.local_part, domain=self.domain)
        return str(policy.header_factory(field, [address]).fold(policy=policy))


# An ASCII local part of RFC 5322 atoms joined by dots: email-validator takes it as it is (a property test
# checks that they agree), so such an address needs only its domain checked, once per domain.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    """``domain`` checked by email-validator, in its ASCII (IDNA) form; raises EmailNotValidError.

    A study's addresses share a few hundred domains, so a run of 100,000 invitations checks each once.
    """
    return validate_email(f"x@{domain}", check_deliverability=False).ascii_domain


def mailbox(name: str, address: str, *, check: bool = True) -> Mailbox:
    """A :class:`Mailbox` for ``address``, checked with email-validator (``check=False`` only splits it).

    Raises :class:`AddressError` for anything that is not one address: control characters, spaces,
    several ``@``, an invalid domain. A non-ASCII domain becomes its IDNA form (``xn--``).
    """
    if check:
        local, _, domain = address.rpartition("@")
        try:
            if len(local) <= 64 and len(address) <= 254 and _DOT_ATOM.fullmatch(local):
                return Mailbox(name=one_line(name), local_part=local, domain=_checked_domain(domain))
            checked = validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise AddressError(f"not a valid e-mail address: {error}") from None
        return Mailbox(name=one_line(name), local_part=checked.local_part, domain=checked.ascii_domain)
    local, _, domain = address.rpartition("@")
    if not local or not domain or one_line(address) != address or " " in address:
        raise AddressError(f"not a valid e-mail address: {address!r}")
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressError(f"not a valid domain: {domain!r}") from None
    return Mailbox(name=one_line(name), local_part=local, domain=ascii_domain)


@functools.lru_cache(maxsize=16)
def _sender(sender: str) -> tuple[Mailbox, str]:
    """The configured sender (``MAIL_FROM``, e.g. ``Bridge the Gap <btg@localhost>``) and its header, once."""
    name, address = parseaddr(sender)
    checked = mailbox(name, address, check=False)
    return checked, checked.header("From")


@functools.lru_cache(maxsize=1024)
def _subject(text: str) -> tuple[str, str]:
    """The subject on one line, and its folded header (cached: most messages of a wave share one)."""
    subject = one_line(text)
    return subject, str(_ASCII.header_factory("Subject", subject).fold(policy=_ASCII))


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
    date: datetime,
) -> OutgoingMessage:
    """A multipart (text and HTML) e-mail with List-Unsubscribe headers when there is a stop link.

    Every header that carries a name, address or text is made by the standard library's header
    registry (``email.policy.SMTP``; RFC 2047 encoded words, folding) from values with every control
    character removed, so no input can start a header or end the header block. The rest is serialised
    directly (base64 bodies): building the whole message with the ``email`` package takes several
    milliseconds, which matters at hundreds of messages a second. Raises :class:`AddressError` for an
    unusable recipient. The tests parse what arrives with the standard library.
    """
    boundary = "=_btg_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    from_, from_header = _sender(sender)
    to = mailbox(recipient_name, recipient)
    subject, subject_header = _subject(rendered.subject)
    lines = [
        from_header,
        to.header("To"),
        subject_header,
        f"Message-ID: {one_line(message_id)}\r\n",
        f"Date: {format_datetime(date)}\r\n",
        "MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n',
    ]
    if rendered.language:
        lines.append(f"Content-Language: {one_line(rendered.language)}\r\n")
    if unsubscribe_url:
        lines += [
            f"List-Unsubscribe: <{one_line(unsubscribe_url)}>\r\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        ]
    raw = (
        "".join(lines).encode("utf-8")
        + b"\r\n"
        + f"--{boundary}\r\n".encode()
        + _body_part(rendered.text, "plain")
        + f"--{boundary}\r\n".encode()
        + _body_part(rendered.html, "html")
        + f"--{boundary}--\r\n".encode()
    )
    return OutgoingMessage(
        sender=from_.envelope,
        recipient=to.envelope,
        message_id=message_id,
        subject=subject,
        raw=raw,
        international=from_.international or to.international,
    )
