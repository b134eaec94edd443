# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Free text typed by advisors and signers (subject, message, reasons, file names) gets a clear
error before anything is stored, instead of a server error or a silent surprise: a NUL
character (which PostgreSQL refuses), other control characters, absurd lengths; a document's
name never keeps a path or control characters, whatever the entry point (wizard, API, ORM).
See tests/fixtures/hostile for the inputs this is checked against."""
import re

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import email_split

#: longest subject of a request (characters)
MAX_SUBJECT_LENGTH = 1000
#: longest message to the signers (characters)
MAX_MESSAGE_LENGTH = 10_000
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


def _has_nul(vals, names):
    return any(isinstance(vals.get(name), str) and "\x00" in vals[name] for name in names)


class O2sEsignRequest(models.Model):
    _inherit = "o2s.esign.request"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_storable_text(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_storable_text(vals)
        return super().write(vals)

    @api.model
    def _check_storable_text(self, vals):
        if _has_nul(vals, ("name", "message")):
            raise UserError(_("The subject or the message contains characters that cannot be used."))

    def _get_send_problems(self):
        return super()._get_send_problems() + self._get_text_problems()

    def _get_text_problems(self):
        """What is wrong with the subject and the message, as translated sentences."""
        self.ensure_one()
        problems = []
        if len(self.name or "") > MAX_SUBJECT_LENGTH:
            problems.append(_("The subject is too long (%(max)s characters at most).",
                              max=MAX_SUBJECT_LENGTH))
        if has_control_chars(self.name):
            problems.append(_("The subject contains characters that cannot be used."))
        if len(self.message or "") > MAX_MESSAGE_LENGTH:
            problems.append(_("The message to the signers is too long (%(max)s characters at "
                              "most).", max=MAX_MESSAGE_LENGTH))
        if has_control_chars(self.message):
            problems.append(_("The message to the signers contains characters that cannot be used."))
        return problems

    def action_cancel(self, reason=None):
        if has_control_chars(reason):
            raise UserError(_("The cancellation reason contains characters that cannot be used."))
        return super().action_cancel(reason=reason)


class O2sEsignDocument(models.Model):
    _inherit = "o2s.esign.document"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") and vals.get("original_attachment_id"):
                attachment = self.env["ir.attachment"].browse(vals["original_attachment_id"])
                vals["name"] = attachment.name
            if vals.get("name"):
                vals["name"] = self._safe_file_name(vals["name"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("name"):
            vals = dict(vals, name=self._safe_file_name(vals["name"]))
        return super().write(vals)


class O2sEsignSigner(models.Model):
    _inherit = "o2s.esign.signer"  # pylint: disable=consider-merging-classes-inherited

    def _get_send_problems(self):
        problems = super()._get_send_problems()
        partner = self.partner_id
        if partner.email and not is_single_address(partner.email):
            invalid = _("%(name)s has an invalid email address (%(email)s).",
                        name=partner.display_name, email=partner.email)
            if not partner.email.strip():  # only spaces: no address at all
                problems = [p for p in problems if p != invalid]
                problems.insert(0, _("%(name)s has no email address.", name=partner.display_name))
            elif invalid not in problems:
                problems.append(invalid)
        return problems

    def _portal_refuse(self, reason, ip_address=None, user_agent=None):
        if has_control_chars(reason):
            return _("The reason contains characters that cannot be used.")
        return super()._portal_refuse(reason, ip_address=ip_address, user_agent=user_agent)
