# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Completion of a request: the company seal on each document (plus the document timestamp at
B-LTA), the evidence ZIP ("dossier de preuve"), per-signer attestations, and the actions that
download the evidence or save it to the client's documents."""
import hashlib
import io
import logging
import tempfile

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import evidence as lib_evidence
from ..lib.errors import EsignError, EvidenceError, PdfError, PkiError, SigningError, TsaError
from ..tools import internal_write, is_internal_write
from .o2s_esign_signer_signing import NO_TSA_NOTE

_logger = logging.getLogger(__name__)

LEVEL_ORDER = ("b_b", "b_t", "b_lt", "b_lta")
EVIDENCE_STATES = ("signed", "refused", "cancelled", "expired")
REQUEST_SIGNING_FIELDS = {"evidence_attachment_id", "evidence_sha256", "evidence_date"}
#: ir.attachment description of the files this module keeps append-only
EVIDENCE_MARK = "o2s_esign:evidence"
ATTESTATION_MARK = "o2s_esign:attestation"
#: the client's "folder" for saved evidence files (a proper name of the product, not translated)
PARTNER_FOLDER = "O2S – Signature électronique"


class O2sEsignEvent(models.Model):
    _inherit = "o2s.esign.event"  # pylint: disable=consider-merging-classes-inherited

    event_type = fields.Selection(
        selection_add=[("evidence_saved", "Evidence file saved to the client's documents"),
                       ("attestation_generated", "Signer attestation generated")],
        ondelete={"evidence_saved": "cascade", "attestation_generated": "cascade"})


class O2sEsignRequest(models.Model):
    _inherit = "o2s.esign.request"  # pylint: disable=consider-merging-classes-inherited

    evidence_attachment_id = fields.Many2one(
        "ir.attachment", string="Evidence file", readonly=True, copy=False, ondelete="restrict",
        help="The latest evidence ZIP built for this request (earlier ones are kept).")
    evidence_sha256 = fields.Char(string="Evidence SHA-256", readonly=True, copy=False)
    evidence_date = fields.Datetime(string="Evidence built on", readonly=True, copy=False)
    pades_level_achieved = fields.Selection(
        [("b_b", "PAdES B-B"), ("b_t", "PAdES B-T"), ("b_lt", "PAdES B-LT"),
         ("b_lta", "PAdES B-LTA")],
        string="Level achieved", compute="_compute_pades_level_achieved",
        help="The lowest level reached by the request's documents.")
    evidence_available = fields.Boolean(compute="_compute_evidence_available")

    @api.depends("document_ids.pades_level_achieved")
    def _compute_pades_level_achieved(self):
        for request in self:
            levels = request.document_ids.mapped("pades_level_achieved")
            request.pades_level_achieved = (
                min(levels, key=LEVEL_ORDER.index)
                if levels and all(levels) else False)

    @api.depends("state")
    def _compute_evidence_available(self):
        for request in self:
            request.evidence_available = request.state in EVIDENCE_STATES

    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write() and any(REQUEST_SIGNING_FIELDS.intersection(v) for v in vals_list):
            raise UserError(_("The evidence file of a request is built by the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if REQUEST_SIGNING_FIELDS.intersection(vals) and not is_internal_write():
            raise UserError(_("The evidence file of a request is built by the signature process."))
        return super().write(vals)

    # ============================================================ completion
    def _on_all_signed(self):
        """Seal every document, build the evidence, then mark the request signed.

        All or nothing: when the timestamp authority (or anything else of the signing core)
        fails, nothing of it is kept (no document half-sealed) and the request goes in error;
        retrying the request (``action_retry``) does it again."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._esign_seal_documents()
                self._esign_build_evidence(state="signed", date_done=fields.Datetime.now())
        except EsignError as exc:
            _logger.info("o2s_esign: sealing %s failed: %r", self.reference, exc)
            self._set_error(self._esign_error_message(exc), transient=exc.transient)
            return False
        return super()._on_all_signed()

    def _esign_seal_documents(self):
        """The company seal (an invisible approval signature, then at B-LTA a document
        timestamp) on each document not sealed yet. Every new revision is computed before
        any is stored. (sudo: runs when the last signer signs, in that signer's portal session,
        and writes the documents' protected revisions.)"""
        self.ensure_one()
        request_sudo = self.sudo()
        documents = request_sudo.document_ids.filtered(lambda d: not d.date_sealed)
        if not documents:
            return
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        results = []
        for document in documents.sorted(lambda d: (d.sequence, d.id)):
            result = context.pades.seal(
                document.signed_attachment_id.raw, identity=context.material.seal,
                level=context.level, tsa=context.tsa, trust_roots=context.trust_roots,
                extra_crls=context.material.crls())
            results.append((document, result))
        now = fields.Datetime.now()
        for document, result in results:
            document._append_signed_revision(result.data, "seal", payload={
                "level": result.level,
                "level_requested": request_sudo.pades_level or result.level,
                "document_timestamp": result.level == "b_lta",
                "tsa": context.tsa_url or NO_TSA_NOTE,
                "signing_time": result.signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "certificate_sha256": hashlib.sha256(result.signer_cert_der).hexdigest(),
            })
            with internal_write():
                document.write({"pades_level_achieved": result.level, "date_sealed": now})

    def _esign_error_message(self, exc):
        """A translated sentence for an error of the signing core (lib.errors)."""
        url = (exc.params or {}).get("url") or ""
        if isinstance(exc, TsaError):
            if exc.code == "tsa_timeout":
                return _("The timestamp authority %(url)s did not answer in time. Nothing was "
                         "signed or sealed; the request will be retried.", url=url)
            if exc.code == "tsa_bad_response":
                return _("The timestamp authority %(url)s gave an invalid answer. Nothing was "
                         "signed or sealed; the request will be retried.", url=url)
            return _("The timestamp authority %(url)s cannot be reached. Nothing was signed or "
                     "sealed; the request will be retried.", url=url)
        if isinstance(exc, SigningError):
            if exc.code == "tsa_required":
                return _("The signature level needs a timestamp authority: configure one in "
                         "the e-signature settings.")
            if exc.code == "chain_invalid":
                return _("The company's signing certificate could not be validated (its chain "
                         "or revocation data). Check the signing identity in the settings.")
            if exc.code == "timeout":
                return _("Signing took too long. Nothing was signed or sealed; the request will "
                         "be retried.")
            return _("The signature could not be produced (%(code)s).", code=exc.code)
        if isinstance(exc, PdfError):
            return _("A document could not be processed for signature (%(code)s).", code=exc.code)
        if isinstance(exc, PkiError):
            return _("The signing keys could not be used (%(code)s).", code=exc.code)
        if isinstance(exc, EvidenceError):
            return _("The evidence file could not be built (%(code)s).", code=exc.code)
        return _("The signature failed (%(code)s).", code=exc.code)

    # ============================================================== evidence
    def _esign_labels(self):
        """The evidence report's labels (lib.evidence.DEFAULT_LABELS keys), translated in the
        context's language."""
        labels = {
            "title": self.env._("Evidence file"),
            "attestation_title": self.env._("Signature attestation"),
            "request": self.env._("Request"),
            "reference": self.env._("Reference"),
            "name": self.env._("Name"),
            "company": self.env._("Company"),
            "advisor": self.env._("Advisor"),
            "state": self.env._("Status"),
            "lang": self.env._("Language"),
            "date_created": self.env._("Created"),
            "date_sent": self.env._("Sent"),
            "date_deadline": self.env._("Expiry date"),
            "date_done": self.env._("Completed"),
            "level_requested": self.env._("Signature level requested"),
            "level_achieved": self.env._("Signature level achieved"),
            "tsa": self.env._("Time-stamping authority"),
            "tsa_none": self.env._("none: B-B only (no trusted time)"),
            "generated_at": self.env._("Generated"),
            "documents": self.env._("Documents"),
            "doc_type": self.env._("Type"),
            "original_sha256": self.env._("SHA-256 as uploaded"),
            "prepared_sha256": self.env._("SHA-256 prepared for signing"),
            "step_sha256": self.env._("SHA-256 after"),
            "final_sha256": self.env._("Final SHA-256"),
            "files": self.env._("Files in this evidence"),
            "not_signed": self.env._("no signed version"),
            "signers": self.env._("Signers"),
            "signer": self.env._("Signer"),
            "role": self.env._("Role"),
            "capacity": self.env._("Capacity"),
            "represented_party": self.env._("Represented party"),
            "email": self.env._("Email"),
            "mobile": self.env._("Mobile phone"),
            "presence": self.env._("Presence"),
            "id_document": self.env._("Identity document"),
            "id_expiry": self.env._("valid until"),
            "id_sha256": self.env._("Identity document file SHA-256"),
            "authentication": self.env._("Authentication"),
            "otp_sent": self.env._("Code sent"),
            "otp_verified": self.env._("Code verified"),
            "ip_address": self.env._("IP address"),
            "user_agent": self.env._("Browser"),
            "consent_sha256": self.env._("Consent text SHA-256"),
            "signer_state": self.env._("Status"),
            "date_signed": self.env._("Signed on"),
            "date_refused": self.env._("Refused on"),
            "refusal_reason": self.env._("Reason for refusal"),
            "certificate": self.env._("Signature certificate"),
            "seal": self.env._("Company seal"),
            "timeline": self.env._("Audit trail"),
            "col_seq": "#",
            "col_date": self.env._("Date (UTC)"),
            "col_event": self.env._("Event"),
            "col_signer": self.env._("Signer"),
            "col_ip": self.env._("IP address"),
            "col_details": self.env._("Details"),
            "chain": self.env._("Hash chain"),
            "chain_head": self.env._("Chain head (hash of the last event)"),
            "event_count": self.env._("Number of events"),
            "chain_rule": self.env._(
                "Each event's hash is the SHA-256 of the previous event's hash followed by the "
                "canonical JSON of the event (sorted keys, UTF-8); the first event follows 64 "
                "zeros. Any change, insertion or removal of an event breaks the chain."),
            "consent_texts": self.env._("Consent texts"),
            "consent_none": self.env._("No consent text was recorded."),
            "certificates": self.env._("Certificates"),
            "fingerprint": self.env._("SHA-256 fingerprint"),
            "verification": self.env._("How to verify this evidence"),
            "verification_text": self.env._(
                "Every file of the evidence ZIP is listed with its SHA-256 in manifest.json, "
                "which is sealed (manifest.json.p7s) and, when a time-stamping authority is "
                "configured, time-stamped. Unpack the ZIP and run “python3 verify.py”, or run "
                "“python3 verify.py EVIDENCE.zip”: it re-computes every hash and the audit "
                "trail chain and, when pyHanko is installed, validates every signature. Compare "
                "the fingerprint of certificates/company-ca.pem with the one published by the "
                "company."),
            "other_signers": self.env._("Other signers"),
            "other_signers_text": self.env._(
                "This request has {count} other signer(s), of whom {signed} signed. Their "
                "personal data is not part of this attestation."),
            "signer_events": self.env._("Events of this signer"),
            "attestation_intro": self.env._(
                "This attestation states the signature of the person below on the documents "
                "listed, as recorded in the request's audit trail."),
            "other_signature": self.env._("another signer"),
            "page": self.env._("Page"),
            "none": "—",
            "state_waiting": self.env._("Waiting"),
            "state_pending": self.env._("Pending"),
            "event_sealed": self.env._("Company seal applied"),
            "notice_draft": self.env._("This request was never sent."),
            "notice_in_progress": self.env._(
                "This request is still in progress: not every signer has signed."),
            "notice_refused": self.env._(
                "This request was refused: the documents were not signed by every signer. "
                "Documents under signed/, when present, are shown as they stood."),
            "notice_cancelled": self.env._(
                "This request was cancelled: the documents were not signed by every signer."),
            "notice_expired": self.env._("This request expired before every signer had signed."),
            "notice_error": self.env._(
                "This request ended in error: the documents were not signed by every signer."),
        }
        for value, label in self.env["o2s.esign.request"]._fields["state"]._description_selection(self.env):
            labels["state_" + value] = label
        for value, label in self.env["o2s.esign.signer"]._fields["state"]._description_selection(self.env):
            labels.setdefault("state_" + value, label)
        labels["state_signed"] = self.env._("Signed")
        for value, label in self.env["o2s.esign.event"]._fields["event_type"]._description_selection(self.env):
            labels["event_" + value] = label
        return labels

    @api.model
    def _esign_opener(self, attachment_sudo):
        """A callable opening the attachment's content as a binary stream (from the filestore
        when it is there, so big files are streamed)."""
        def opener():
            if attachment_sudo.store_fname:
                return open(attachment_sudo._full_path(attachment_sudo.store_fname), "rb")
            return io.BytesIO(attachment_sudo.raw or b"")
        return opener

    def _esign_lang(self):
        self.ensure_one()
        return self.partner_id.lang or self.user_id.lang or self.env.lang or "en_US"

    def _esign_evidence_bundle(self, *, state=None, date_done=None, lang=None):
        """Everything the evidence states (lib.evidence.EvidenceBundle), read from the request
        (sudo: the evidence needs the signing identity and the stored files; the caller checked
        the user's access to the request)."""
        self.ensure_one()
        lang = lang or self._esign_lang()
        request_sudo = self.sudo().with_context(lang=lang)
        company = request_sudo.company_id
        context = company._esign_signing_context(request_sudo.pades_level)
        events = request_sudo.event_ids.sorted("sequence")
        exported = [event._export_record() for event in events]
        steps = {}
        for event, record in zip(events, exported, strict=True):
            if event.event_type not in ("document_signature", "document_seal"):
                continue
            payload = record["payload"]
            steps.setdefault(payload.get("document_id"), []).append(lib_evidence.HashStep(
                sha256=payload.get("sha256_after"), date=record["date"],
                signer_ref=record["signer"],
                label="" if event.event_type == "document_signature"
                else request_sudo.env._("Company seal")))
        documents = []
        timestamps = {}
        for index, document in enumerate(request_sudo.document_ids.sorted(
                lambda d: (d.sequence, d.id)), start=1):
            signed = document.signed_attachment_id
            has_revisions = bool(signed) and signed != document.prepared_attachment_id
            documents.append(lib_evidence.EvidenceDocument(
                name=document.name,
                original=self._esign_opener(document.original_attachment_id.sudo()),
                original_sha256=document.original_sha256,
                doc_type=document.document_type_id.name or "",
                prepared_sha256=document.prepared_sha256,
                signed=self._esign_opener(signed.sudo()) if has_revisions else None,
                final_sha256=document.signed_sha256 if has_revisions else None,
                steps=steps.get(document.id, []),
            ))
            if has_revisions:
                for name, token in _timestamp_tokens(signed.sudo().raw):
                    timestamps["doc%d-%s.tst" % (index, name)] = token
        signers, signer_certs, extra_certs = self._esign_evidence_signers(
            request_sudo, exported, context)
        tsa_certs = []
        if context.tsa is not None:
            tsa_certs = list(context.pades.tsa_certificates(context.tsa))
        tsa_certs += company._esign_tsa_roots()
        certificates = lib_evidence.certificate_files(
            company_ca=context.material.ca.cert, seal=context.material.seal.cert,
            signer_certs=signer_certs, tsa_certs=_unique(tsa_certs))
        for number, cert in enumerate(_unique(
                [*context.material.ca.chain, *context.material.seal.chain, *extra_certs],
                exclude=[context.material.ca.cert, context.material.seal.cert]), start=1):
            certificates["chain-%d.pem" % number] = cert
        consents = []
        for event, record in zip(events, exported, strict=True):
            if event.event_type == "consent_given":
                text = _consent_text(record["payload"])
                if text and text not in [c.text for c in consents]:
                    consents.append(lib_evidence.ConsentText(text, label=event.signer_id.name or ""))
        levels = [d.pades_level_achieved for d in request_sudo.document_ids]
        achieved = min(levels, key=LEVEL_ORDER.index) if levels and all(levels) else ""
        return lib_evidence.EvidenceBundle(
            request=lib_evidence.EvidenceRequest(
                reference=request_sudo.reference or "",
                name=request_sudo.name or "",
                company=company.name or "",
                advisor=request_sudo.user_id.name or "",
                state=state or request_sudo.state,
                lang=lang,
                date_created=request_sudo.create_date,
                date_sent=request_sudo.date_sent,
                date_deadline=request_sudo.date_deadline,
                date_done=date_done or request_sudo.date_done,
                pades_level_requested=request_sudo.pades_level or "",
                pades_level_achieved=achieved,
                tsa_url=context.tsa_url,
            ),
            documents=documents,
            signers=signers,
            events=exported,
            certificates=certificates,
            timestamps=timestamps,
            consent_texts=consents,
            labels=request_sudo._esign_labels(),
            lang=lang,
        )

    @api.model
    def _esign_evidence_signers(self, request_sudo, exported, context):
        """(EvidenceSigner list, one-time certificates in order, other CA certificates)."""
        env = request_sudo.env
        roles = dict(env["o2s.esign.signer"]._fields["role"]._description_selection(env))
        presences = dict(env["o2s.esign.signer"]._fields["presence"]._description_selection(env))
        id_types = dict(env["o2s.esign.id.document"]._fields["doc_type"]._description_selection(env))
        signers, certs, extra = [], [], []
        for signer in request_sudo.signer_ids.sorted(lambda s: (s.sequence, s.id)):
            own = [r for r in exported if r["signer"] == signer.id]
            certificate = ""
            if signer.signing_certificate:
                certs.append(signer.signing_certificate)
                certificate = "signer-%d.pem" % len(certs)
                extra += _pem_certs(signer.signing_certificate_chain)
            last_seen = next((r for r in reversed(own) if r.get("ip_address")), {})
            consent_sha = next((_consent_sha(r["payload"]) for r in reversed(own)
                                if r["event_type"] == "consent_given" and _consent_sha(r["payload"])), "")
            signers.append(lib_evidence.EvidenceSigner(
                name=signer.name or "",
                ref=signer.id,
                role=roles.get(signer.role, signer.role or ""),
                capacity=signer._esign_capacity_label(),
                represented_party=signer.represented_partner_id.display_name or "",
                email=signer.email or "",
                mobile=signer.mobile or "",
                presence=presences.get(signer.presence, ""),
                id_doc_type=id_types.get(signer.id_doc_type, signer.id_doc_type or ""),
                id_doc_number=signer.id_doc_number or "",
                id_doc_expiry=signer.id_doc_expiry or None,
                id_doc_sha256=signer.id_doc_sha256 or "",
                auth_method=env._("Personal link sent by email, then a one-time code sent by SMS "
                                  "to %(mobile)s", mobile=signer.mobile or "?"),
                otp_sent=[r["date"] for r in own if r["event_type"] == "otp_sent"],
                otp_verified=[r["date"] for r in own if r["event_type"] == "otp_verified"],
                ip_address=last_seen.get("ip_address") or "",
                user_agent=last_seen.get("user_agent") or "",
                consent_sha256=consent_sha,
                state=signer.state,
                date_signed=signer.date_signed or None,
                date_refused=signer.date_refused or None,
                refusal_reason=signer.refusal_reason or "",
                certificate=certificate,
            ))
        return signers, certs, extra

    def _esign_build_evidence(self, *, state=None, date_done=None):
        """Build the evidence ZIP, store it as a new append-only attachment of the request and
        log ``evidence_generated``. Returns the attachment (sudo: the evidence attachment and
        the request's evidence fields are written by the module only, whoever triggered it; the
        callers checked the user's access to the request)."""
        self.ensure_one()
        request_sudo = self.sudo()
        bundle = self._esign_evidence_bundle(state=state, date_done=date_done)
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        sealer = lib_evidence.PadesSealer(
            context.pades, identity=context.material.seal, level=context.level, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls())
        with tempfile.TemporaryFile() as out:
            result = lib_evidence.build_evidence_zip(out, bundle, sealer=sealer)
            out.seek(0)
            data = out.read()
        name = "%s-%s.zip" % (lib_evidence.safe_name(request_sudo.reference or "request"),
                              request_sudo.env._("evidence"))
        attachment = self.env["ir.attachment"].sudo().create({
            "name": name,
            "raw": data,
            "mimetype": "application/zip",
            "res_model": self._name,
            "res_id": self.id,
            "description": EVIDENCE_MARK,
        })
        now = fields.Datetime.now()
        with internal_write():
            self.sudo().write({"evidence_attachment_id": attachment.id,
                               "evidence_sha256": result.sha256, "evidence_date": now})
        self._log_event("evidence_generated", payload={
            "sha256": result.sha256, "size": result.size, "attachment_id": attachment.id,
            "chain_head": result.manifest["chain_head"],
            "event_count": result.manifest["event_count"],
            "state": bundle.request.state, "level": bundle.request.pades_level_achieved or None,
            "tsa": bundle.request.tsa_url or NO_TSA_NOTE,
        })
        return attachment

    def _esign_ensure_evidence(self):
        """The request's evidence (sudo attachment: its content is protected from the user's
        own reads and writes), built now if it has none yet. Only for signed, refused,
        cancelled and expired requests."""
        self.ensure_one()
        if self.state not in EVIDENCE_STATES:
            raise UserError(_("The evidence file is available once the request is signed, "
                              "refused, cancelled or expired."))
        if self.sudo().evidence_attachment_id:
            return self.sudo().evidence_attachment_id
        try:
            return self._esign_build_evidence()
        except EsignError as exc:
            raise UserError(self._esign_error_message(exc)) from exc

    # ================================================================ actions
    def action_download_evidence(self):
        """Download the evidence ZIP (built now for refused, cancelled and expired requests
        that have none yet). The download is logged in the audit trail."""
        self.ensure_one()
        self.check_access("read")
        attachment = self._esign_ensure_evidence()
        self._log_event("evidence_downloaded", payload=dict(
            self._actor_payload(), sha256=self.evidence_sha256,
            attachment_id=attachment.id))
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/evidence/%d/download" % self.id,
            "target": "download",
        }

    def action_save_evidence_to_partner(self):
        """Save the evidence ZIP to the client contact's documents, in the folder
        "O2S – Signature électronique".

        Odoo 18 Community has no Documents app: the folder is the attachment's description
        and the prefix of its name, so the file shows in the contact's attachments (chatter),
        and searching or grouping the contact's attachments by description gives the folder.
        Saving the same evidence twice keeps one copy."""
        self.ensure_one()
        self.check_access("read")
        self.partner_id.check_access("read")
        evidence = self._esign_ensure_evidence()
        attachment, created = self._esign_attach_to_partner_sudo(evidence)
        if created:
            self._log_event("evidence_saved", payload=dict(
                self._actor_payload(), sha256=self.evidence_sha256,
                attachment_id=attachment.id, partner_id=self.partner_id.id))
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {
                "type": "success", "sticky": False,
                "message": _("The evidence file is saved in the documents of %(partner)s "
                             "(folder “%(folder)s”).", partner=self.partner_id.display_name,
                             folder=PARTNER_FOLDER),
            },
        }

    def _esign_attach_to_partner_sudo(self, evidence_sudo):
        """Copy the evidence to the client contact as an attachment: ``(attachment, created)``.
        The copy is linked to the request (``esign_request_id``): only who may read the request
        reads it (see ir_attachment_esign.py), not everyone who reads the contact.
        sudo: filing the evidence of a request one can read with the client it was sent from
        needs no right to edit the contact itself (advisors often have none)."""
        self.ensure_one()
        partner = self.partner_id
        attachments_sudo = self.env["ir.attachment"].sudo()
        existing = attachments_sudo.search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
            ("description", "=", PARTNER_FOLDER), ("checksum", "=", evidence_sudo.checksum)],
            limit=1)
        if existing:
            if existing.esign_request_id != self:  # a copy saved before copies were linked
                with internal_write():
                    existing.write({"esign_request_id": self.id})
            return existing, False
        with internal_write():
            return attachments_sudo.create({
                "name": "%s – %s – %s.zip" % (PARTNER_FOLDER, self.reference or "",
                                              self.env._("evidence file")),
                "raw": evidence_sudo.raw,
                "mimetype": "application/zip",
                "res_model": "res.partner",
                "res_id": partner.id,
                "description": PARTNER_FOLDER,
                "esign_request_id": self.id,
            }), True

    def _esign_build_attestation(self, signer):
        """The sealed attestation of one signer (no other signer's personal data), stored as an
        attachment of the request. Returns the attachment (sudo, as for the evidence: written
        by the module only; the caller checked the user's access to the signer)."""
        self.ensure_one()
        signer.ensure_one()
        if signer.request_id != self:
            raise UserError(_("This signer does not belong to this request."))
        if self.state not in EVIDENCE_STATES:
            raise UserError(_("The evidence file is available once the request is signed, "
                              "refused, cancelled or expired."))
        request_sudo = self.sudo()
        bundle = self._esign_evidence_bundle(lang=signer.lang or self._esign_lang())
        index = [s.ref for s in bundle.signers].index(signer.id)
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        sealer = lib_evidence.PadesSealer(
            context.pades, identity=context.material.seal, level=context.level, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls())
        try:
            data = lib_evidence.build_signer_attestation(bundle, index, sealer=sealer)
        except EsignError as exc:
            raise UserError(self._esign_error_message(exc)) from exc
        attachment = self.env["ir.attachment"].sudo().create({
            "name": "%s-%s-%s.pdf" % (lib_evidence.safe_name(self.reference or "request"),
                                      request_sudo.env._("attestation"),
                                      lib_evidence.safe_name(signer.name or "signer")),
            "raw": data,
            "mimetype": "application/pdf",
            "res_model": self._name,
            "res_id": self.id,
            "description": ATTESTATION_MARK,
        })
        with internal_write():
            signer.sudo().write({"attestation_attachment_id": attachment.id})
        self._log_event("attestation_generated", signer=signer, payload=dict(
            self._actor_payload(), sha256=hashlib.sha256(data).hexdigest(),
            attachment_id=attachment.id))
        return attachment


# ------------------------------------------------------------------ helpers
def _unique(certs, exclude=()):
    seen = {c.dump() for c in exclude}
    result = []
    for cert in certs:
        der = cert.dump()
        if der not in seen:
            seen.add(der)
            result.append(cert)
    return result


def _pem_certs(text):
    if not text:
        return []
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509
    return [asn1_x509.Certificate.load(der)
            for _type, _headers, der in asn1_pem.unarmor(text.encode("ascii"), multiple=True)]


def _consent_text(payload):
    for key in ("consent_text", "text"):
        value = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def _consent_sha(payload):
    if not isinstance(payload, dict):
        return ""
    for key in ("consent_sha256", "text_sha256", "sha256"):
        value = payload.get(key)
        if isinstance(value, str) and len(value) == 64:
            return value
    text = _consent_text(payload)
    return lib_evidence.consent_sha256(text) if text else ""


def _timestamp_tokens(data):
    """(name, DER token) of every RFC 3161 token in a signed PDF: the signature timestamps
    (named after their field) and the document timestamps."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    tokens = []
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for number, es in enumerate(reader.embedded_signatures, start=1):
            name = lib_evidence.safe_name(es.field_name or "signature-%d" % number, "signature")
            contents = es.sig_object.get("/Contents")
            if es.sig_object_type == "/DocTimeStamp":
                tokens.append(("%s-doc-timestamp" % name, cms.ContentInfo.load(
                    bytes(contents), strict=False).dump()))
                continue
            for attr in es.signer_info["unsigned_attrs"] or []:
                if attr["type"].native == "signature_time_stamp_token":
                    tokens.append((name, attr["values"][0].dump()))
    except (ValueError, TypeError, KeyError) as exc:
        raise EvidenceError("seal_failed", {"reason": "timestamp tokens: %s" % exc}) from exc
    return tokens
