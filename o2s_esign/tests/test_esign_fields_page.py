# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 17, the signer's side: the signing page gives each signer their own fields (in the
order they fill them, no value of another signer), and the values typed or ticked there come
back with the signature (or before the browser's key signs) over the real routes; what an
attacker posts (another signer's field, another request's, a too long text, a missing required
value, a value after signing) is refused and nothing is stored."""
import base64
import html
import json
import re

from odoo import fields
from odoo.tests import tagged

from ..models.o2s_esign_field import MAX_TEXT_LENGTH
from ..tools import internal_write
from .esign_portal_common import EsignHttpCommon
from .test_esign_browser_key import FakeBrowserKey
from .test_esign_fields_sign import field_value

_FIELDS_ATTR = re.compile(r'data-fields="([^"]*)"')


def field_box(request, signer, field_type, page=1, x=72, y=72, width=160, height=40, **values):
    return dict({
        "document_id": request.document_ids[:1].id, "signer_id": signer.id,
        "field_type": field_type, "page": page, "x": x, "y": y, "width": width, "height": height,
    }, **values)


@tagged("post_install", "-at_install")
class TestEsignFieldsPage(EsignHttpCommon):

    def _request_with_fields(self, two_signers=False):
        """A sent request whose first signer has a signature box (bottom of page 1), a text
        field "Lieu" (top), a checkbox to its right, a date and an optional text; the second
        signer (when asked) a text field of their own."""
        signers = [{"partner_id": self.client.id}]
        if two_signers:
            signers.append({"partner_id": self.client2.id})
        draft = self._draft_request(signers=signers)
        first = draft.signer_ids.sorted("sequence")[0]
        Field = self.env["o2s.esign.field"].with_user(self.advisor)
        mine = Field.create([
            field_box(draft, first, "signature", x=320, y=60, width=180, height=60),
            field_box(draft, first, "text", x=72, y=700, label="Lieu"),
            field_box(draft, first, "checkbox", x=300, y=700, width=14, height=14,
                      label="J'accepte"),
            field_box(draft, first, "date", x=72, y=60, height=60),
            field_box(draft, first, "text", x=72, y=600, label="Remarque", required=False),
        ])
        other = Field
        if two_signers:
            second = draft.signer_ids.sorted("sequence")[1]
            other = Field.create(field_box(draft, second, "text", x=72, y=500, label="Ville"))
        draft.action_send()
        request = draft.sudo()
        return request, request.signer_ids.sorted("sequence")[0], mine.sudo(), other.sudo()

    def _page_fields(self, response):
        found = []
        for raw in _FIELDS_ATTR.findall(response.text):
            found.extend(json.loads(html.unescape(raw)))
        return found

    def _sign_with(self, signer, csrf, token, field_values):
        return self._call(signer, "sign", token=token, csrf_token=csrf,
                          field_values=field_values, **self._sign_values(signer))

    # ------------------------------------------------------------------ page
    def test_page_gives_the_signer_their_own_fields_in_order(self):
        request, signer, mine, other = self._request_with_fields(two_signers=True)
        with internal_write():  # what the second signer typed must not reach the first
            other.write({"value": "Ville du second", "date_filled": fields.Datetime.now()})
        response = self._fetch(self._path(signer))
        self.assertEqual(response.status_code, 200)
        page_fields = self._page_fields(response)
        self.assertEqual(sorted(f["id"] for f in page_fields), sorted(mine.ids))
        self.assertNotIn("Ville du second", response.text)
        self.assertNotIn(str(other.id), [str(f["id"]) for f in page_fields])
        # filled top to bottom, left to right: Lieu, the checkbox, Remarque, date, signature
        signature, lieu, checkbox, date, remark = mine
        by_order = [f["id"] for f in sorted(page_fields, key=lambda f: f["order"])]
        self.assertEqual(by_order, [lieu.id, checkbox.id, remark.id, date.id, signature.id])
        self.assertEqual([f["order"] for f in page_fields], [1, 2, 3, 4, 5])
        lieu_values = next(f for f in page_fields if f["id"] == lieu.id)
        self.assertEqual((lieu_values["type"], lieu_values["page"], lieu_values["label"]),
                         ("text", 1, "Lieu"))
        self.assertEqual(lieu_values["rect"], [72.0, 700.0, 232.0, 740.0])
        self.assertEqual(lieu_values["document_id"], request.document_ids[:1].id)
        # the Sign button waits for the required fields, and says why
        self.assertRegex(response.text, r'<button[^>]*o_esign_sign"[^>]*disabled')
        self.assertIn("o_esign_fields_hint", response.text)
        self.assertIn('data-initials="JM"', response.text)
        # the second signer sees their own field only
        second = request.signer_ids - signer
        self.assertEqual([f["id"] for f in self._page_fields(self._fetch(self._path(second)))],
                         other.ids)

    def test_page_without_fields_is_unchanged(self):
        self._keep_sent_request()
        response = self._fetch(self._path(self.signer))
        self.assertNotIn("data-fields", response.text)
        self.assertNotIn("o_esign_next_field", response.text)
        self.assertNotRegex(response.text, r'<button[^>]*o_esign_sign"[^>]*disabled')

    # ------------------------------------------------------------- signing
    def test_values_are_stored_with_the_signature(self):
        request, signer, mine, _other = self._request_with_fields()
        signature, lieu, checkbox, date, remark = mine
        today = re.search(r'data-today="([^"]+)"', self._fetch(self._path(signer)).text).group(1)
        csrf, token = self._verify(signer)
        result = self._sign_with(signer, csrf, token, {
            str(lieu.id): "  Paris  ", str(checkbox.id): True, str(remark.id): ""})
        self.assertEqual(result.get("state"), "signed", result)
        self.env.invalidate_all()
        self.assertEqual((lieu.value, checkbox.value), ("Paris", "1"))
        self.assertTrue(lieu.date_filled and checkbox.date_filled)
        self.assertFalse(remark.value)
        # the server fills the date itself, as the page showed it; a signature has no value
        self.assertEqual(date.value, html.unescape(today))
        self.assertTrue(date.date_filled)
        self.assertFalse(signature.value)
        # written into the signed PDF, covered by the signature
        data = lieu.document_id.signed_attachment_id.raw
        self.assertEqual(field_value(data, lieu.pdf_field_name), "Paris")
        self.assertEqual(field_value(data, checkbox.pdf_field_name), "/Yes")
        self.assertEqual(field_value(data, date.pdf_field_name), date.value)

    def test_missing_required_values_are_refused(self):
        request, signer, mine, _other = self._request_with_fields()
        _signature, lieu, checkbox, _date, _remark = mine
        csrf, token = self._verify(signer)
        for values, message in (
                (None, "Lieu"),
                ({str(checkbox.id): True}, "Please fill in the field “Lieu”"),
                ({str(lieu.id): "   ", str(checkbox.id): True}, "Please fill in the field “Lieu”"),
                ({str(lieu.id): "Paris"}, "Please tick the box “J'accepte”"),
                ({str(lieu.id): "Paris", str(checkbox.id): False}, "Please tick the box"),
                ({str(lieu.id): "Paris", str(checkbox.id): "yes"}, "could not be read"),
                ({str(lieu.id): ["Paris"], str(checkbox.id): True}, "could not be read"),
                ("Paris", "could not be read")):
            with self.subTest(values=values):
                result = self._sign_with(signer, csrf, token, values)
                self.assertIn(message, result.get("error", ""), result)
        self.env.invalidate_all()
        self.assertEqual(signer.state, "pending")
        self.assertFalse(mine.filtered("value"), "nothing stored")
        self.assertFalse(self._events(request, "signed"))

    def test_text_is_bounded_and_printable(self):
        _request, signer, mine, _other = self._request_with_fields()
        _signature, lieu, checkbox, _date, remark = mine
        csrf, token = self._verify(signer)
        for text in ("x" * (MAX_TEXT_LENGTH + 1), "Paris\x00", "Pa\x1bris"):
            with self.subTest(text=text[:12]):
                result = self._sign_with(signer, csrf, token,
                                         {str(lieu.id): text, str(checkbox.id): True})
                self.assertIn("too long", result.get("error", ""), result)
                self.assertEqual(result.get("field_id"), lieu.id)
        # an optional field is checked too
        result = self._sign_with(signer, csrf, token, {
            str(lieu.id): "Paris", str(checkbox.id): True, str(remark.id): "y" * 500})
        self.assertIn("too long", result.get("error", ""))
        self.env.invalidate_all()
        self.assertFalse(mine.filtered("value"))
        self.assertEqual(signer.state, "pending")
        # exactly the limit is fine
        result = self._sign_with(signer, csrf, token,
                                 {str(lieu.id): "x" * MAX_TEXT_LENGTH, str(checkbox.id): True})
        self.assertEqual(result.get("state"), "signed", result)
        self.env.invalidate_all()
        self.assertEqual(len(lieu.value), MAX_TEXT_LENGTH)

    # ------------------------------------------------------------- attacker
    def test_another_signer_cannot_fill_my_fields(self):
        request, signer, mine, other = self._request_with_fields(two_signers=True)
        _signature, lieu, checkbox, date, _remark = mine
        second = request.signer_ids - signer
        csrf, token = self._verify(second)
        # the second signer's token, the first signer's fields (text, checkbox, date)
        for values in ({str(other.id): "Lyon", str(lieu.id): "Forged"},
                       {str(other.id): "Lyon", str(checkbox.id): False},
                       {str(other.id): "Lyon", str(date.id): "01/01/2000"},
                       {str(other.id): "Lyon", "not-an-id": "x"}):
            for action in ("sign", "prepare"):
                with self.subTest(values=values, action=action):
                    result = self._call(second, action, token=token, csrf_token=csrf,
                                        field_values=values, **(
                                            self._sign_values(second) if action == "sign" else {}))
                    self.assertIn("could not be read", result.get("error", ""), result)
        # nor the first signer's link without its own verified code (the session is the second's)
        result = self._call(signer, "sign", token=signer._get_signing_token(), csrf_token=csrf,
                            field_values={str(lieu.id): "Forged", str(checkbox.id): True},
                            **self._sign_values(signer))
        self.assertTrue(result.get("reset_code"), result)
        self.env.invalidate_all()
        self.assertFalse((mine | other).filtered("value"), "nothing stored")
        self.assertEqual((signer | second).mapped("state"), ["pending", "pending"])

    def test_a_field_of_another_request_is_refused(self):
        _request, signer, mine, _other = self._request_with_fields()
        _r2, _signer2, foreign, _o2 = self._request_with_fields()
        _signature, lieu, checkbox, _date, _remark = mine
        csrf, token = self._verify(signer)
        result = self._sign_with(signer, csrf, token, {
            str(lieu.id): "Paris", str(checkbox.id): True, str(foreign[1].id): "Forged"})
        self.assertIn("could not be read", result.get("error", ""))
        self.env.invalidate_all()
        self.assertFalse((mine | foreign).filtered("value"))
        self.assertEqual(signer.state, "pending")

    def test_no_value_after_signing(self):
        _request, signer, mine, _other = self._request_with_fields(two_signers=True)
        _signature, lieu, checkbox, _date, _remark = mine
        csrf, token = self._verify(signer)
        result = self._sign_with(signer, csrf, token, {str(lieu.id): "Paris", str(checkbox.id): True})
        self.assertEqual(result.get("state"), "signed", result)
        self.env.invalidate_all()
        filled_on = lieu.date_filled
        # the same link posts again: refused by the route and by the model itself
        result = self._sign_with(signer, csrf, token, {str(lieu.id): "Nice", str(checkbox.id): True})
        self.assertIn("cannot be signed any more", result.get("error", ""))
        result = self._call(signer, "prepare", token=token, csrf_token=csrf,
                            field_values={str(lieu.id): "Nice", str(checkbox.id): True})
        self.assertIn("cannot be signed any more", result.get("error", ""))
        error = signer._esign_set_field_values({str(lieu.id): "Nice", str(checkbox.id): True})
        self.assertIn("cannot be signed any more", error["error"])
        self.env.invalidate_all()
        self.assertEqual((lieu.value, lieu.date_filled), ("Paris", filled_on))

    # ----------------------------------------------------------- browser key
    def test_browser_key_path_stores_values_before_preparing(self):
        request, signer, mine, _other = self._request_with_fields()
        _signature, lieu, checkbox, _date, _remark = mine
        csrf, token = self._verify(signer)
        key = FakeBrowserKey()
        challenge = self._call(signer, "key_challenge", token=token, csrf_token=csrf)["challenge"]
        self._call(signer, "key", token=token, csrf_token=csrf, proof=key.sign_b64(challenge),
                   public_key=base64.b64encode(key.spki).decode())
        values = {str(lieu.id): "Paris", str(checkbox.id): True}
        # a required value missing: nothing prepared
        result = self._call(signer, "prepare", token=token, csrf_token=csrf,
                            field_values={str(lieu.id): "Paris"})
        self.assertIn("Please tick the box", result.get("error", ""))
        self.assertNotIn("documents", result)
        prepared = self._call(signer, "prepare", token=token, csrf_token=csrf, field_values=values)
        self.assertTrue(prepared.get("documents"), prepared)
        self.env.invalidate_all()
        self.assertEqual((lieu.value, checkbox.value), ("Paris", "1"))
        filled_on = lieu.date_filled
        signatures = {str(d["id"]): key.sign_b64(d["to_be_signed"]) for d in prepared["documents"]}
        result = self._call(signer, "sign", token=token, csrf_token=csrf, key_signatures=signatures,
                            field_values=values, **self._sign_values(signer))
        self.assertEqual(result.get("state"), "signed", result)
        self.assertEqual(self._payload(self._events(request, "signed"))["key_mode"], "browser")
        self.env.invalidate_all()
        self.assertEqual(lieu.date_filled, filled_on, "an unchanged value keeps its time")
