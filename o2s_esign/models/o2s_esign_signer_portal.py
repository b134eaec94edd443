# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signer's side: personal link, signing page text, signature and refusal.

The link token is stateless: ``HMAC(key derived from the master key, db uuid, signer id,
access_nonce)``. Only the random ``access_nonce`` is stored; the token itself is never stored,
logged or put in an event, and is checked in constant time.
"""
import base64
import binascii
import hashlib
import io
import json
import logging
import re
import secrets
import time
from datetime import datetime
from datetime import time as datetime_time
from urllib.parse import urlencode

from markupsafe import Markup, escape

from odoo import _, api, fields, http, models
from odoo.exceptions import UserError
from odoo.tools import format_date, html2plaintext, is_html_empty

from ..lib import crypto as lib_crypto
from ..lib import errors as lib_errors
from ..lib import otp as lib_otp
from ..tools import get_master_key, internal_write, is_internal_write

_logger = logging.getLogger(__name__)

LINK_PURPOSE = "o2s-esign-signer-link"
IN_PERSON_PURPOSE = "o2s-esign-in-person"
#: how long the link of the "Sign in person" button opens the page (seconds)
IN_PERSON_TICKET_SECONDS = 120
SIGNING_ROUTE = "/esign/sign"
#: longest refusal reason accepted (characters)
MAX_REASON_LENGTH = 2000
#: longest typed name accepted (characters)
MAX_NAME_LENGTH = 128
#: largest signature image accepted (bytes, PNG)
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = 4000
SIGNATURE_TYPES = ("typed", "drawn", "uploaded")
#: most views of each kind (signing page, document viewed, document downloaded) logged per signer
#: and per day, across browser sessions (each session logs its first view of the day)
MAX_VIEW_EVENTS_PER_DAY = 20
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

# Fields of this file only the signature process writes.
PORTAL_PROTECTED_FIELDS = {
    "access_nonce", "date_opened", "signature_name", "signature_type", "signature_image",
    "signature_sha256", "sign_pending", "sign_pending_data", "date_sign_intent",
}


class O2sEsignSigner(models.Model):
    _name = "o2s.esign.signer"
    _inherit = ["o2s.esign.signer", "o2s.esign.otp.mixin", "o2s.esign.sms.mixin"]

    access_nonce = fields.Char(
        readonly=True, copy=False, groups="base.group_system",
        help="Random value the signing link is derived from (the link itself is never stored).")
    date_opened = fields.Datetime(string="Link first opened on", readonly=True, copy=False)
    signature_name = fields.Char(string="Signed as", readonly=True, copy=False)
    signature_type = fields.Selection(
        [("typed", "Typed name"), ("drawn", "Drawn"), ("uploaded", "Image")],
        string="Signature kind", readonly=True, copy=False)
    signature_image = fields.Binary(
        string="Signature", attachment=True, readonly=True, copy=False,
        help="The signature image the signer made on the signing page (kept for the evidence).")
    signature_sha256 = fields.Char(string="Signature image SHA-256", readonly=True, copy=False)
    sign_pending = fields.Boolean(
        string="Signature to apply", readonly=True, copy=False,
        help="The signer signed but the signature could not be applied to the documents yet "
             "(a service was down). Retrying the request applies it without asking them again.")
    date_sign_intent = fields.Datetime(string="Signed on the page on", readonly=True, copy=False)
    sign_pending_data = fields.Text(readonly=True, copy=False, groups="base.group_system")

    # ---------------------------------------------------------------- computes
    def _compute_access_url(self):
        for signer in self:
            token = signer._get_signing_token() if signer.id else False
            if token:
                base = signer.request_id.get_base_url().rstrip("/")
                signer.access_url = "%s%s" % (base, signer._get_signing_path(token))
            else:
                signer.access_url = False

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write():
            for vals in vals_list:
                if PORTAL_PROTECTED_FIELDS.intersection(vals):
                    raise UserError(_("The signature data of a signer is set by the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if not is_internal_write() and PORTAL_PROTECTED_FIELDS.intersection(vals):
            raise UserError(_("The signature data of a signer is set by the signature process."))
        return super().write(vals)

    # ------------------------------------------------------------------ actions
    def action_esign_open_in_person(self):
        """Open this signer's page in a new tab, for a client who is with the advisor.

        The opening is logged here, in the button's call (a POST of the web client). The URL
        it returns carries a ticket of this advisor for this signer, valid for a short while,
        so that its route (a GET) has nothing to record: it only marks the advisor's own
        session as "in person" for this signer."""
        self.ensure_one()
        self.check_access("write")
        if self.request_id.state not in ("in_progress", "error") or self.state != "pending":
            raise UserError(_("This signer cannot sign now."))
        httprequest = http.request.httprequest if http.request else None
        self.request_id._log_event("in_person_opened", signer=self, payload={
            "user_id": self.env.user.id, "user": self.env.user.name,
        }, ip_address=httprequest.remote_addr if httprequest else None,
            user_agent=httprequest.headers.get("User-Agent") if httprequest else None)
        expires = int(time.time()) + IN_PERSON_TICKET_SECONDS
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/in_person/%s?%s" % (self.id, urlencode({
                "expires": expires, "ticket": self._in_person_ticket(expires)})),
            "target": "new",
        }

    def _in_person_ticket(self, expires):
        """HMAC of (database, signer, current user, expiry) under a key of its own."""
        key = lib_crypto.derive_key(get_master_key(self.env), IN_PERSON_PURPOSE)
        return lib_otp.make_token(key, "in_person", self._esign_dbuuid(), str(self.id),
                                  str(self.env.uid), str(int(expires)))

    def _check_in_person_ticket(self, expires, ticket):
        """True when ``ticket`` (checked in constant time) is the current user's for this
        signer and has not expired."""
        try:
            expires = int(expires)
        except (TypeError, ValueError):
            return False
        if not ticket or not isinstance(ticket, str) or expires < time.time():
            return False
        key = lib_crypto.derive_key(get_master_key(self.env), IN_PERSON_PURPOSE)
        return lib_otp.check_token(key, ticket, "in_person", self._esign_dbuuid(), str(self.id),
                                   str(self.env.uid), str(expires))

    # ------------------------------------------------------------- link token
    @api.model
    def _signing_link_key(self):
        return lib_crypto.derive_key(get_master_key(self.env), LINK_PURPOSE)

    @api.model
    def _esign_dbuuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid") or self.env.cr.dbname

    def _get_signing_token(self):
        """The token of this signer's link, or False before the request is sent."""
        self.ensure_one()
        nonce = self.sudo().access_nonce
        if not nonce:
            return False
        return lib_otp.make_token(self._signing_link_key(), self._esign_dbuuid(), str(self.id), nonce)

    def _check_signing_token(self, token):
        """True if ``token`` is this signer's link token (constant-time comparison)."""
        self.ensure_one()
        # Without a nonce, compare against a throw-away one so the timing says nothing.
        nonce = self.sudo().access_nonce or secrets.token_hex(16)
        valid = lib_otp.check_token(self._signing_link_key(), token, self._esign_dbuuid(),
                                    str(self.id), nonce)
        return valid and bool(self.sudo().access_nonce)

    def _get_signing_path(self, token=None):
        self.ensure_one()
        return "%s/%s/%s" % (SIGNING_ROUTE, self.id, token or self._get_signing_token())

    def _ensure_access_nonce(self):
        """Give each signer its link nonce (once: the link stays the same for reminders)."""
        for signer in self.sudo():
            if not signer.access_nonce:
                with internal_write():
                    signer.write({"access_nonce": secrets.token_hex(16)})

    def _snapshot_for_send(self):
        res = super()._snapshot_for_send()
        self._ensure_access_nonce()
        return res

    def _send_invitation(self):
        self._ensure_access_nonce()
        failed = self.filtered("invitation_failed")
        if failed:
            with internal_write():
                failed.write({"invitation_failed": False})
        return super()._send_invitation()

    # -------------------------------------------------------------- validity
    def _get_signing_validity(self):
        """What the signing page may offer now, apart from any security check (as survey's
        ``_check_validity``): ``ok``, ``not_your_turn``, ``signed`` (this signer signed, others
        have not), ``sign_pending`` (signed, being applied), ``completed`` (everyone signed),
        ``refused``, ``cancelled``, ``expired``, ``error`` (request paused) or ``not_sent``."""
        self.ensure_one()
        request = self.request_id
        state = request.state
        if state == "draft":
            return "not_sent"
        if state in ("cancelled", "expired", "refused"):
            return state
        if state == "signed":
            return "completed"
        if self.state == "refused":
            return "refused"
        if self.state == "signed":
            return "signed"
        if self.sign_pending:
            return "sign_pending"
        if request.date_deadline and request.date_deadline < fields.Date.context_today(self):
            return "expired"
        if self.state == "waiting":
            return "not_your_turn"
        if state == "error":
            return "error"
        return "ok"

    def _esign_lang(self):
        """The signer's language if it is installed, else the company partner's, else English."""
        self.ensure_one()
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        for lang in (self.lang, self.partner_id.lang, self.request_id.company_id.partner_id.lang):
            if lang in installed:
                return lang
        return "en_US"

    # ------------------------------------------------------ signing-page text
    def _get_signing_page_placeholders(self):
        """The values of the ``{{ name }}`` placeholders of the signing-page text (plain text)."""
        self.ensure_one()
        request = self.request_id
        lang = self._esign_lang()
        return {
            "signer": self.name or self.partner_id.name or "",
            "client": request.partner_id.display_name or "",
            "advisor": request.user_id.name or "",
            "company": request.company_id.name or "",
            "documents": ", ".join(request.document_ids.mapped("name")),
            "request": request.name or "",
            "reference": request.reference or "",
            "deadline": format_date(self.env, request.date_deadline, lang_code=lang)
            if request.date_deadline else "",
        }

    def _get_default_signing_page_text(self):
        """The text shown when the company has not written its own (in the current language)."""
        return Markup(
            "<p>%s</p><p>%s</p><p>%s</p>"
        ) % (
            self.env._("{{ advisor }} ({{ company }}) asks you to sign electronically: {{ documents }}."),
            self.env._("Read each document below. To sign, you receive a one-time code by SMS on "
                       "your mobile phone: entering it confirms that you are the person asked to "
                       "sign."),
            self.env._("By signing, you accept that your electronic signature binds you as a "
                       "handwritten signature would, and that the records of this signature "
                       "(signed documents, timestamps and audit trail kept by {{ company }}) serve "
                       "as proof between the parties."),
        )

    def _get_signing_page_text(self):
        """The signing-page text for this signer, in their language, placeholders filled in.

        Returns ``(html, sha256)``: ``html`` is what the page shows (Markup) and ``sha256`` the
        hex SHA-256 of its UTF-8 bytes, recorded in the ``consent_given`` event."""
        self.ensure_one()
        signer = self.with_context(lang=self._esign_lang())
        company_sudo = signer.request_id.company_id.sudo()
        source = company_sudo.esign_signing_page_text
        if is_html_empty(source):
            source = signer._get_default_signing_page_text()
        values = signer._get_signing_page_placeholders()

        def replace(match):
            key = match.group(1)
            if key not in values:
                return match.group(0)
            return str(escape(values[key]))

        # The source is the sanitized Html field (or our own Markup); every value is escaped.
        html = Markup(_PLACEHOLDER.sub(replace, str(source)))  # noqa: S704
        return html, hashlib.sha256(str(html).encode("utf-8")).hexdigest()

    # ----------------------------------------------------------------- events
    def _log_portal_event(self, event_type, payload=None, ip_address=None, user_agent=None):
        self.ensure_one()
        return self.request_id._log_event(event_type, signer=self, payload=payload,
                                          ip_address=ip_address, user_agent=user_agent)

    def _log_page_view(self, validity, ip_address=None, user_agent=None, in_person=False,
                       first_today=True):
        """Log a view of the signing page (and the first opening of the link).

        ``first_today``: whether this browser session shows this page for the first time today
        (the controller remembers it in the session); later views are not logged again, so
        that reloading a page cannot grow the audit trail (see ``_log_view_event``)."""
        self.ensure_one()
        if not self.date_opened and validity == "ok":
            with internal_write():
                self.write({"date_opened": fields.Datetime.now()})
            self._log_portal_event("link_opened", {"in_person": in_person},
                                   ip_address=ip_address, user_agent=user_agent)
        if first_today:
            self._log_view_event("page_viewed", {"page": validity, "in_person": in_person},
                                 ip_address=ip_address, user_agent=user_agent)

    def _log_view_event(self, event_type, payload, ip_address=None, user_agent=None):
        """Log a page or document view, at most MAX_VIEW_EVENTS_PER_DAY of this signer per day
        (UTC) and per kind, whatever the browser sessions: a visitor without cookies, each GET
        a new session, cannot grow the audit trail without bound. Returns the event or None."""
        self.ensure_one()
        today = datetime.combine(fields.Datetime.now().date(), datetime_time.min)
        logged = self.env["o2s.esign.event"].sudo().search_count([
            ("request_id", "=", self.request_id.id), ("signer_id", "=", self.id),
            ("event_type", "=", event_type), ("date", ">=", today)])
        if logged >= MAX_VIEW_EVENTS_PER_DAY:
            return None
        return self._log_portal_event(event_type, payload, ip_address=ip_address,
                                      user_agent=user_agent)

    # --------------------------------------------------------------- refusal
    def _portal_refuse(self, reason, ip_address=None, user_agent=None):
        """The signer refuses to sign. Returns an error message, or False when done."""
        self.ensure_one()
        reason = (reason or "").strip() if isinstance(reason, str) else ""
        if not reason:
            return _("Please give the reason of your refusal.")
        if len(reason) > MAX_REASON_LENGTH:
            return _("The reason is too long (%(max)s characters at most).", max=MAX_REASON_LENGTH)
        if self._get_signing_validity() not in ("ok", "error"):
            return _("This request cannot be refused any more.")
        with internal_write():
            self.write({"state": "refused", "date_refused": fields.Datetime.now(),
                        "refusal_reason": reason})
        self._log_portal_event("refused", {"reason": reason}, ip_address=ip_address,
                               user_agent=user_agent)
        self.request_id._check_completion()
        return False

    # --------------------------------------------------------------- signing
    @api.model
    def _parse_signature_image(self, data):
        """The PNG bytes of a base64 signature image, or None when it is not an acceptable PNG."""
        if not isinstance(data, str) or not data or len(data) > MAX_SIGNATURE_BYTES * 4 // 3 + 8:
            return None
        if data.startswith("data:"):
            data = data.partition(",")[2]
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) > MAX_SIGNATURE_BYTES or not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            return None
        from PIL import Image  # Odoo's own dependency
        try:
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
                if image.format != "PNG" or not (0 < width <= MAX_SIGNATURE_PIXELS) \
                        or not (0 < height <= MAX_SIGNATURE_PIXELS):
                    return None
                image.verify()
        except Exception:
            return None
        return raw

    def _portal_sign(self, values, ip_address=None, user_agent=None, in_person=False):
        """Sign from the page: ``values`` holds ``consent`` (bool), ``consent_sha256`` (the hash
        of the signing-page text the page showed), ``name``, ``signature`` (base64 PNG) and
        ``signature_type``. The caller checked the link and the verified SMS code.

        Returns a dict: ``{"error": message}`` when nothing was done; ``{"state": "signed"}``
        when done; ``{"state": "sign_pending", "message": ...}`` when the signature is recorded
        but could not be applied yet (the request is in error and retrying applies it)."""
        self.ensure_one()
        values = values if isinstance(values, dict) else {}
        if self._get_signing_validity() != "ok":
            return {"error": _("This request cannot be signed any more.")}
        if values.get("consent") is not True:
            return {"error": _("Please tick the box to confirm you have read the documents and "
                               "accept to sign them.")}
        text, text_sha256 = self._get_signing_page_text()
        if values.get("consent_sha256") != text_sha256:
            return {"error": _("The text of this page has changed since you opened it. Please "
                               "reload the page and read it again.")}
        name = values.get("name")
        name = " ".join(name.split()) if isinstance(name, str) else ""
        if not name:
            return {"error": _("Please type your full name.")}
        if len(name) > MAX_NAME_LENGTH or not name.isprintable():
            return {"error": _("The name is too long or contains characters that cannot be used.")}
        signature_type = values.get("signature_type")
        if signature_type not in SIGNATURE_TYPES:
            signature_type = "typed"
        image = self._parse_signature_image(values.get("signature"))
        if image is None:
            return {"error": _("The signature could not be read. Please sign again.")}
        now = fields.Datetime.now()
        image_sha256 = hashlib.sha256(image).hexdigest()
        self._log_portal_event("consent_given", {
            "consent_sha256": text_sha256,
            "consent_text": str(text),
            "consent_text_plain": html2plaintext(str(text)),
            "label": self.env._("I have read the documents and the text above, and I accept to "
                                "sign them electronically."),
            "lang": self._esign_lang(),
            "in_person": in_person,
        }, ip_address=ip_address, user_agent=user_agent)
        with internal_write():
            self.write({
                "signature_name": name,
                "signature_type": signature_type,
                "signature_image": base64.b64encode(image),
                "signature_sha256": image_sha256,
                "sign_pending": True,
                "date_sign_intent": now,
            })
            self.sudo().write({"sign_pending_data": json.dumps({
                "ip_address": ip_address or None,
                "user_agent": (user_agent or "")[:512] or None,
                "consent_sha256": text_sha256,
                "in_person": bool(in_person),
                "otp_verified_at": fields.Datetime.to_string(self.otp_verified_at)
                if self.otp_verified_at else None,
            })})
        if self._apply_pending_signature():
            return {"state": "signed"}
        return {
            "state": "sign_pending",
            "message": _("Your signature is recorded. It could not be applied to the documents "
                         "yet because a service is unavailable; it will be applied as soon as "
                         "possible, with nothing more to do on your side."),
        }

    def _get_pending_signature(self):
        """The signature kept for this signer, as ``_sign_documents`` receives it."""
        self.ensure_one()
        data = json.loads(self.sudo().sign_pending_data or "{}")
        image = base64.b64decode(self.signature_image) if self.signature_image else b""
        return {
            "name": self.signature_name,
            "type": self.signature_type,
            "image": image,
            "image_sha256": self.signature_sha256,
            "date": self.date_sign_intent,
            "ip_address": data.get("ip_address"),
            "user_agent": data.get("user_agent"),
            "consent_sha256": data.get("consent_sha256"),
            "otp_verified_at": data.get("otp_verified_at"),
            "in_person": bool(data.get("in_person")),
        }

    def _apply_pending_signature(self):
        """Apply the recorded signature to the documents, in a savepoint.

        True when the signer is now signed. When ``_sign_documents`` raises an ``EsignError``
        (a timestamp authority down...), nothing of it is kept, the signer's intent stays
        (``sign_pending``), the request goes to error with the reason, and False is returned."""
        self.ensure_one()
        if not self.sign_pending:
            return self.state == "signed"
        signature = self._get_pending_signature()
        try:
            with self.env.cr.savepoint():
                self._sign_documents(signature)
        except lib_errors.EsignError as exc:
            _logger.info("o2s_esign: signature of signer %s not applied yet (%s)", self.id, exc.code)
            message = _("The signature of %(name)s could not be applied: %(reason)s",
                        name=self.name, reason=self._esign_error_reason(exc))
            self.request_id._set_error(message, transient=exc.transient, signer=self)
            return False
        with internal_write():
            self.write({"state": "signed", "date_signed": fields.Datetime.now(),
                        "sign_pending": False})
            self.sudo().write({"sign_pending_data": False})
        self._on_signed()
        self.request_id._check_completion()
        return True

    def _esign_error_reason(self, exc):
        """A translated reason for a lib.errors.EsignError (the message of the lib otherwise)."""
        reasons = {
            "tsa_unreachable": _("the timestamp authority cannot be reached"),
            "tsa_timeout": _("the timestamp authority did not answer in time"),
            "tsa_bad_response": _("the timestamp authority gave an invalid answer"),
            "sign_failed": _("the signature could not be produced"),
            "timeout": _("signing took too long"),
        }
        return reasons.get(exc.code) or str(exc)

    def _sign_documents(self, signature):
        """Apply ``signature`` to every document of the request (hook).

        ``signature`` is a dict: ``name`` (typed name), ``type`` (``typed``, ``drawn`` or
        ``uploaded``), ``image`` (PNG bytes), ``image_sha256``, ``date`` (when the signer
        signed on the page, UTC), ``ip_address``, ``user_agent``, ``consent_sha256``,
        ``otp_verified_at`` and ``in_person``.

        The PAdES part of the module signs each document (``_append_signed_revision``) and then
        calls super(), which logs the ``signed`` event with the documents' current hashes. It
        raises a ``lib.errors.EsignError`` (``transient`` when a retry may work) when a
        signature cannot be made: the caller then rolls everything of it back."""
        self.ensure_one()
        documents = self.request_id.document_ids
        self._log_portal_event("signed", {
            "name": signature.get("name"),
            "signature_type": signature.get("type"),
            "signature_sha256": signature.get("image_sha256"),
            "consent_sha256": signature.get("consent_sha256"),
            "signed_on_page": fields.Datetime.to_string(signature["date"]) if signature.get("date") else None,
            "otp_verified_at": signature.get("otp_verified_at"),
            "in_person": signature.get("in_person", False),
            "documents": [
                {"id": doc.id, "name": doc.name, "sha256": doc.signed_sha256} for doc in documents],
        }, ip_address=signature.get("ip_address"), user_agent=signature.get("user_agent"))
