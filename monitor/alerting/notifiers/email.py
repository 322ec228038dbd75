"""Email through the SMTP server of the settings: an alert as plain text and HTML in one
multipart message; a report as a short text with the document attached."""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from monitor.alerting.messages import Message, html_body, subject, text
from monitor.alerting.notifiers.base import ChannelSettings, Notifier, Secrets, TransportError
from monitor.alerting.reports import ReportMessage

if TYPE_CHECKING:
    from monitor.alerting.settings import SmtpSettings


def valid_address(address: str) -> bool:
    _, parsed = parseaddr(address)
    local, _, domain = parsed.partition("@")
    return bool(parsed) and parsed == address.strip() and bool(local) and "." in domain[1:]


class EmailSettings(ChannelSettings):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    inline: ClassVar[str | None] = "to"


class EmailNotifier(Notifier):
    kind = "email"
    Settings = EmailSettings
    no_reports = None

    @classmethod
    def from_settings(cls, settings: EmailSettings, secrets: Secrets,
                      smtp: SmtpSettings | None) -> EmailNotifier:
        if smtp is None:
            raise TransportError("email needs an smtp: section in meshwatch.yaml", permanent=True)
        password = smtp.password.get_secret_value() if smtp.password else None
        return cls(to=[secrets.required(a) for a in settings.to], host=smtp.host, port=smtp.port,
                   from_address=smtp.from_address, username=secrets(smtp.username),
                   password=secrets(password, sensitive=True), starttls=smtp.starttls,
                   ca_file=smtp.ca_file, timeout=smtp.timeout)

    def __init__(self, to: list[str], host: str, port: int = 25, from_address: str = "meshwatch@localhost",
                 username: str | None = None, password: str | None = None, starttls: bool = False,
                 ca_file: str | None = None, timeout: timedelta = timedelta(seconds=10)):
        self.to, self.host, self.port, self.from_address = to, host, port, from_address
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout
        self.ca_file = ca_file

    def send(self, message: Message) -> None:
        email = self._email(subject(message), message.delivery_id)
        email.set_content(text(message))
        email.add_alternative(html_body(message), subtype="html")
        self._submit(email)

    def send_report(self, report: ReportMessage) -> None:
        email = self._email(report.subject, report.delivery_id)
        email.set_content(report.text())
        maintype, subtype = report.media_type.split("/")
        # the document's exact bytes (base64), whatever its lines and characters
        email.add_attachment(report.content.encode("utf-8"), maintype=maintype, subtype=subtype,
                             filename=report.filename, params={"charset": "utf-8"})
        self._submit(email)

    def _email(self, subject_line: str, delivery_id: str | None) -> EmailMessage:
        bad = [address for address in self.to if not valid_address(address)]
        if bad:
            raise TransportError(f"invalid email address {bad[0]!r}", permanent=True)
        email = EmailMessage()
        email["Subject"] = subject_line
        email["From"] = self.from_address
        email["To"] = ", ".join(self.to)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain="meshwatch")
        if delivery_id:
            email["X-Meshwatch-Delivery"] = delivery_id
        return email

    def _submit(self, email: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout.total_seconds()) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise TransportError(f"the server refused the recipient(s): {_reply(error.recipients)}",
                                 permanent=all(code >= 500 for code in codes)) from None
        except smtplib.SMTPAuthenticationError as error:
            raise TransportError(f"SMTP login refused ({error.smtp_code})", permanent=True) from None
        except smtplib.SMTPResponseException as error:
            raise TransportError(f"SMTP {error.smtp_code}: {_decode(error.smtp_error)}",
                                 permanent=error.smtp_code >= 500) from None
        except smtplib.SMTPNotSupportedError as error:
            raise TransportError(f"the SMTP server does not support it: {error}",
                                 permanent=True) from None
        except ssl.SSLError as error:
            raise TransportError(f"TLS with {self.host}:{self.port} failed: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TransportError(f"cannot send through {self.host}:{self.port}: {error}") from None


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(recipients: dict) -> str:
    return "; ".join(f"{address}: {code} {_decode(reply)}"
                     for address, (code, reply) in recipients.items())
