"""Delivering e-mails: over SMTP (connection reuse, TLS, login, rate limit) or to the built-in mailbox."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from studyapp.core.models import MailboxMessage
from waves.messages import OutgoingMessage


class TemporaryFailure(Exception):
    """The server asked to try again later (4xx) or could not be reached."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx): only this recipient fails."""


class Transport:
    """Something that delivers one e-mail at a time."""

    def send(self, message: OutgoingMessage) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class RateLimiter:
    """At most ``per_second`` messages per second on average (0 means no limit)."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = max(self._next, now) + self.interval


class SmtpTransport(Transport):
    """SMTP with one reused connection, optional STARTTLS or implicit TLS, and login."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "none",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        rate_per_second: float = 0.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self.limiter = RateLimiter(rate_per_second)
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=context)
        if self.user:
            smtp.login(self.user, self.password)
        return smtp

    def send(self, message: OutgoingMessage) -> None:
        """Send one message; :class:`TemporaryFailure` or :class:`PermanentFailure` say what went wrong.

        A failure that belongs to this message alone (a refused or unencodable address, a 5xx, anything
        unforeseen) is permanent for it and leaves the connection usable for the next one; only an
        unreachable server is temporary for every message.
        """
        self.limiter.wait()
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                refused = self._smtp.sendmail(
                    message.sender, [message.recipient], message.raw, mail_options=self._options(message)
                )
            except smtplib.SMTPServerDisconnected as error:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"server disconnected: {error}") from None
                continue  # a reused connection may have timed out: reconnect once
            except smtplib.SMTPRecipientsRefused as error:
                code, reason = next(iter(error.recipients.values()))
                raise _failure(code, reason) from None
            except smtplib.SMTPResponseException as error:
                self._reset()
                raise _failure(error.smtp_code, error.smtp_error) from None
            except (OSError, smtplib.SMTPException) as error:
                self._drop()
                raise TemporaryFailure(f"cannot reach {self.host}:{self.port}: {error}") from None
            except (ValueError, TypeError) as error:  # e.g. UnicodeEncodeError: this message only
                self._reset()
                raise PermanentFailure(f"cannot be sent: {type(error).__name__}: {error}") from None
            if refused:
                code, reason = next(iter(refused.values()))
                raise _failure(code, reason)
            return

    def _options(self, message: OutgoingMessage) -> list[str]:
        """``MAIL FROM`` options: SMTPUTF8 for an international address, when the server offers it."""
        if not message.international:
            return []
        assert self._smtp is not None
        self._smtp.ehlo_or_helo_if_needed()
        if not self._smtp.has_extn("smtputf8"):
            raise PermanentFailure(
                "the address has international (non-ASCII) characters before the @ and the mail server "
                "does not offer SMTPUTF8, so it cannot take it"
            )
        return ["SMTPUTF8", "BODY=8BITMIME"] if self._smtp.has_extn("8bitmime") else ["SMTPUTF8"]

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def _failure(code: int, reason: bytes | str) -> Exception:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    message = f"{code} {text}".strip()
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)


class MailboxTransport(Transport):
    """Keeps messages in the database, for local use without an SMTP server (shown in the admin)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, message: OutgoingMessage) -> None:
        try:
            with Session(self.engine) as session:
                session.add(
                    MailboxMessage(
                        message_id=message.message_id,
                        recipient=message.recipient[:254],
                        subject=message.subject[:300],
                        raw=message.raw.decode("utf-8"),
                    )
                )
                session.commit()
        except OperationalError as error:
            raise TemporaryFailure(f"cannot reach the database: {str(error).splitlines()[0][:200]}") from None
        except (SQLAlchemyError, ValueError) as error:  # this message only (e.g. a value the column refuses)
            first_line = str(error).splitlines()[0][:200]
            raise PermanentFailure(f"cannot be kept: {type(error).__name__}: {first_line}") from None


class MailSettings(Protocol):
    """The settings a transport is made from (``studyapp.settings.Settings`` has them)."""

    @property
    def smtp_host(self) -> str: ...

    @property
    def smtp_port(self) -> int: ...

    @property
    def smtp_security(self) -> str: ...

    @property
    def smtp_user(self) -> str: ...

    @property
    def smtp_password(self) -> str: ...

    @property
    def smtp_rate_per_second(self) -> float: ...

    @property
    def smtp_connections(self) -> int: ...


def transport_from_settings(settings: MailSettings, engine: Engine) -> Transport:
    """SMTP when ``SMTP_HOST`` is set, else the built-in mailbox."""
    if settings.smtp_host:
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            rate_per_second=settings.smtp_rate_per_second,
        )
    return MailboxTransport(engine)


def extra_transports_from_settings(settings: MailSettings, engine: Engine) -> list[Transport]:
    """The further SMTP connections ``SMTP_CONNECTIONS`` asks for (none for the built-in mailbox)."""
    if not settings.smtp_host:
        return []
    return [transport_from_settings(settings, engine) for _ in range(settings.smtp_connections - 1)]
