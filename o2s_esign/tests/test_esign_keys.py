# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Private keys: encrypted at rest, never readable through the API, one-time keys gone after
signing (every text/bytea column of the database and every filestore file is scanned)."""
import base64
import io
import os
import zipfile
from unittest.mock import patch

from cryptography.hazmat.primitives import serialization

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from ..lib import crypto, pki
from ..lib.errors import PkiError
from ..models import o2s_esign_signing_identity
from ..tools import get_master_key
from .common import esign_user
from .common_signing import O2sEsignSigningCommon

P12_PASSWORD = "Pkcs12-Pass-7f3a9c"


def key_needles(key):
    """Byte strings that would betray ``key`` wherever it is stored (PEM, DER, base64, hex)."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    numbers = key.private_numbers()
    scalar = numbers.private_value.to_bytes((numbers.private_value.bit_length() + 7) // 8, "big")
    return [der, scalar, base64.b64encode(der)[:48], scalar.hex().encode(),
            scalar.hex().upper().encode(), base64.b64encode(scalar)[:40]]


@tagged("post_install", "-at_install")
class TestEsignKeys(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.options_user = esign_user(cls.env, "esign_options", "internal,options", name="Olga Options",
                                      email="olga@advisor.example.com")
        cls.admin = cls.env.ref("base.user_admin")

    # ----------------------------------------------------------------- scanning
    def _db_columns(self):
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT c.table_name, c.column_name, c.data_type
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json')
        """)
        tables = {}
        for table, column, data_type in self.env.cr.fetchall():
            tables.setdefault(table, []).append((column, data_type))
        return tables

    def _scan_database(self, needles, texts=(b"PRIVATE KEY",)):
        """(table, column) of every text/bytea column holding one of ``needles`` (bytes) or of
        ``texts``. Text columns are searched for the printable needles, bytea for all."""
        found = []
        printable = [n for n in [*needles, *texts] if all(32 <= b < 127 for b in n)]
        for table, columns in self._db_columns().items():
            for column, data_type in columns:
                if data_type == "bytea":
                    conditions = " OR ".join(["position(%%s::bytea in \"%s\") > 0" % column]
                                             * len(needles + list(texts)))
                    params = [bytes(n) for n in [*needles, *texts]]
                else:
                    if not printable:
                        continue
                    conditions = " OR ".join(["strpos(\"%s\"::text, %%s) > 0" % column]
                                             * len(printable))
                    params = [n.decode("ascii") for n in printable]
                self.env.cr.execute(  # pylint: disable=sql-injection
                    'SELECT count(*) FROM "%s" WHERE %s' % (table, conditions), params)
                if self.env.cr.fetchone()[0]:
                    found.append((table, column))
        return found

    def _scan_filestore(self, needles, texts=(b"PRIVATE KEY",)):
        """Files of the database's filestore (and members of ZIPs) holding a needle."""
        found = []
        root = config.filestore(self.env.cr.dbname)
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as fh:
                    data = fh.read()
                blobs = [data]
                if data.startswith(b"PK\x03\x04"):
                    with zipfile.ZipFile(io.BytesIO(data)) as zf:
                        blobs += [zf.read(member) for member in zf.namelist()]
                if any(n in blob for blob in blobs for n in [*needles, *texts]):
                    found.append(path)
        return found

    # -------------------------------------------------------------------- tests
    def test_identity_created_at_install_keys_encrypted(self):
        identities = self.env["o2s.esign.signing.identity"].sudo().search(
            [("company_id", "=", self.company.id), ("active", "=", True)])
        self.assertEqual(len(identities), 1)
        identity = identities
        self.assertLess(identity.create_date, self.env.cr.now(), "made at install, not by the test")
        self.assertEqual(identity.source, "generated")
        self.assertIn("BEGIN CERTIFICATE", identity.ca_cert_pem)
        for blob in (identity.ca_key_encrypted, identity.seal_key_encrypted):
            raw = base64.b64decode(blob)
            self.assertTrue(raw.startswith(crypto.BLOB_VERSION))
            self.assertNotIn(b"PRIVATE KEY", raw)
            # a key derived from another master key does not open it
            with self.assertRaises(PkiError):
                crypto.decrypt_secret(crypto.derive_key(crypto.generate_master_key(),
                                                        o2s_esign_signing_identity.KEY_PURPOSE),
                                      raw, identity._aad(identity.key_ref, "ca"))
        # nor does the right key with another identity's binding (blob moved elsewhere)
        with self.assertRaises(PkiError):
            crypto.decrypt_secret(identity._encryption_key(),
                                  base64.b64decode(identity.ca_key_encrypted),
                                  identity._aad("another-identity", "ca"))
        material = identity._material()
        self.assertTrue(pki.can_issue(material.ca))
        self.assertEqual(material.seal.chain[0].dump(), material.ca.cert.dump())
        # the company keys themselves are nowhere in clear
        needles = key_needles(material.ca.key) + key_needles(material.seal.key)
        master = get_master_key(self.env)
        needles += [master, base64.b64encode(master)]
        self.assertEqual(self._scan_database(needles), [])
        self.assertEqual(self._scan_filestore(needles), [])

    def test_keys_are_not_readable_through_the_api(self):
        for user in (self.admin, self.options_user, self.esign_manager, self.advisor):
            identities = self.env["o2s.esign.signing.identity"].with_user(user)
            with mute_logger("odoo.models", "odoo.addons.base.models.ir_model"), \
                    self.assertRaises(AccessError, msg=user.login):
                identities.search([])
            identity_id = identities.sudo().search([], limit=1).id
            with mute_logger("odoo.models", "odoo.addons.base.models.ir_model"), \
                    self.assertRaises(AccessError, msg=user.login):
                identities.browse(identity_id).read(["seal_key_encrypted"])
            with self.assertRaises(AccessError, msg=user.login):
                identities.create({"company_id": self.company.id, "key_ref": "x"})
        # the settings show certificates (fingerprints), never keys
        company = self.company.with_user(self.options_user)
        self.assertTrue(company.esign_identity_seal_fingerprint)
        self.assertEqual(len(company.esign_identity_ca_fingerprint), 95)
        with self.assertRaises(AccessError):
            self.company.with_user(self.advisor).read(["esign_identity_seal_fingerprint"])

    def test_one_time_keys_are_gone_after_signing(self):
        self._configure("b_t")
        request = self._send()
        issued = []
        original = pki.issue_one_time_identity

        def recording(*args, **kwargs):
            identity = original(*args, **kwargs)
            issued.append(key_needles(identity.key))
            return identity

        with patch.object(pki, "issue_one_time_identity", recording):
            self._sign_all(request)
        self.assertEqual(request.state, "signed")
        self.assertEqual(len(issued), 2)
        needles = [needle for needles in issued for needle in needles]
        # the test's own copies aside, the one-time keys exist nowhere
        self.assertEqual(self._scan_database(needles), [])
        self.assertEqual(self._scan_filestore(needles), [])
        # the certificates are kept (public), with the evidence
        for signer in request.signer_ids:
            self.assertIn("BEGIN CERTIFICATE", signer.signing_certificate)
            self.assertNotIn("PRIVATE", signer.signing_certificate)

    def test_import_pkcs12_seal_then_sign(self):
        p12 = self.pki.package_pkcs12("seal", password=P12_PASSWORD.encode())
        wizard_model = self.env["o2s.esign.identity.import"].with_user(self.options_user)
        with self.assertRaisesRegex(UserError, "password"):
            wizard_model.create({"company_id": self.company.id,
                                 "pkcs12_file": base64.b64encode(p12), "password": "wrong"})
        with self.assertRaisesRegex(UserError, "not a PKCS#12"):
            wizard_model.create({"company_id": self.company.id,
                                 "pkcs12_file": base64.b64encode(b"not a certificate")})
        previous = self.env["o2s.esign.signing.identity"].sudo().search(
            [("company_id", "=", self.company.id)])
        wizard = wizard_model.create({"company_id": self.company.id,
                                      "pkcs12_file": base64.b64encode(p12),
                                      "password": P12_PASSWORD})
        self.assertIn("Cabinet Exemple Seal", wizard.summary)
        self.assertEqual(wizard.action_import()["tag"], "display_notification")
        self.assertFalse(wizard.pkcs12_file)
        self.assertFalse(wizard.password)
        self.assertFalse(previous.filtered("active"), "the previous identity is archived")
        self.assertEqual(self.company.with_user(self.options_user).esign_identity_source, "pkcs12")
        material = self.env["o2s.esign.signing.identity"]._get_signing_material_sudo(self.company)
        self.assertEqual(material.seal.subject_cn, "Cabinet Exemple Seal")
        # the one-time certificates still come from the company's own CA
        self.assertEqual(material.ca.cert.dump(), self.material.ca.cert.dump())
        # neither the PKCS#12, its password nor the imported key is stored in clear
        needles = [p12[100:164], base64.b64encode(p12)[100:164], P12_PASSWORD.encode()]
        needles += key_needles(material.seal.key)
        self.assertEqual(self._scan_database(needles), [])
        self.assertEqual(self._scan_filestore(needles), [])
        # signatures and seal validate: the seal chains to the test root (fetched OCSP at B-LT)
        self._configure("b_lt")
        request = self._send(documents=1)
        self._sign_all(request)
        self.assertEqual(request.state, "signed")
        reports = self.assertAllValid(request.document_ids.signed_attachment_id.raw, 3)
        self.assertEqual(reports[-1].signer_cn, "Cabinet Exemple Seal")

    def test_import_pkcs12_ca_issues_the_signers_certificates(self):
        p12 = self.pki.package_pkcs12("company-ca", password=P12_PASSWORD.encode())
        self.env["o2s.esign.identity.import"].with_user(self.options_user).create({
            "company_id": self.company.id, "pkcs12_file": base64.b64encode(p12),
            "password": P12_PASSWORD})
        material = self.env["o2s.esign.signing.identity"]._get_signing_material_sudo(self.company)
        self.assertEqual(material.ca.subject_cn, "Cabinet Exemple Signing CA")
        self.assertEqual(material.seal.chain[0].dump(), material.ca.cert.dump())
        self._configure("b_t")
        request = self._send(documents=1)
        self._sign_all(request)
        data = request.document_ids.signed_attachment_id.raw
        # trusted with the test root alone: everything chains to it
        self.roots = [self.pki.root_cert]
        reports = self.assertAllValid(data, 3)
        self.assertEqual({r.signer_cn for r in reports if r.kind == "signature"},
                         {self.client.name, self.client2.name, material.seal.subject_cn})

    def test_generate_new_identity_needs_the_options_right(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.advisor).action_esign_generate_identity()
        with self.assertRaises(AccessError):
            self.env["o2s.esign.identity.import"].with_user(self.advisor).create(
                {"company_id": self.company.id})
        before = self.company.with_user(self.options_user).esign_identity_seal_fingerprint
        self.company.with_user(self.options_user).action_esign_generate_identity()
        self.company.invalidate_recordset()
        after = self.company.with_user(self.options_user).esign_identity_seal_fingerprint
        self.assertNotEqual(before, after)
        self.assertEqual(self.env["o2s.esign.signing.identity"].sudo().with_context(
            active_test=False).search_count([("company_id", "=", self.company.id)]), 2)

    def test_scanners_find_what_is_there(self):
        """The scans above can fail: random bytes planted in a text column, a bytea column, a
        filestore file and a ZIP in the filestore are all found."""
        planted = [os.urandom(24).hex().encode() for _i in range(3)] + [os.urandom(32)]
        self.client.comment = "<p>%s</p>" % planted[0].decode()
        self.env["ir.attachment"].create({"name": "plain.bin", "raw": b"x" + planted[1] + b"y"})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("inside.txt", b"-" + planted[2] * 3)
        self.env["ir.attachment"].create({"name": "packed.zip", "raw": buffer.getvalue()})
        in_db = self.env["ir.attachment"].create({"name": "in-db.bin", "raw": b"z"})
        self.env.cr.execute("UPDATE ir_attachment SET db_datas = %s WHERE id = %s",
                            [b"binary " + planted[3] + b" data", in_db.id])
        self.assertIn(("res_partner", "comment"), self._scan_database([planted[0]]))
        self.assertIn(("ir_attachment", "db_datas"), self._scan_database([planted[3]]))
        self.assertEqual(len(self._scan_filestore([planted[1]])), 1)
        self.assertEqual(len(self._scan_filestore([planted[2]])), 1)
        self.assertEqual(self._scan_database([os.urandom(24).hex().encode()], texts=()), [])
