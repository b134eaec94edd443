# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Identity documents: French identity cards issued from 2004 to 2013 to adults are valid five
years past their printed date (décret 2013-1188); an expired document blocks sending with a
sentence that names the signer, the date and why."""
import json
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import O2sEsignCommon

#: "today" in these tests: the issue's examples (a card printed to expire in 2023 still valid,
#: one printed to expire in 2024 expired) hold on this day whatever the machine's clock says.
TODAY = "2026-06-15"


@tagged("post_install", "-at_install")
class TestEsignIdDocument(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.card = cls.client.esign_id_document_ids
        cls.card.write({"number": "130675000001", "issuing_country_id": cls.env.ref("base.fr").id})

    def _set_card(self, issued, printed, **values):
        self.card.write(dict({"doc_type": "id_card", "date_issue": issued, "date_expiry": printed},
                             **values))

    def _refusal(self):
        request = self._draft_request()
        with self.assertRaises(UserError) as caught:
            request.action_send()
        self.assertEqual(request.state, "draft")
        return str(caught.exception)

    @freeze_time(TODAY)
    def test_adult_card_issued_in_2013_is_valid_five_more_years(self):
        self._set_card(date(2013, 5, 2), date(2023, 5, 1))
        self.assertEqual(self.card.date_valid_until, date(2028, 5, 1))
        self.assertTrue(self.card.is_valid)
        self.assertIn("05/01/2028", self.card.validity_note)
        self.assertIn("décret 2013-1188", self.card.validity_note)
        self.assertEqual(self.client._esign_valid_id_document(), self.card)
        request = self._sent_request()
        signer = request.signer_ids
        self.assertEqual(signer.id_doc_expiry, date(2028, 5, 1), "the extended date is frozen")
        created = request.event_ids.filtered(lambda e: e.event_type == "created")
        [summary] = json.loads(created.payload)["signers"]
        self.assertEqual(summary["id_document"]["valid_until"], "2028-05-01")
        self.assertEqual(summary["id_document"]["printed_expiry"], "2023-05-01")
        self.assertEqual(summary["id_document"]["extended_by"], "décret 2013-1188")

    @freeze_time(TODAY)
    def test_card_issued_in_2014_expires_on_its_printed_date(self):
        self._set_card(date(2014, 1, 15), date(2024, 1, 14))
        self.assertEqual(self.card.date_valid_until, date(2024, 1, 14))
        self.assertFalse(self.card.is_valid)
        self.assertFalse(self.card.validity_note)
        message = self._refusal()
        self.assertIn("Jeanne Martin has no identity document valid today. Identity card "
                      "130675000001 expired on 01/14/2024.", message)
        self.assertIn("Issued on 01/15/2014, after 2013: a French identity card issued from 2014 "
                      "on is valid until its printed date", message)

    @freeze_time(TODAY)
    def test_cards_the_decree_does_not_extend(self):
        """Issued to a minor, by another country, a passport, or beyond the five years: the
        printed date holds (or the extended one has passed too), and the sentence says so."""
        cases = {
            "minor": ({"issued_to_minor": True}, date(2023, 5, 1),
                      "Issued to a minor, it is valid until its printed date"),
            "Belgian card": ({"issuing_country_id": self.env.ref("base.be").id}, date(2023, 5, 1),
                             None),
            "passport": ({"doc_type": "passport"}, date(2023, 5, 1), None),
            "extension over": ({}, date(2021, 5, 1),
                               "That is its printed date (05/01/2016) plus five years"),
        }
        for case, (values, expired_on, reason) in cases.items():
            with self.subTest(case=case):
                self.card.write({"issued_to_minor": False,
                                 "issuing_country_id": self.env.ref("base.fr").id})
                printed = date(2023, 5, 1) if case != "extension over" else date(2016, 5, 1)
                self._set_card(date(2013, 5, 2) if case != "extension over" else date(2006, 5, 2),
                               printed, **values)
                self.assertEqual(self.card.date_valid_until, expired_on)
                self.assertFalse(self.card.is_valid)
                message = self._refusal()
                self.assertIn("Jeanne Martin has no identity document valid today. ", message)
                self.assertIn("expired on %s." % expired_on.strftime("%m/%d/%Y"), message)
                if reason:
                    self.assertIn(reason, message)
                else:
                    self.assertNotIn("décret", message)

    @freeze_time(TODAY)
    def test_missing_issue_date_is_pointed_out(self):
        """A card printed to expire in 2023 whose issue date is not known: it may well be
        valid, the sentence says what to enter."""
        self._set_card(False, date(2023, 5, 1))
        self.assertFalse(self.card.is_valid)
        message = self._refusal()
        self.assertIn("expired on 05/01/2023. If it was issued from 2004 to 2013 to an adult, "
                      "enter its issue date", message)
        self.card.date_issue = date(2013, 5, 2)
        self.assertEqual(self._sent_request().signer_ids.id_doc_expiry, date(2028, 5, 1))

    @freeze_time(TODAY)
    def test_the_wizard_shows_the_reason_before_sending(self):
        self._set_card(date(2014, 1, 15), date(2024, 1, 14))
        line = self.env["o2s.esign.request.wizard.signer"].with_user(self.advisor).new(
            {"partner_id": self.client.id})
        self.assertFalse(line.id_document_valid)
        self.assertIn("expired on 01/14/2024", line.problems)
