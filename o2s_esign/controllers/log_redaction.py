# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Keep signing-link tokens out of the server logs.

The HTTP access log (``werkzeug``) and Odoo's request logging print paths and query strings;
a signing link holds its token in its path (``/esign/sign/<id>/<token>``). This filter rewrites
any log record mentioning such a path (plain or URL-encoded, e.g. in a ``file=`` parameter) to
show ``[redacted]`` instead of the token. It is installed on the loggers that print URLs and on
the root handlers, so records of any logger are covered.
"""
import logging
import re

#: a signing path followed by its token (plain or percent-encoded slashes)
_SIGNING_TOKEN = re.compile(
    r"((?:/|%2[fF])esign(?:/|%2[fF])sign(?:/|%2[fF])\d+(?:/|%2[fF]))[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted]"
LOGGERS = ("werkzeug", "odoo.http", "odoo.addons.http_routing.models.ir_http",
           "odoo.addons.base.models.ir_http")


def redact(text):
    """``text`` with the token of every signing path replaced by ``[redacted]``."""
    return _SIGNING_TOKEN.sub(r"\1" + REDACTED, text)


class SigningTokenFilter(logging.Filter):
    """Rewrites records whose message holds a signing-link token (never drops a record)."""

    o2s_esign_redaction = True

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formatted record is not ours to break
            return True
        if "esign" not in message:
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def _has_filter(filterer):
    return any(getattr(f, "o2s_esign_redaction", False) for f in filterer.filters)


def install():
    """Add the filter to the URL-printing loggers and to the root handlers (idempotent)."""
    targets = [logging.getLogger(name) for name in LOGGERS] + list(logging.getLogger().handlers)
    for target in targets:
        if not _has_filter(target):
            target.addFilter(SigningTokenFilter())


install()
