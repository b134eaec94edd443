# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The request's flow around the core: checks made before a request is created and sent (who must
sign for a company or a protected person; the pre-check that lets the wizard and
``create_and_send`` refuse bad input with one error listing every problem, before anything is
created), all-or-nothing ``create_and_send``, the origin record told of each state change, and
the signatures kept while a service was down applied first on retry."""
from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.fields import Command


class O2sEsignRequest(models.Model):
    _inherit = "o2s.esign.request"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------- validation
    def _get_send_problems(self):
        problems = super()._get_send_problems()
        return problems + self._get_capacity_problems()

    def _get_capacity_problems(self):
        """Who signs in what capacity: a company signs through its representative, a person
        under tutelle through their legal representative, a person under curatelle together
        with their curator. Returns translated sentences."""
        self.ensure_one()
        problems = []
        signers = self.signer_ids
        for signer in signers:
            partner = signer.partner_id
            if signer.role in ("legal_representative", "company_representative"):
                represented = signer.represented_partner_id
                if not represented:
                    problems.append(_(
                        "%(name)s signs as a representative: say on whose behalf.",
                        name=partner.display_name))
                elif signer.role == "legal_representative" and \
                        partner not in represented.esign_legal_representative_ids:
                    problems.append(_(
                        "%(name)s is not a legal representative of %(person)s (see the "
                        "E-signature tab of %(person)s).",
                        name=partner.display_name, person=represented.display_name))
                elif signer.role == "company_representative" and not represented.is_company:
                    problems.append(_(
                        "%(name)s signs for %(person)s, which is not a company.",
                        name=partner.display_name, person=represented.display_name))
            elif not partner.is_company and partner.esign_protection == "tutelle":
                problems.append(_(
                    "%(name)s is under guardianship (tutelle): their legal representative signs "
                    "on their behalf.", name=partner.display_name))
        # The people the request is about: the client and whoever a signer represents.
        represented = self.partner_id | signers.represented_partner_id
        for person in represented:
            acting_for = signers.filtered(lambda s, p=person: s.represented_partner_id == p)
            if person.is_company:
                if person == self.partner_id and not acting_for.filtered(
                        lambda s: s.role == "company_representative"):
                    problems.append(_(
                        "%(company)s is a company: add the person who signs on its behalf.",
                        company=person.display_name))
            elif person.esign_protection == "tutelle":
                if not acting_for.filtered(lambda s: s.role == "legal_representative"):
                    problems.append(_(
                        "%(name)s is under guardianship (tutelle): their legal representative "
                        "must sign on their behalf.", name=person.display_name))
            elif person.esign_protection == "curatelle":
                signs_self = signers.filtered(
                    lambda s, p=person: s.partner_id == p and s.role == "signer")
                curators = acting_for.filtered(lambda s: s.role == "legal_representative")
                if not (signs_self and curators):
                    problems.append(_(
                        "%(name)s is under curatorship (curatelle): they and their curator must "
                        "both sign.", name=person.display_name))
        return problems

    @api.model
    def _check_before_create(self, vals):
        """Raise one UserError listing every reason why a request made of ``vals`` (the values
        of ``create``, documents pointing to existing attachments) could not be sent. Nothing is
        created: the check runs on a new record in memory (with the defaults ``create`` would
        apply, which ``new`` does not)."""
        values = dict(self.default_get(list(self._fields)), **vals)
        for field_name in ("document_ids", "signer_ids"):
            comodel = self.env[self._fields[field_name].comodel_name]
            commands = []
            for command in values.get(field_name) or []:
                if isinstance(command, (list, tuple)) and command[0] == Command.CREATE:
                    line = dict(comodel.default_get(list(comodel._fields)), **command[2])
                    command = Command.create(line)
                commands.append(command)
            values[field_name] = commands
        request = self.new(values)
        problems = request._get_send_problems()
        if problems:
            self._raise_send_problems(problems)

    @api.model
    def _raise_send_problems(self, problems):
        """Raise the UserError that lists ``problems`` (translated sentences), one per line."""
        raise UserError(_("The request cannot be sent:") + "\n" + "\n".join(
            "• %s" % problem for problem in problems))

    # ------------------------------------------------------------ integration
    @api.model
    def create_and_send(self, values):
        # All or nothing, even for a caller that catches the error and goes on: what was
        # created (attachments, request, events) before a failure is rolled back.
        with self.env.cr.savepoint():
            return super().create_and_send(values)

    # ---------------------------------------------------------------- origin
    def _set_state(self, new_state, event_payload=None, **values):
        old_states = {request.id: request.state for request in self}
        res = super()._set_state(new_state, event_payload=event_payload, **values)
        for request in self:
            origin = request._get_origin_record()
            if origin is not None:
                origin._esign_on_request_state(request, old_states[request.id], new_state)
        return res

    def _get_origin_record(self):
        """The record that asked for this request, when its model uses the origin mixin."""
        self.ensure_one()
        if not (self.origin_model and self.origin_id) or self.origin_model not in self.env:
            return None
        Origin = self.env[self.origin_model]
        if not isinstance(Origin, self.env.registry["o2s.esign.origin.mixin"]):
            return None
        record = Origin.browse(self.origin_id).exists()
        return record or None

    # ------------------------------------------------------------ retry (portal)
    def _resume_after_retry(self):
        """Apply first the signatures that signers made while a service was down (without
        asking them again); stop there if one still cannot be applied (back in error)."""
        self.ensure_one()
        for signer in self.signer_ids.filtered("sign_pending").sorted("sequence"):
            if not signer._apply_pending_signature():
                return False
        if self.state not in ("in_progress", "error"):
            return True  # the signatures completed (or closed) the request
        return super()._resume_after_retry()
