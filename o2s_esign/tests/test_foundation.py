# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from cryptography import x509
from cryptography.x509.oid import NameOID

from odoo.tests import TransactionCase, tagged

GROUPS = {
    "o2s_esign.group_esign_user": ("E-signature access", "Accès à la signature électronique"),
    "o2s_esign.group_esign_manager": ("E-signature administrator", "Administrateur de la signature électronique"),
    "o2s_esign.group_esign_options": ("E-signature options management",
                                      "Gestion des options de la signature électronique"),
    "o2s_esign.group_esign_subscription": ("Subscription area access", "Accès à l'espace abonnement"),
}


@tagged("post_install", "-at_install")
class TestFoundation(TransactionCase):

    def test_groups_names_in_english_and_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        for xmlid, (english, french) in GROUPS.items():
            group = self.env.ref(xmlid)
            self.assertEqual(group.with_context(lang="en_US").name, english)
            self.assertEqual(group.with_context(lang="fr_FR").name, french, xmlid)
            self.assertEqual(group.category_id, self.env.ref("o2s_esign.module_category_esign"))
            self.assertEqual(group.category_id.with_context(lang="fr_FR").name, "Signature électronique")

    def test_manager_implies_user_and_admin_is_manager(self):
        manager = self.env.ref("o2s_esign.group_esign_manager")
        self.assertIn(self.env.ref("o2s_esign.group_esign_user"), manager.implied_ids)
        admin = self.env.ref("base.user_admin")
        for xmlid in GROUPS:
            self.assertTrue(admin.has_group(xmlid), xmlid)

    def test_manifest(self):
        module = self.env["ir.module.module"].search([("name", "=", "o2s_esign")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.license, "LGPL-3")
        self.assertTrue(module.latest_version.startswith("18.0."))
        from odoo.modules.module import get_manifest
        manifest = get_manifest("o2s_esign")
        self.assertEqual(set(manifest["external_dependencies"]["python"]),
                         {"pyhanko", "phonenumbers", "qrcode", "pikepdf"})
        for dependency in ("mail", "portal", "sms"):
            self.assertIn(dependency, manifest["depends"])

    def test_demo_data_shows_the_product(self):
        """The run command installs the demo: an advisor, three kinds of clients, sample PDFs."""
        advisor = self.env.ref("o2s_esign.user_advisor_demo", raise_if_not_found=False)
        if not advisor:
            self.fail("the test database is installed with demo data (scripts/test.sh)")
        self.assertEqual(advisor.login, "advisor")
        self.assertTrue(advisor.has_group("o2s_esign.group_esign_user"))
        person = self.env.ref("o2s_esign.partner_client_person_demo")
        company = self.env.ref("o2s_esign.partner_client_company_demo")
        protected = self.env.ref("o2s_esign.partner_client_protected_demo")
        self.assertTrue(company.is_company and company.esign_representative_id)
        self.assertEqual(protected.esign_protection, "tutelle")
        self.assertTrue(protected.esign_legal_representative_ids)
        for partner in (person, company.esign_representative_id, protected.esign_legal_representative_ids):
            self.assertTrue(partner.email and partner.mobile, partner.name)
            self.assertTrue(partner._esign_valid_id_document(), partner.name)
        pdfs = self.env["ir.attachment"].search([("res_model", "=", "res.partner"), ("res_id", "=", person.id),
                                                 ("mimetype", "=", "application/pdf")])
        self.assertGreaterEqual(len(pdfs), 2)
        for pdf in pdfs:
            self.assertTrue(pdf.raw.startswith(b"%PDF-"))
            # Typed by their names when sent from the wizard: the Compliance tab follows them.
            self.assertIn(self.env["o2s.esign.document.type"]._guess_from_file_name(pdf.name), (
                self.env.ref("o2s_esign.document_type_mission_letter"),
                self.env.ref("o2s_esign.document_type_investor_profile")))

    def test_demo_looks_like_the_customer(self):
        """A French firm with its logo, whose signing certificates say C=FR, and a French
        advisor."""
        company = self.env.ref("base.main_company")
        self.assertEqual(company.country_id, self.env.ref("base.fr"))
        self.assertTrue(company.logo)
        self.assertNotIn(company.name, ("YourCompany", "My Company"))
        self.assertEqual(self.env.ref("o2s_esign.user_advisor_demo").lang, "fr_FR")
        identity = self.env["o2s.esign.signing.identity"].sudo().search(
            [("company_id", "=", company.id), ("active", "=", True)])
        self.assertEqual(len(identity), 1)
        for pem in (identity.ca_cert_pem, identity.seal_cert_pem):
            subject = x509.load_pem_x509_certificate(pem.encode()).subject
            self.assertEqual([a.value for a in subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)], ["FR"])
            self.assertEqual([a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
                             [company.name])
