# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, keeping what it receives."""
import email
import email.policy
import logging
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SmtpSink:
    """An aiosmtpd handler that keeps what it receives as ``messages``: (sender, recipients,
    parsed message). ``login``/``password`` (optional) are the only credentials it accepts."""

    def __init__(self, login=None, password=None):
        self.messages = []
        self.logins = []
        self.login, self.password = login, password
        self._received = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._received:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self._received.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.login
              and auth_data.password.decode() == self.password)
        if ok:
            self.logins.append(self.login)
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself

    def wait(self, count, timeout=10):
        """The messages, once ``count`` arrived or ``timeout`` seconds passed (no blind sleep)."""
        with self._received:
            self._received.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages

    def wait_for(self, predicate, timeout=10):
        """The first message (sender, recipients, message) for which ``predicate`` is true, once
        it arrived, or None after ``timeout`` seconds (woken by each arrival, no blind sleep)."""
        def found():
            return next((item for item in self.messages if predicate(*item)), None)

        with self._received:
            self._received.wait_for(found, timeout)
            return found()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp(sink, port):
    """Serve ``sink`` on 127.0.0.1:``port`` (with AUTH LOGIN/PLAIN when it has a login)."""
    kwargs = {}
    if sink.login:
        kwargs = {"authenticator": sink.authenticate, "auth_require_tls": False}
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def quiet_smtp_log(test_class):
    """aiosmtpd logs every command, and warns (from its own thread) that AUTH without TLS and
    its own login_data attribute are for tests only: keep its logger to errors."""
    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.ERROR)
    test_class.addClassCleanup(logger.setLevel, level)


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()
