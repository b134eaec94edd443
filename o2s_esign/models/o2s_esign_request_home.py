# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

# The statuses the home block can show, in the order it shows them.
HOME_STATES = ("in_progress", "signed", "refused", "cancelled", "expired", "error")
# How many of the latest requests the block lists.
HOME_LATEST_LIMIT = 8


class O2sEsignRequest(models.Model):
    """The E-signature home block's data, and tracking helpers (document types)."""

    # Each part of the module extends the model in a file of its own (TEAM.md).
    _inherit = "o2s.esign.request"  # pylint: disable=consider-merging-classes-inherited

    document_type_ids = fields.Many2many(
        "o2s.esign.document.type", "o2s_esign_request_document_type_rel", "request_id",
        "document_type_id", string="Document types", compute="_compute_document_type_ids",
        store=True, help="The types of the request's documents (to filter and group requests).")

    # ---------------------------------------------------------------- computes
    @api.depends("document_ids.document_type_id")
    def _compute_document_type_ids(self):
        for request in self:
            request.document_type_ids = request.document_ids.document_type_id

    # -------------------------------------------------------------- home block
    @api.model
    def _esign_home_domain(self, states, signed_days):
        """The current user's requests in ``states``; signed ones only if completed within the
        last ``signed_days`` days (0: no limit). "The user's requests" are the ones they are the
        advisor of and those shared with them; record rules apply on top (other companies are
        never counted)."""
        uid = self.env.uid
        domain = [
            "|", ("user_id", "=", uid), ("shared_user_ids", "in", [uid]),
            ("state", "in", list(states)),
        ]
        if "signed" in states and signed_days:
            since = fields.Datetime.now() - timedelta(days=signed_days)
            domain += ["|", ("state", "!=", "signed"),
                       ("date_done", ">=", fields.Datetime.to_string(since))]
        return domain

    @api.model
    def get_esign_home_data(self):
        """Everything the E-signature home block shows, in a fixed number of queries whatever
        the number of requests: one grouped count per status, and the latest requests.

        Returns a dict: ``statuses`` (list of ``{state, label, count}`` in display order, only
        the statuses the user chose), ``latest`` (list of ``{id, reference, name, partner,
        state, state_label, date}``), ``signed_days``, ``on_dashboard``, ``total``.
        """
        settings = self.env.user._esign_home_settings()
        states = settings["states"]
        labels = dict(self._fields["state"]._description_selection(self.env))
        counts = dict.fromkeys(states, 0)
        latest = []
        if states:
            domain = self._esign_home_domain(states, settings["signed_days"])
            for state, count in self._read_group(domain, ["state"], ["__count"]):
                counts[state] = count
            requests = self.search_fetch(
                domain, ["reference", "name", "partner_id", "state", "date_sent", "date_done",
                         "write_date"],
                order="write_date desc, id desc", limit=HOME_LATEST_LIMIT)
            for request in requests:
                date = request.date_done or request.date_sent or request.write_date
                latest.append({
                    "id": request.id,
                    "reference": request.reference or "",
                    "name": request.name,
                    "partner": request.partner_id.display_name or "",
                    "state": request.state,
                    "state_label": labels.get(request.state, request.state),
                    "date": fields.Datetime.to_string(date) if date else False,
                })
        return {
            "statuses": [{"state": state, "label": labels[state], "count": counts[state]}
                         for state in states],
            "latest": latest,
            "signed_days": settings["signed_days"],
            "on_dashboard": settings["on_dashboard"],
            "total": sum(counts.values()),
        }

    @api.model
    def action_esign_home_open(self, state=None):
        """The list behind one count of the home block (``state``), or behind all of them."""
        settings = self.env.user._esign_home_settings()
        if state:
            if state not in HOME_STATES:
                raise UserError(_("Unknown signature request status: %(state)s", state=state))
            states = [state]
        else:
            states = settings["states"] or list(HOME_STATES)
        days = settings["signed_days"]
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        action["domain"] = self._esign_home_domain(states, days)
        action["context"] = {"create": False}
        labels = dict(self._fields["state"]._description_selection(self.env))
        if state == "signed" and days:
            action["name"] = _("Signed in the last %(days)s days", days=days)
        elif state:
            action["name"] = _("My requests: %(status)s", status=labels[state])
        else:
            action["name"] = _("My signature requests")
        return action
