# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Keep signing-link tokens out of the server logs.

The HTTP access log (``werkzeug``) and Odoo's request logging print paths and query strings;
a signing link holds its token in its path (``/esign/sign/<id>/<token>``). Every log record
is rewritten when it is created (a log record factory: whatever the logger, handler or
formatter, and whenever they were set up) to show ``[redacted]`` instead of the token, for
plain and URL-encoded paths (e.g. in a ``file=`` parameter).
"""
import logging
import re

#: a signing path followed by its token (plain or percent-encoded slashes), with or without the
#: signer's id (a mangled link still holds a real token)
_SIGNING_TOKEN = re.compile(
    r"((?:/|%2[fF])esign(?:/|%2[fF])sign(?:/|%2[fF])(?:\d+(?:/|%2[fF]))?)[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted]"


def redact(text):
    """``text`` with the token of every signing path replaced by ``[redacted]``."""
    return _SIGNING_TOKEN.sub(r"\1" + REDACTED, text)


def redact_record(record):
    """Rewrite ``record`` in place if its message holds a signing-link token."""
    try:
        message = record.getMessage()
    except Exception:
        return record
    if "esign" in message:
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
    return record


def install():
    """Wrap the current log record factory (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "o2s_esign_redaction", False):
        return

    def factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))

    factory.o2s_esign_redaction = True
    logging.setLogRecordFactory(factory)


install()
