"""Fixtures of the end-to-end tests: a real Odoo server (prefork workers) on a copy of the test
database, the SMS gateway stand-in and the certomancer TSA, all on 127.0.0.1; everything is
stopped and dropped in finalizers, whatever happens to the test."""
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_harness import ClonedDatabase, OdooServer, OdooSetup, Rpc, pem
from pki_server import PkiServer
from sms_gateway import SmsGateway

WEBHOOK_TOKEN = "e2e-webhook-token"


@dataclass
class E2eEnv:
    setup: OdooSetup
    database: ClonedDatabase
    server: OdooServer
    gateway: SmsGateway
    pki: PkiServer
    company_id: int

    def admin(self):
        return Rpc(self.server, "admin", self.database.admin_password)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """A running Odoo with 4 HTTP workers on its own copy of the test database, its company
    set to send SMS through the gateway stand-in and to timestamp with the test TSA (PAdES
    B-T)."""
    setup = OdooSetup.from_env()
    log_dir = tmp_path_factory.mktemp("odoo-e2e")
    with SmsGateway(bearer=WEBHOOK_TOKEN) as gateway, PkiServer() as pki:
        database = ClonedDatabase(setup).create()
        server = OdooServer(setup, database, workers=4, log_dir=log_dir)
        try:
            server.start()
            admin = Rpc(server, "admin", database.admin_password)
            [user] = admin("res.users", "read", [admin.uid], ["company_id"])
            company_id = user["company_id"][0]
            # The gateway stand-in and the TSA listen over http on 127.0.0.1: allowed only
            # with this system parameter.
            admin("ir.config_parameter", "set_param", "o2s_esign.allow_http_localhost", "True")
            admin("res.company", "write", [company_id], {
                "esign_sms_transport": "webhook",
                "esign_webhook_url": gateway.url + "/sms",
                "esign_webhook_token": WEBHOOK_TOKEN,
                "esign_sms_sender": "E2E",
                "esign_tsa_url": pki.tsa_url,
                "esign_tsa_ca_cert": pem(pki.root_cert),
                "esign_pades_level": "b_t",
            })
            yield E2eEnv(setup, database, server, gateway, pki, company_id)
        finally:
            try:
                server.stop()
            finally:
                database.drop()
