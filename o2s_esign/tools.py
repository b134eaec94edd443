# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Small helpers shared by the models and controllers (no business logic here)."""
import base64
import binascii
import contextlib
import logging
import os
import re
import threading

from markupsafe import Markup, escape

from odoo.tools import config, email_split

from .lib import crypto

_logger = logging.getLogger(__name__)
_guard = threading.local()


@contextlib.contextmanager
def internal_write():
    """Allow the module's own code to write protected fields (states, hashes, sent documents).

    The flag lives in a thread-local, not in the context: an RPC caller controls the context it
    sends, but cannot enter this block, so protected fields stay read-only through the API.
    """
    depth = getattr(_guard, "depth", 0)
    _guard.depth = depth + 1
    try:
        yield
    finally:
        _guard.depth = depth


def is_internal_write():
    """True inside :func:`internal_write`."""
    return getattr(_guard, "depth", 0) > 0


_master_key_lock = threading.Lock()
_master_keys = {}


def get_master_key(env):
    """The module's master secret (32 bytes), which the database never holds.

    Looked up, in order: the ``o2s_esign_master_key`` option of the Odoo configuration file
    (base64), the ``O2S_ESIGN_MASTER_KEY`` environment variable (base64), else a key file
    ``<data_dir>/o2s_esign/<database uuid>.key`` created on first use with mode 0600 (the data
    directory must then be shared by every Odoo server of the database, as the filestore is).
    Every secret of the module (private keys at rest, OTP and link HMACs) derives from it.
    """
    dbuuid = env["ir.config_parameter"].sudo().get_param("database.uuid") or env.cr.dbname
    cached = _master_keys.get(dbuuid)
    if cached:
        return cached
    raw = config.get("o2s_esign_master_key") or os.environ.get("O2S_ESIGN_MASTER_KEY")
    if raw:
        try:
            key = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("o2s_esign_master_key is not valid base64") from exc
        if len(key) < 32:
            raise ValueError("o2s_esign_master_key must hold at least 32 bytes")
    else:
        folder = os.path.join(config["data_dir"], "o2s_esign")
        path = os.path.join(folder, "%s.key" % dbuuid)
        with _master_key_lock:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                with open(path, "rb") as handle:
                    key = base64.b64decode(handle.read().strip())
            else:
                key = crypto.generate_master_key()
                with os.fdopen(fd, "wb") as handle:
                    handle.write(base64.b64encode(key))
                _logger.info("o2s_esign: created the master key file for database %s", env.cr.dbname)
    _master_keys[dbuuid] = key
    return key


# ------------------------------------------------------------ shared constants
#: the PAdES levels, for every field that holds one (request, document, company, settings)
PADES_LEVELS = [
    ("b_b", "PAdES B-B (no trusted time)"),
    ("b_t", "PAdES B-T (timestamped)"),
    ("b_lt", "PAdES B-LT (long-term validation data)"),
    ("b_lta", "PAdES B-LTA (archival timestamp)"),
]
#: what the events and the evidence say of the timestamp authority when none is configured
NO_TSA_NOTE = "none: B-B only"

# ---------------------------------------------------------------- mail bodies
BUTTON_STYLE = ("display: inline-block; padding: 10px 16px; text-decoration: none; font-size: 13px; "
                "background-color: #1f5f8b; color: #ffffff; border-radius: 5px;")


def mail_button(url, label):
    """A link styled as a button, for mail bodies (``url`` and ``label`` are escaped)."""
    return Markup('<a href="%s" style="%s">%s</a>') % (url, BUTTON_STYLE, label)


# ------------------------------------------------------------------ free text
# Free text typed by advisors and signers (subject, message, reasons, file names) gets a clear
# error before anything is stored, instead of a server error or a silent surprise: a NUL
# character (which PostgreSQL refuses), other control characters, absurd lengths. See
# tests/fixtures/hostile for the inputs this is checked against.

#: control characters, tab and line breaks excepted
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: one plain address: no spaces, quotes, brackets, commas...; a dot in the domain
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\.]+(\.[^\s@<>()\[\],;:\"\\.]+)+\Z")


def is_single_address(text):
    """True when ``text`` is one email address, alone or as ``Name <address>``, exactly as
    typed. Odoo's ``email_normalize`` makes an address of anything it can: ``a@b@c.com``
    becomes ``b@c.com`` (someone else), ``jeanne@@example.com`` becomes ``@example.com``,
    ``jeanne@exa mple.com`` loses its space; the signing link must go where the advisor meant."""
    if not isinstance(text, str) or text.count("@") != 1 or has_control_chars(text) \
            or "\n" in text or "\r" in text:
        return False
    found = email_split(text)
    return len(found) == 1 and bool(_ADDRESS.match(found[0])) and found[0].lower() in text.lower()


def has_control_chars(text):
    """True when ``text`` (a string) holds a control character other than tab and line breaks."""
    return isinstance(text, str) and bool(_CONTROL.search(text))


def has_nul(vals, names):
    """True when one of the fields ``names`` of ``vals`` is a string holding a NUL character."""
    return any(isinstance(vals.get(name), str) and "\x00" in vals[name] for name in names)


def plaintext_note(text):
    """``text`` as typed by someone (a refusal reason, an error naming a signer) as HTML that
    shows it as plain text: escaped, line breaks kept, nothing made a link or an image."""
    lines = str(text or "").splitlines() or [""]
    return Markup("<p>%s</p>") % Markup("<br/>").join(escape(line) for line in lines)
