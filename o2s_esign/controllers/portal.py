# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signing page: reached through each signer's personal link, no account needed.

Security: every route checks the link token in constant time (``_get_signer_sudo``) before
anything else; nothing changes on GET (pages and documents only log the visit, once per browser
session and day, and at most ``MAX_VIEW_EVENTS_PER_DAY`` a day); the JSON
actions check the CSRF token; a signer reaches only their own request and documents.

Concurrency: every route that writes (even a page view is an audit event) first waits for its
turn on the request (``_lock_request``), so the signers of one request acting at the same
moment, in different workers, are served one after the other without serialization errors.
"""
import logging
import time

import psycopg2.errors
from werkzeug.exceptions import NotFound, ServiceUnavailable

from odoo import _, fields, http, sql_db
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import content_disposition, request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..lib import otp as lib_otp
from ..models.o2s_esign_signer import AFTER_SIGNING_TTL, OTP_POLICY
from . import log_redaction  # noqa: F401 - installs the log filter

_logger = logging.getLogger(__name__)

SESSION_VERIFIED = "o2s_esign_verified"
SESSION_IN_PERSON = "o2s_esign_in_person"
#: where the advisor's screen goes back to once the signers in person are done (the request)
IN_PERSON_BACK_URL = "/odoo/o2s.esign.request/%s"
#: what this browser session already viewed today (so each view is logged once per day)
SESSION_VIEWS = "o2s_esign_views"
#: validity codes whose page shows the documents and the signing panel
SIGNING_PAGE_TEMPLATE = "o2s_esign.portal_signer_page"
STATUS_PAGE_TEMPLATE = "o2s_esign.portal_signer_status"
#: PostgreSQL advisory lock space (first key) of the signing page's turns on one request
REQUEST_LOCK_SPACE = 0x02533E51
#: how long (seconds) a call waits for the calls before it on the same request
REQUEST_LOCK_TIMEOUT = 60
INVALID_PAGE_TEMPLATE = "o2s_esign.portal_signer_invalid"
#: the module's public pages are never shown in another site's frame (clickjacking of the Sign
#: or Refuse buttons): the old header and its CSP successor
FRAME_HEADERS = [
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
]
PRIVATE_HEADERS = [
    *FRAME_HEADERS,
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("X-Content-Type-Options", "nosniff"),
]


class O2sEsignSigningPage(http.Controller):

    # ------------------------------------------------------------- helpers
    def _get_signer_sudo(self, signer_id, token):
        """The signer whose link this is, or None: the token is checked in constant time.

        sudo: the visitor has no account; the token is their access right."""
        if not isinstance(token, str):
            return None
        # one query: whether the signer exists and what the token check reads
        signer_sudo = request.env["o2s.esign.signer"].sudo().search_fetch(
            [("id", "=", signer_id)], ["access_nonce", "request_id", "partner_id", "company_id"],
            limit=1)
        if not signer_sudo or not signer_sudo._check_signing_token(token):
            return None
        # What the signer does here shows in the request's chatter under their name, in the
        # request's company (what is created here belongs to it; and the public user's row need
        # not be read to know the current company).
        return signer_sudo.with_context(o2s_esign_author_partner_id=signer_sudo.partner_id.id,
                                        allowed_company_ids=signer_sudo.company_id.ids)

    def _page_signer_sudo(self, signer_id, token):
        """For the pages and forms of a link: the signer (None for a bad link), their request
        waited for (503 when busy) and the signer's language set (sudo: see _get_signer_sudo)."""
        signer_sudo = self._get_signer_sudo(signer_id, token)
        if not signer_sudo:
            return None
        if not self._lock_request(signer_sudo):
            raise ServiceUnavailable(self._busy_message())
        return self._use_signer_lang(signer_sudo)

    def _client_info(self):
        httprequest = request.httprequest
        return httprequest.remote_addr, (httprequest.headers.get("User-Agent") or "")[:512]

    def _is_in_person(self, signer_sudo):
        return signer_sudo.id in (request.session.get(SESSION_IN_PERSON) or [])

    def _session_secret(self, signer_sudo):
        return (request.session.get(SESSION_VERIFIED) or {}).get(str(signer_sudo.id))

    def _first_view_today(self, signer_sudo, what):
        """True the first time today (UTC) that this browser session views ``what`` through
        this signer's link (the page in one state, a document), remembered in the session;
        earlier days are forgotten, so the session stays small."""
        today = fields.Date.to_string(fields.Datetime.now().date())
        key = "%s:%s" % (signer_sudo.id, what)
        seen = request.session.get(SESSION_VIEWS) or {}
        if seen.get(key) == today:
            return False
        seen = {name: day for name, day in seen.items() if day == today}
        seen[key] = today
        request.session[SESSION_VIEWS] = seen
        return True

    def _store_session_secret(self, signer_sudo, secret):
        secrets_by_signer = dict(request.session.get(SESSION_VERIFIED) or {})
        secrets_by_signer[str(signer_sudo.id)] = secret
        request.session[SESSION_VERIFIED] = secrets_by_signer

    def _lock_request(self, signer_sudo):
        """Wait for this call's turn on the signer's request, then lock the request row.

        Returns False when the turn did not come within REQUEST_LOCK_TIMEOUT seconds (nothing
        was done; the caller tells the visitor to try again).

        The signers of a request may act at the same moment, each in a different worker. A row
        lock alone does not serialise them: Odoo's transactions are REPEATABLE READ, so a call
        that waited for another one's row lock fails with a serialization error as soon as it
        gets it, and Odoo re-runs it a few times after random pauses, then shows the error.
        So each call first queues on a PostgreSQL advisory lock of the request, taken by a
        connection of its own and held until this call's transaction ends (commit or
        rollback); once it has its turn, it starts a new transaction (only reads happened
        before: nothing is lost), whose snapshot sees everything the calls before it
        committed. The row lock stays, for the backend's actions on the request.

        The scheduled actions (the sealing, the mail queue's delivery events) lock the request
        row without the turn: locking it after one of them committed an update would fail the
        same way. So the row is locked with NOWAIT on the fresh snapshot; when a scheduled
        action holds it, this call waits on the turn's connection until that transaction ends,
        then tries again with a new snapshot (``_lock_request_row``).

        In Odoo's test mode every request shares one transaction (and the test lock already
        serialises them): there is no turn to wait for."""
        cr = request.env.cr
        request_id = signer_sudo.request_id.id
        if not request.env.registry.in_test_mode():
            turn_cr = sql_db.db_connect(cr.dbname).cursor()
            try:
                # one round trip: the time limit of this transaction, then the lock
                turn_cr.execute("SET LOCAL lock_timeout = %s; SELECT pg_advisory_xact_lock(%s, %s)",
                                ["%ds" % REQUEST_LOCK_TIMEOUT, REQUEST_LOCK_SPACE, request_id])
            except psycopg2.errors.LockNotAvailable:
                turn_cr.close()
                return False
            except Exception:
                turn_cr.close()
                raise
            try:
                locked = self._lock_request_row(cr, turn_cr, request_id)
            except Exception:
                turn_cr.close()
                raise
            if not locked:
                turn_cr.close()
                return False
            cr.postcommit.add(turn_cr.close)  # the turn ends with this call's transaction
            cr.postrollback.add(turn_cr.close)
            # the rollback for the fresh snapshot cleared the transaction's cache: every record
            # is read again, as of now
        else:
            cr.execute("SELECT id FROM o2s_esign_request WHERE id = %s FOR NO KEY UPDATE",
                       [request_id])
            # the request first: invalidating its signers would also drop the signer's request_id
            request_sudo = signer_sudo.request_id
            request_sudo.invalidate_recordset()
            signer_sudo.invalidate_recordset()
        self._prefetch_related(signer_sudo.env["o2s.esign.request"].browse(request_id),
                               "signer_ids")
        return True

    @staticmethod
    def _lock_request_row(cr, turn_cr, request_id, timeout=REQUEST_LOCK_TIMEOUT):
        """Lock the request row in ``cr`` on a fresh snapshot, without ever meeting a
        serialization failure: each attempt starts a new transaction (``cr`` only read so far)
        and locks with NOWAIT, so it either gets the row at once (every update committed before
        is in its snapshot) or learns that another transaction holds it (or committed an update
        in the instant after the snapshot was taken). Then it waits on
        ``turn_cr`` (the call's turn, a transaction of its own) until that holder ends, by
        taking and releasing a share lock on the row in a savepoint (the turn is kept), and
        tries again. Returns False when the row stayed locked for ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            cr.rollback()  # a fresh snapshot, taken after the calls before this one committed
            try:
                cr.execute("SELECT id FROM o2s_esign_request WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                           [request_id], log_exceptions=False)
                return True
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
                # held by another transaction, or updated by one that committed in the instant
                # between this snapshot and the lock
                cr.rollback()
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return False
            turn_cr.execute("SAVEPOINT o2s_esign_wait")
            try:
                # waits for the holder; its commit may surface as a serialization failure here
                turn_cr.execute("SET LOCAL lock_timeout = %s; "
                                "SELECT id FROM o2s_esign_request WHERE id = %s FOR SHARE",
                                ["%dms" % remaining_ms, request_id], log_exceptions=False)
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure) as exc:
                # the holder ended (or the time is up: the next turn of the loop tells)
                _logger.debug("o2s_esign: request %s was locked (%s)", request_id, exc.pgcode)
            turn_cr.execute("ROLLBACK TO SAVEPOINT o2s_esign_wait")

    def _busy_message(self):
        return _("Other people are signing this request right now. Please try again in a "
                 "moment.")

    def _use_signer_lang(self, signer_sudo):
        lang = signer_sudo._esign_lang()
        request.update_context(lang=lang)
        request.lang = request.env["res.lang"]._get_data(code=lang)
        return signer_sudo.with_context(lang=lang)

    def _render(self, template, values, status=200):
        response = request.render(template, values, status=status)
        response.headers.update(PRIVATE_HEADERS)
        return response

    def _render_invalid_link(self):
        return self._render(INVALID_PAGE_TEMPLATE, {"no_header": False}, status=404)

    def _may_read_documents(self, signer_sudo, validity):
        if validity in ("ok", "sign_pending", "error"):
            return True
        if validity in ("signed", "sealing", "completed"):
            # Once signed, the link gives the signer their signed documents until it expires
            # (a GET that changes nothing but the audit trail); the browser session that
            # signed also keeps access for a while.
            return signer_sudo._esign_documents_available() or (
                validity == "completed" and signer_sudo._otp_check_session(
                    self._session_secret(signer_sudo), max_age=AFTER_SIGNING_TTL))
        return False

    @staticmethod
    def _prefetch_related(request_sudo, fname):
        """The records of the one2many ``fname`` of the request (its signers, its documents)
        read in one query, ids and fields together (reading the one2many, then their fields,
        takes two), and kept as the request's ``fname`` in the cache: the same records in the
        same order (the comodel's ``_order``, as the one2many reads them). (sudo: as the
        request given.)"""
        field = request_sudo._fields[fname]
        Comodel = request_sudo.env[field.comodel_name]
        names = [name for name, model_field in Comodel._fields.items()
                 if model_field.store and model_field.column_type and model_field.prefetch is True]
        records = Comodel.search_fetch([(field.inverse_name, "=", request_sudo.id)], names)
        request_sudo.env.cache.set(request_sudo, field, tuple(records.ids))
        return records

    def _document_urls(self, signer_sudo, token):
        base = signer_sudo._get_signing_path(token)
        return {
            document.id: {
                "view": "%s/document/%s" % (base, document.id),
                "download": "%s/document/%s?download=1" % (base, document.id),
            }
            for document in signer_sudo.request_id.document_ids
        }

    def _prepare_page_values(self, signer_sudo, token, validity, **kwargs):
        request_sudo = signer_sudo.request_id
        lang = signer_sudo._esign_lang()
        text, text_sha256 = signer_sudo._get_signing_page_text()
        now = fields.Datetime.now()
        code_live = bool(signer_sudo.otp_issued_at and not signer_sudo.otp_used
                         and signer_sudo.otp_attempts < OTP_POLICY.max_attempts
                         and lib_otp.expires_at(signer_sudo.otp_issued_at, OTP_POLICY) > now)
        verified = signer_sudo._otp_check_session(self._session_secret(signer_sudo))
        cooldown = 0
        if signer_sudo.otp_issued_at:
            elapsed = (now - signer_sudo.otp_issued_at).total_seconds()
            cooldown = max(0, int(OTP_POLICY.resend_cooldown - elapsed))
        return {
            "signer": signer_sudo,
            "esign_request": request_sudo,
            "res_company": request_sudo.company_id,
            "validity": validity,
            "token": token,
            "page_text": text,
            "page_text_sha256": text_sha256,
            "documents": request_sudo.document_ids,
            "document_urls": self._document_urls(signer_sudo, token),
            "show_documents": self._may_read_documents(signer_sudo, validity),
            "documents_until": signer_sudo._esign_documents_available_until()
            if signer_sudo.state == "signed" else False,
            "capacity_sentence": signer_sudo._esign_capacity_sentence(),
            "masked_mobile": signer_sudo._masked_mobile(),
            "code_live": code_live and not signer_sudo.otp_locked_date,
            "signer_locked": bool(signer_sudo.otp_locked_date),
            "verified": verified,
            "cooldown": cooldown,
            "html_data": {"lang": lang.replace("_", "-")},
            "page_name": "esign_signer",
            "no_breadcrumbs": True,
            "esign_error": kwargs.get("error"),
            "status_url": "/esign/status/%d/%s" % (signer_sudo.id, token),
            **self._in_person_values(signer_sudo, validity),
            **self._fields_values(signer_sudo, validity),
        }

    def _fields_values(self, signer_sudo, validity):
        """Issue 17: the signer's fields drawn over the documents (``esign_fields``: per
        document id), what their date and initials boxes will show, and whether the Sign button
        waits for required fields."""
        if validity != "ok" or not any(signer_sudo.request_id.document_ids.mapped("has_fields")):
            # most documents have none: no search, no date to show
            return {"esign_fields": {}, "esign_fields_required": False, "esign_today": "",
                    "esign_initials": ""}
        esign_fields = signer_sudo._esign_page_fields()
        return {
            "esign_fields": esign_fields,
            "esign_fields_required": any(
                values["required"] for values_list in esign_fields.values()
                for values in values_list),
            "esign_today": signer_sudo._esign_today_text(),
            "esign_initials": signer_sudo._esign_initials(),
        }

    def _in_person_values(self, signer_sudo, validity):
        """On the advisor's screen (a session the advisor marked "in person" for this signer):
        once this signer is done, the next signer in person, else the way back to the request."""
        if not self._is_in_person(signer_sudo) or request.env.user._is_public():
            return {"in_person": False}
        done = validity in ("signed", "sealing", "sign_pending", "completed", "refused",
                            "cancelled", "expired")
        next_signer = signer_sudo._esign_next_in_person_signer() \
            if validity in ("signed", "sign_pending") else signer_sudo.browse()
        return {
            "in_person": True,
            "in_person_done": done,
            "in_person_next": next_signer,
            "in_person_back_url": IN_PERSON_BACK_URL % signer_sudo.request_id.id,
        }

    def _json_prepare_action(self, signer_id, token, csrf_token):
        """Common checks of the JSON actions: link, CSRF, lock, validity.

        Returns ``(signer_sudo, None)`` or ``(None, error_dict)``."""
        signer_sudo = self._get_signer_sudo(signer_id, token)
        if not signer_sudo:
            return None, {"error": _("This link is not valid."), "reload": True}
        if not request.validate_csrf(csrf_token):
            return None, {"error": _("Your session has expired. Please reload the page."),
                          "reload": True}
        if not self._lock_request(signer_sudo):
            return None, {"error": self._busy_message()}
        signer_sudo = self._use_signer_lang(signer_sudo)
        validity = signer_sudo._get_signing_validity()
        if validity != "ok":
            messages = {
                "error": _("This signature request is paused because of a technical problem. "
                           "Please try again later."),
                "not_your_turn": _("It is not your turn to sign yet."),
            }
            return None, {"error": messages.get(validity, _("This request cannot be signed any more.")),
                          "reload": True}
        return signer_sudo, None

    # --------------------------------------------------------------- pages
    @http.route("/esign/sign/<int:signer_id>/<string:token>", type="http", auth="public",
                methods=["GET"], website=True, multilang=False, sitemap=False)
    def esign_signer_page(self, signer_id, token, error=None, **kwargs):
        signer_sudo = self._page_signer_sudo(signer_id, token)
        if not signer_sudo:
            return self._render_invalid_link()
        self._prefetch_related(signer_sudo.request_id, "document_ids")
        validity = signer_sudo._get_signing_validity()
        ip_address, user_agent = self._client_info()
        in_person = self._is_in_person(signer_sudo)
        signer_sudo._log_page_view(
            validity, ip_address=ip_address, user_agent=user_agent, in_person=in_person,
            first_today=self._first_view_today(signer_sudo, "page:%s:%s" % (validity, in_person)))
        values = self._prepare_page_values(
            signer_sudo, token, validity, error=error if error in ("refuse",) else None)
        template = SIGNING_PAGE_TEMPLATE if validity == "ok" else STATUS_PAGE_TEMPLATE
        return self._render(template, values)

    @http.route("/esign/status/<int:signer_id>/<string:token>", type="http", auth="public",
                methods=["GET"], sitemap=False)
    def esign_signer_status(self, signer_id, token, **kwargs):
        """What the signing page may offer now (``validity``), read only: the page of a signer
        whose request is being sealed asks it until the sealing is done. The link's token is
        checked in constant time; nothing is logged or written (a page view is logged when the
        page itself reloads)."""
        signer_sudo = self._get_signer_sudo(signer_id, token)
        if not signer_sudo:
            return request.make_json_response({"validity": "invalid"}, status=404)
        return request.make_json_response(
            {"validity": signer_sudo._get_signing_validity()},
            headers=[("Cache-Control", "no-store")])

    @http.route("/esign/sign/<int:signer_id>/<string:token>/document/<int:document_id>",
                type="http", auth="public", methods=["GET"], sitemap=False)
    def esign_document(self, signer_id, token, document_id, download=None, **kwargs):
        signer_sudo = self._get_signer_sudo(signer_id, token)
        if not signer_sudo:
            raise NotFound()
        if not self._lock_request(signer_sudo):
            raise ServiceUnavailable(self._busy_message())
        document_sudo = signer_sudo.request_id.document_ids.filtered(lambda d: d.id == document_id)
        validity = signer_sudo._get_signing_validity()
        if not document_sudo or not self._may_read_documents(signer_sudo, validity):
            raise NotFound()
        attachment_sudo = document_sudo.signed_attachment_id or document_sudo.prepared_attachment_id
        data = attachment_sudo.raw or b""
        download = bool(download)
        ip_address, user_agent = self._client_info()
        event_type = "document_downloaded" if download else "document_viewed"
        # logged once per browser session and day for each revision of the document
        if self._first_view_today(signer_sudo, "%s:%s:%s" % (
                event_type, document_sudo.id, document_sudo.signed_sha256)):
            signer_sudo._log_view_event(
                event_type,
                {"document_id": document_sudo.id, "document": document_sudo.name,
                 "sha256": document_sudo.signed_sha256, "size": len(data),
                 "in_person": self._is_in_person(signer_sudo)},
                ip_address=ip_address, user_agent=user_agent)
        filename = document_sudo.name if document_sudo.name.lower().endswith(".pdf") \
            else "%s.pdf" % document_sudo.name
        headers = [
            ("Content-Type", "application/pdf"),
            ("Content-Length", str(len(data))),
            ("Content-Disposition", content_disposition(filename) if download
             else content_disposition(filename).replace("attachment", "inline", 1)),
            *PRIVATE_HEADERS,
        ]
        return request.make_response(data, headers)

    # ------------------------------------------------------------- actions
    @http.route("/esign/action/<int:signer_id>/send_code", type="json", auth="public",
                methods=["POST"])
    def esign_send_code(self, signer_id, token=None, csrf_token=None, **kwargs):
        signer_sudo, error = self._json_prepare_action(signer_id, token, csrf_token)
        if error:
            return error
        ip_address, user_agent = self._client_info()
        return signer_sudo._otp_send(ip_address=ip_address, user_agent=user_agent)

    @http.route("/esign/action/<int:signer_id>/verify_code", type="json", auth="public",
                methods=["POST"])
    def esign_verify_code(self, signer_id, token=None, csrf_token=None, code=None, **kwargs):
        signer_sudo, error = self._json_prepare_action(signer_id, token, csrf_token)
        if error:
            return error
        ip_address, user_agent = self._client_info()
        result = signer_sudo._otp_verify(code, ip_address=ip_address, user_agent=user_agent)
        if result.get("ok"):
            self._store_session_secret(signer_sudo, result.pop("secret"))
        return result

    @http.route("/esign/action/<int:signer_id>/sign", type="json", auth="public", methods=["POST"])
    def esign_sign(self, signer_id, token=None, csrf_token=None, consent=None,
                   consent_sha256=None, name=None, signature=None, signature_type=None,
                   key_signatures=None, field_values=None, **kwargs):
        signer_sudo, error = self._json_prepare_action(signer_id, token, csrf_token)
        if error:
            return error
        if not signer_sudo._otp_check_session(self._session_secret(signer_sudo)):
            return {"error": _("Please confirm your identity with a new SMS code before signing."),
                    "reset_code": True}
        # issue 17: the values of the signer's fields, stored before the documents are signed
        error = signer_sudo._esign_set_field_values(field_values)
        if error:
            return error
        if key_signatures is not None:
            # the signature values made by the key of the signer's browser (issue 18)
            if not signer_sudo._browser_key_accept_signatures(key_signatures, signature):
                return {"error": _("The signatures made in your browser could not be used. "
                                   "Please reload the page and sign again."),
                        "key_failed": True}
        else:
            signer_sudo._browser_key_drop_signatures()
        ip_address, user_agent = self._client_info()
        result = signer_sudo._portal_sign({
            "consent": consent, "consent_sha256": consent_sha256, "name": name,
            "signature": signature, "signature_type": signature_type,
        }, ip_address=ip_address, user_agent=user_agent, in_person=self._is_in_person(signer_sudo))
        if not result.get("error"):
            result["reload"] = True
        return result

    def _browser_key_action(self, signer_id, token, csrf_token):
        """Common checks of the browser key routes: the link, CSRF, the request's turn and the
        verified code. Returns (signer_sudo, None) or (None, error dict)."""
        signer_sudo, error = self._json_prepare_action(signer_id, token, csrf_token)
        if error:
            return None, error
        if not signer_sudo._otp_check_session(self._session_secret(signer_sudo)):
            return None, {"error": _("Please confirm your identity with a new SMS code before "
                                     "signing."), "reset_code": True}
        return signer_sudo, None

    @http.route("/esign/action/<int:signer_id>/key_challenge", type="json", auth="public",
                methods=["POST"])
    def esign_key_challenge(self, signer_id, token=None, csrf_token=None, **kwargs):
        """A one-time challenge the key made in the signer's browser signs (issue 18)."""
        signer_sudo, error = self._browser_key_action(signer_id, token, csrf_token)
        return error or signer_sudo._browser_key_challenge()

    @http.route("/esign/action/<int:signer_id>/key", type="json", auth="public", methods=["POST"])
    def esign_key(self, signer_id, token=None, csrf_token=None, public_key=None, proof=None,
                  **kwargs):
        """The browser's public key (base64 SPKI) and its proof of possession: the one-time
        certificate in the signer's name is issued for it."""
        signer_sudo, error = self._browser_key_action(signer_id, token, csrf_token)
        return error or signer_sudo._browser_key_register(public_key, proof)

    @http.route("/esign/action/<int:signer_id>/prepare", type="json", auth="public",
                methods=["POST"])
    def esign_prepare(self, signer_id, token=None, csrf_token=None, signature=None,
                      field_values=None, **kwargs):
        """What the browser's key signs, per document (the DER signed attributes), once the
        values of the signer's fields are stored (they are in the prepared documents), with
        the signature the signer drew (base64 PNG) shown in their box."""
        signer_sudo, error = self._browser_key_action(signer_id, token, csrf_token)
        error = error or signer_sudo._esign_set_field_values(field_values)
        return error or signer_sudo._browser_key_prepare(signature=signature)

    @http.route("/esign/action/<int:signer_id>/refuse", type="http", auth="public",
                methods=["POST"], website=True, multilang=False, sitemap=False)
    def esign_refuse(self, signer_id, token=None, reason=None, **kwargs):
        # CSRF: checked by Odoo for this POST route (csrf_token form field).
        signer_sudo = self._page_signer_sudo(signer_id, token)
        if not signer_sudo:
            return self._render_invalid_link()
        ip_address, user_agent = self._client_info()
        error = signer_sudo._portal_refuse(reason, ip_address=ip_address, user_agent=user_agent)
        path = signer_sudo._get_signing_path(token)
        if error:
            path += "?error=refuse"
        response = request.redirect(path, code=303, local=True)
        response.headers.update(PRIVATE_HEADERS)
        return response

    # ----------------------------------------------------------- in person
    @http.route("/esign/in_person/<int:signer_id>", type="http", auth="user", methods=["GET"],
                sitemap=False)
    def esign_in_person(self, signer_id, expires=None, ticket=None, **kwargs):
        """The advisor opens a signer's page on their own screen for a client who is present
        (the SMS code is still required). The button's call logged the opening and gave this
        URL its ticket; here only the advisor's own session is marked."""
        signer = request.env["o2s.esign.signer"].browse(signer_id)
        try:
            signer.check_access("write")
            signer = signer.exists()
            if not signer:
                raise MissingError(_("This signer does not exist."))
        except (AccessError, MissingError):
            raise NotFound() from None
        if not signer._check_in_person_ticket(expires, ticket):
            raise NotFound()
        if signer.request_id.state not in ("in_progress", "error") or signer.state != "pending":
            raise NotFound()
        in_person = list(request.session.get(SESSION_IN_PERSON) or [])
        if signer.id not in in_person:
            in_person.append(signer.id)
            request.session[SESSION_IN_PERSON] = in_person
        return request.redirect(signer._get_signing_path(), code=303, local=True)

    @http.route("/esign/in_person/<int:signer_id>/open", type="http", auth="user",
                methods=["POST"], sitemap=False)
    def esign_in_person_open(self, signer_id, **kwargs):
        """"Next signer" on the advisor's screen, once a signer in person is done: the same as
        the "Sign in person" button of the request (a POST, CSRF checked by Odoo: the opening
        is logged), then that signer's page in this session."""
        signer = request.env["o2s.esign.signer"].browse(signer_id)
        try:
            signer.check_access("write")
            signer = signer.exists()
            if not signer:
                raise MissingError(_("This signer does not exist."))
        except (AccessError, MissingError):
            raise NotFound() from None
        try:
            url = signer.action_esign_open_in_person()["url"]
        except UserError:  # signed or closed meanwhile: back to the request
            url = IN_PERSON_BACK_URL % signer.request_id.id
        return request.redirect(url, code=303, local=True)


class O2sEsignCustomerPortal(CustomerPortal):
    """Signers who have a portal account also find their requests under /my."""

    def _esign_my_signers_domain(self):
        return [
            ("partner_id", "=", request.env.user.partner_id.id),
            ("request_id.state", "!=", "draft"),
            ("state", "!=", "waiting"),
        ]

    def _esign_my_signers_sudo(self, limit=None, offset=0):
        """The signer entries of the logged-in user's contact.

        sudo: portal users have no access right on the module's models (their access is the
        link of each request); the domain restricts the search to their own entries."""
        Signer_sudo = request.env["o2s.esign.signer"].sudo()
        domain = self._esign_my_signers_domain()
        if limit is None:
            return Signer_sudo.search_count(domain)
        return Signer_sudo.search(domain, order="id desc", limit=limit, offset=offset)

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "esign_count" in counters:
            values["esign_count"] = self._esign_my_signers_sudo()
        return values

    @http.route(["/my/signatures", "/my/signatures/page/<int:page>"], type="http",
                auth="user", website=True)
    def portal_my_esign(self, page=1, **kwargs):
        values = self._prepare_portal_layout_values()
        count = self._esign_my_signers_sudo()
        pager = portal_pager(url="/my/signatures", total=count, page=page,
                             step=self._items_per_page)
        signers_sudo = self._esign_my_signers_sudo(limit=self._items_per_page,
                                                   offset=pager["offset"])
        values.update({
            "esign_signers": signers_sudo,
            "pager": pager,
            "page_name": "esign",
            "default_url": "/my/signatures",
        })
        return request.render("o2s_esign.portal_my_signatures", values)
