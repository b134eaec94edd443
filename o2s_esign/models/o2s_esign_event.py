# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging

from odoo import _, api, fields, models
from odoo.tools import format_datetime

from ..lib import chain
from ..tools import internal_write

_logger = logging.getLogger(__name__)

EVENT_TYPES = [
    ("created", "Created"),
    ("sent", "Sent"),
    ("state_changed", "Status changed"),
    ("signer_invited", "Signer invited"),
    ("email_queued", "Email queued"),
    ("email_sent", "Email sent"),
    ("email_failed", "Email failed"),
    ("email_bounced", "Email bounced"),
    ("sms_sent", "SMS sent"),
    ("sms_failed", "SMS failed"),
    ("link_opened", "Link opened"),
    ("page_viewed", "Signing page viewed"),
    ("document_viewed", "Document viewed"),
    ("document_downloaded", "Document downloaded"),
    ("otp_sent", "Code sent"),
    ("otp_send_refused", "Code not sent (limit)"),
    ("otp_verified", "Code verified"),
    ("otp_failed", "Wrong code"),
    ("otp_locked", "Code locked"),
    ("otp_expired", "Code expired"),
    ("consent_given", "Consent given"),
    ("signed", "Signed"),
    ("refused", "Refused"),
    ("document_signature", "Document signed"),
    ("document_seal", "Document sealed"),
    ("document_timestamp", "Document timestamped"),
    ("reminder_sent", "Reminder sent"),
    ("deadline_changed", "Expiry date changed"),
    ("advisor_changed", "Advisor changed"),
    ("sharing_changed", "Sharing changed"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
    ("error", "Error"),
    ("retried", "Retried"),
    ("in_person_opened", "Opened in person by the advisor"),
    ("link_copied", "Signing link copied by the advisor"),
    ("evidence_generated", "Evidence file generated"),
    ("evidence_downloaded", "Evidence file downloaded"),
    ("evidence_saved", "Evidence file saved to the client's documents"),
    ("attestation_generated", "Signer attestation generated"),
    ("settings_changed", "SMS or timestamp settings changed"),
    ("signer_locked", "Signer locked (too many wrong codes)"),
    ("signer_unlocked", "Signer unlocked"),
    ("attestation_downloaded", "Signer attestation downloaded"),
    ("personal_data_purged", "Personal data purged (retention period over)"),
]


class O2sEsignEvent(models.Model):
    """One entry of a request's audit trail.

    No stored computed field may be added here: the ORM would write it with an UPDATE, which
    the trigger refuses.

    Append-only for everyone: the ORM refuses any write or unlink (admins included) and a
    database trigger refuses UPDATE and DELETE. Entries are hash-chained per request:
    ``hash = sha256(previous_hash + canonical JSON of the event)`` (see ``lib/chain.py``), with a
    contiguous ``sequence``; ``_verify_chain`` names the first broken link.
    """

    _name = "o2s.esign.event"
    _inherit = ["o2s.esign.append.only.mixin"]
    _description = "Signature audit event"
    _order = "request_id, sequence"
    _rec_name = "event_type"

    request_id = fields.Many2one(
        "o2s.esign.request", required=True, index=True, ondelete="restrict",
        readonly=True)
    signer_id = fields.Many2one("o2s.esign.signer", index=True, readonly=True,
                                ondelete="restrict")
    sequence = fields.Integer(string="#", required=True, readonly=True)
    event_type = fields.Selection(EVENT_TYPES, string="Event", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True)
    date_display = fields.Char(
        string="Date (your time zone)", compute="_compute_date_display",
        help="The date in your time zone (Preferences), which it names; the evidence file "
             "gives the dates in UTC.")
    ip_address = fields.Char(string="IP address", readonly=True)
    user_agent = fields.Char(string="User agent", readonly=True)
    payload = fields.Text(string="Details (JSON)", readonly=True)
    previous_hash = fields.Char(string="Previous hash", required=True, readonly=True)
    hash = fields.Char(required=True, readonly=True, index=True)

    _sql_constraints = [
        ("request_sequence_uniq", "unique(request_id, sequence)",
         "The events of a request are numbered without duplicates."),
    ]

    def init(self):
        # Defence in depth: even SQL cannot rewrite the trail (only a DDL statement disabling the
        # trigger can, and the hash chain then shows it).
        self.env.cr.execute("""
            CREATE OR REPLACE FUNCTION o2s_esign_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'o2s_esign: % rows are append-only', TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS o2s_esign_event_append_only ON o2s_esign_event;
            CREATE TRIGGER o2s_esign_event_append_only
                BEFORE UPDATE OR DELETE ON o2s_esign_event
                FOR EACH ROW EXECUTE FUNCTION o2s_esign_append_only();
        """)

    # ---------------------------------------------------------------- computes
    @api.depends("date")
    @api.depends_context("tz", "lang")
    def _compute_date_display(self):
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        for event in self:
            event.date_display = event.date and "%s (%s)" % (
                format_datetime(self.env, event.date, tz=tz, dt_format="medium"), tz)

    # ----------------------------------------------------------- append-only
    def _append_only_messages(self):
        return {
            "create": _("Audit events are written by the signature process only."),
            "write": _("Audit events cannot be modified."),
            "unlink": _("Audit events cannot be deleted."),
            "copy": _("Audit events cannot be duplicated."),
        }

    # ------------------------------------------------------------- appending
    @api.model
    def _hashed_record(self, request_id, sequence, event_type, date, signer_id, ip_address,
                       user_agent, payload_json):
        """The event as lib/chain.py hashes it (and as audit_trail.json exports it)."""
        return {
            "request": request_id,
            "sequence": sequence,
            "event_type": event_type,
            "date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signer": signer_id or None,
            "ip_address": ip_address or None,
            "user_agent": user_agent or None,
            "payload": json.loads(payload_json) if payload_json else {},
        }

    @api.model
    def _append(self, request, event_type, signer=None, payload=None, ip_address=None,
                user_agent=None):
        """Append one event to ``request``'s chain (sudo: events have no create right for
        anyone; the request's own access was checked by the caller)."""
        return self._append_many(request, [{
            "event_type": event_type, "signer": signer, "payload": payload,
            "ip_address": ip_address, "user_agent": user_agent}])

    @api.model
    def _append_many(self, request, entries):
        """Append several events to ``request``'s chain at once, in the order of ``entries``
        (dicts with the arguments of ``_append``: ``event_type``, optional ``signer``,
        ``payload``, ``ip_address``, ``user_agent``): the same chain as one ``_append`` each,
        in a constant number of queries (the chain head read once, one INSERT, one UPDATE).
        Returns the events. (sudo: as ``_append``.)"""
        request.ensure_one()
        if not entries:
            return self.browse()
        cr = self.env.cr
        # Serialise appends on the request row: concurrent transactions wait, so sequences stay
        # contiguous and each event links to the real previous one. The chain head is read in
        # the same statement, once the row is locked.
        # (not logged as a "bad query" when it fails: a serialization failure here is handled
        # by the callers that meet one, see MailMail._esign_track_delivery)
        # With ``o2s_esign_lock_nowait`` in the context (the mail queue's delivery events), a
        # request row another transaction holds raises LockNotAvailable at once instead of
        # waiting: that caller holds mail rows the holder may be waiting for (a deadlock).
        nowait = " NOWAIT" if self.env.context.get("o2s_esign_lock_nowait") else ""
        cr.execute("""
            SELECT head.sequence, head.hash
              FROM o2s_esign_request r
              LEFT JOIN LATERAL (
                    SELECT sequence, hash FROM o2s_esign_event WHERE request_id = r.id
                     ORDER BY sequence DESC LIMIT 1) head ON TRUE
             WHERE r.id = %s
               FOR NO KEY UPDATE OF r""" + nowait, [request.id], log_exceptions=False)
        row = cr.fetchone()
        sequence, previous_hash = (row[0], row[1]) if row and row[0] else (0, chain.GENESIS_HASH)
        date = fields.Datetime.now()
        vals_list = []
        for entry in entries:
            signer = entry.get("signer")
            sequence += 1
            payload_json = chain.canonical_json(entry.get("payload") or {}).decode("utf-8")
            user_agent = (entry.get("user_agent") or "")[:512] or False
            ip_address = (entry.get("ip_address") or "")[:64] or False
            record = self._hashed_record(request.id, sequence, entry["event_type"], date,
                                         signer.id if signer else None, ip_address, user_agent,
                                         payload_json)
            digest = chain.compute_hash(previous_hash, record)
            vals_list.append({
                "request_id": request.id,
                "signer_id": signer.id if signer else False,
                "sequence": sequence,
                "event_type": entry["event_type"],
                "date": date,
                "ip_address": ip_address,
                "user_agent": user_agent,
                "payload": payload_json,
                "previous_hash": previous_hash,
                "hash": digest,
            })
            previous_hash = digest
        with internal_write():  # the only way an event is created
            events = self.sudo().create(vals_list)
        # The request row keeps the chain head: truncating the trail is then detectable, and
        # updating the row makes a concurrent transaction that appends to the same request
        # fail with a serialization error (Odoo retries it) instead of forking the chain.
        cr.execute("UPDATE o2s_esign_request SET event_head = %s WHERE id = %s",
                   [previous_hash, request.id])
        request.invalidate_recordset(["event_head"])
        return events

    def _export_record(self):
        """The event with its chain fields, as audit_trail.json holds it."""
        self.ensure_one()
        record = self._hashed_record(
            self.request_id.id, self.sequence, self.event_type, self.date, self.signer_id.id,
            self.ip_address, self.user_agent, self.payload)
        record.update(previous_hash=self.previous_hash, hash=self.hash)
        return record

    @api.model
    def _verify_chain(self, request):
        """Re-walk ``request``'s chain from the database (raw SQL: what is stored, not a cache)."""
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT sequence, event_type, date, signer_id, ip_address, user_agent, payload,
                   previous_hash, hash
              FROM o2s_esign_event WHERE request_id = %s ORDER BY sequence
        """, [request.id])
        events = []
        for seq, etype, date, signer_id, ip, ua, payload, prev, digest in self.env.cr.fetchall():
            try:
                record = self._hashed_record(request.id, seq, etype, date, signer_id, ip, ua, payload)
            except ValueError:  # payload is not JSON any more: tampered with
                record = {"request": request.id, "sequence": seq, "payload": payload}
            record.update(previous_hash=prev, hash=digest)
            events.append(record)
        self.env.cr.execute("SELECT event_head FROM o2s_esign_request WHERE id = %s", [request.id])
        expected_head = self.env.cr.fetchone()[0]
        report = chain.verify_chain(events, expected_head=expected_head or None)
        return {
            "ok": report.ok,
            "count": report.count,
            "head": report.head,
            "first_broken": report.first_broken,
            "reason": report.reason,
        }
