#!/usr/bin/env python3
"""Take the README's screenshots from a running demo of o2s_esign (`make screenshots`).

Usage: screenshots.py --url http://127.0.0.1:8069 --db DB [--out docs/screenshots]

The database must hold the module's demo data (logins admin/admin and advisor/advisor, the
client Jeanne Martin with two PDFs). The script
1. starts, in this process, the SMS gateway stand-in (tests/support/sms_gateway.py) and the
   test PKI with its timestamp authority (tests/support/pki_server.py), and points the demo
   company at them over JSON-RPC (as admin);
2. creates, as the advisor, a few requests over JSON-RPC: one for Jeanne Martin with her two
   documents, one in progress, one refused on the signing page, one cancelled;
3. signs Jeanne Martin's request in headless Chromium on a phone (375x812, French): it asks for
   the code, reads it from the SMS gateway stand-in, types it, ticks the consent and signs
   (pictures: the page as opened, the signing panel, the page once signed);
4. takes the advisor's pages in Chromium (the E-signature home block, the request form), and
   renders page 1 of the evidence report (evidence.pdf of the evidence ZIP) with pdftoppm.

Everything listens on and connects to 127.0.0.1 only. Chromium is driven with Playwright, with
Debian's chromium as its browser (O2S_CHROMIUM overrides the path; Playwright downloads none).
The PNGs are written to --out.
"""
import argparse
import base64
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import requests
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "support"))

from pki_server import PkiServer  # noqa: E402  (the repository's test PKI and TSA)
from sms_gateway import SmsGateway  # noqa: E402  (the repository's SMS gateway stand-in)

CHROMIUM = os.environ.get("O2S_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "user_agent": PHONE_UA}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def log(message):
    print("[screenshots] %s" % message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------- JSON-RPC
class Rpc:
    """Odoo's external JSON-RPC API, as one user."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.password = url, db, password
        self.uid = self._call("common", "authenticate", db, login, password, {})
        if not self.uid:
            raise SystemExit("cannot log in as %s on %s (database %s)" % (login, url, db))

    def _call(self, service, method, *args):
        response = requests.post(self.url + "/jsonrpc", json={
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": service, "method": method, "args": list(args)}}, timeout=300)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            data = body["error"].get("data") or {}
            raise RuntimeError("%s: %s" % (method, data.get("message") or body["error"]))
        return body["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", self.db, self.uid, self.password,
                          model, method, list(args), kwargs)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        found = self("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
                     fields=["res_id"], limit=1)
        if not found:
            raise SystemExit("%s not found: does the database hold the demo data?" % xmlid)
        return found[0]["res_id"]


def web_session(url, db, login, password):
    """A logged-in HTTP session (cookie ``session_id``) for pages and downloads."""
    session = requests.Session()
    response = session.post(url + "/web/session/authenticate", json={
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"db": db, "login": login, "password": password}}, timeout=60)
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit("cannot open a web session as %s" % login)
    return session


# ------------------------------------------------------------------------------ Chromium
def launch(playwright):
    """Debian's Chromium, headless, through Playwright (which downloads no browser of its own)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--lang=fr-FR"])


def open_page(browser, device, cookies=()):
    """A page of a fresh browser context (its own cookies) emulating ``device``, in French."""
    context = browser.new_context(locale="fr-FR", **device)
    context.set_default_timeout(60_000)
    if cookies:
        context.add_cookies(list(cookies))
    return context.new_page()


def screenshot(page, path):
    """Fonts loaded and two frames drawn: what is on screen is what gets captured."""
    page.evaluate("document.fonts.ready.then(() => new Promise(r => "
                  "requestAnimationFrame(() => requestAnimationFrame(r))))")
    save_png(page.screenshot(), path)


def save_png(data, path, max_width=None):
    """An optimized PNG (palette of 256 colours: these are flat UI pictures)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if max_width and image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)),
                             Image.LANCZOS)
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)
    log("wrote %s (%d KB)" % (path.relative_to(REPO) if path.is_relative_to(REPO) else path,
                              path.stat().st_size // 1024))


# ------------------------------------------------------------------------------- the demo
def pem(cert):
    body = base64.b64encode(cert.dump()).decode()
    return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
        body[i:i + 64] for i in range(0, len(body), 64))


def logo():
    """A plain logo for the demo company (base64 PNG), drawn here: no picture to ship."""
    image = Image.new("RGB", (360, 96), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 8, 84, 88), radius=14, fill="#714B67")
    draw.text((44, 48), "O2S", font=ImageFont.load_default(size=30), fill="white", anchor="mm")
    draw.text((100, 30), "O2S Conseil", font=ImageFont.load_default(size=28), fill="#2B2B2B", anchor="lm")
    draw.text((100, 66), "Patrimoine", font=ImageFont.load_default(size=28), fill="#714B67", anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode()


def configure(admin, url, gateway, pki):
    """The demo company sends its codes to the gateway stand-in and signs at PAdES B-T."""
    admin("ir.config_parameter", "set_param", "web.base.url", url)
    # The gateway stand-in and the TSA listen over http on 127.0.0.1: allowed only with this.
    admin("ir.config_parameter", "set_param", "o2s_esign.allow_http_localhost", "True")
    company_id = admin.ref("base.main_company")
    admin("res.company", "write", [company_id], {
        "esign_sms_transport": "webhook",
        "esign_webhook_url": gateway.url + "/sms",
        "esign_webhook_token": "screenshots",
        "esign_sms_sender": "O2S",
        "esign_tsa_url": pki.tsa_url,
        "esign_tsa_ca_cert": pem(pki.root_cert),
        "esign_pades_level": "b_t",
        "name": "O2S Conseil Patrimoine",
        "logo": logo(),
    })
    admin("res.users", "write", [admin.ref("o2s_esign.user_advisor_demo")],
          {"lang": "fr_FR", "tz": "Europe/Paris"})


def create_requests(admin, advisor):
    """Jeanne Martin's request (two documents), plus three others for the home block."""
    ref = admin.ref  # ir.model.data is for administrators
    jeanne = advisor("o2s.esign.request", "create_and_send", {
        "partner_id": ref("o2s_esign.partner_client_person_demo"),
        "name": "Lettre de mission et profil investisseur 2026",
        "message": "Bonjour Madame Martin,\nVoici votre lettre de mission et votre profil "
                   "investisseur, à signer avant notre prochain rendez-vous.\nClaire Lefèvre",
        "documents": [
            {"attachment_id": ref("o2s_esign.attachment_mission_letter_demo"),
             "document_type_id": ref("o2s_esign.document_type_mission_letter")},
            {"attachment_id": ref("o2s_esign.attachment_investor_profile_demo"),
             "document_type_id": ref("o2s_esign.document_type_investor_profile")},
        ],
    })
    letter = advisor("ir.attachment", "read", [ref("o2s_esign.attachment_mission_letter_demo")],
                     ["datas"])[0]["datas"]
    others = {}
    for key, partner, name in (
            ("company", "o2s_esign.partner_client_company_demo", "Contrat de conseil 2026"),
            ("refused", "o2s_esign.partner_legal_representative_demo", "Lettre de mission"),
            ("cancelled", "o2s_esign.partner_client_protected_demo", "Recueil d'informations")):
        others[key] = advisor("o2s.esign.request", "create_and_send", {
            "partner_id": ref(partner), "name": name,
            "documents": [{"name": "%s.pdf" % name, "datas": letter}],
        })
    advisor("o2s.esign.request", "action_cancel", [others["cancelled"]],
            reason="Document remplacé par une version corrigée")
    return jeanne, others


def signer_path(admin, request_id):
    signers = admin("o2s.esign.signer", "search_read", [("request_id", "=", request_id)],
                    fields=["access_url", "mobile"], order="sequence")
    return [(urlsplit(s["access_url"]).path, s["mobile"]) for s in signers]


def refuse_on_the_page(url, path):
    """The signer refuses on the signing page (the form a browser posts)."""
    session = requests.Session()
    page = session.get(url + path, timeout=60).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    signer_id = path.split("/")[3]
    response = session.post("%s/esign/action/%s/refuse" % (url, signer_id), data={
        "csrf_token": csrf, "token": token, "reason": "Le montant des honoraires est à revoir"},
        timeout=60)
    response.raise_for_status()


def code_for(gateway, mobile, count):
    """The code of the SMS number ``count`` received by the gateway stand-in for ``mobile``."""
    if not gateway.wait_for(count, timeout=60):
        raise SystemExit("no SMS reached the gateway stand-in")
    bodies = [m.json.get("body", "") for m in gateway.messages
              if isinstance(m.json, dict) and m.json.get("to") == mobile]
    return CODE.search(bodies[-1]).group(1)


def sign_on_a_phone(page, url, path, mobile, gateway, out):
    """Jeanne Martin signs on her phone; two pictures of the page on the way."""
    page.goto(url + path)
    page.wait_for_selector(".o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page")
    page.wait_for_selector("html[lang=fr-FR]", state="attached")
    screenshot(page, out / "signer-page-phone.png")

    sent = len(gateway.messages)
    page.click("button.o_esign_send_code")
    code = code_for(gateway, mobile, sent + 1)
    page.fill(".o_esign_code_form:not(.d-none) input#o_esign_code", code)
    page.click("button.o_esign_verify")
    page.wait_for_selector(".o_esign_step_sign:not(.d-none)")
    page.click("#o_esign_consent")
    page.wait_for_selector(".o_esign_signature_pad.o_esign_signature_ready canvas.o_web_sign_signature")
    # the signing panel, from its title to the Sign button
    page.evaluate("document.querySelector('#o_esign_panel').scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -8)")
    screenshot(page, out / "signer-signing-phone.png")

    page.click(".o_esign_step_sign button.o_esign_sign")
    page.wait_for_selector(".o_esign_status[data-validity=completed]", timeout=180_000)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, out / "signer-signed-phone.png")


def quiet(page):
    """No passing notification (e.g. Odoo's "the page is outdated" when a lazy asset bundle was
    generated while the page loaded) over the picture."""
    page.add_style_tag(content=".o_notification_manager { display: none !important; }")


def idle(page):
    """Odoo's loading indicator and UI block gone."""
    page.wait_for_selector(".o_loading_indicator, .o_blockUI", state="detached")


def advisor_pages(page, url, request_id, out):
    """The advisor's E-signature home block and the signed request's form, in French."""
    page.goto(url + "/odoo/action-o2s_esign.action_esign_home")
    page.wait_for_selector(".o_esign_home .o_esign_home_latest_row")
    idle(page)
    quiet(page)
    screenshot(page, out / "home-block.png")

    page.goto("%s/odoo/action-o2s_esign.o2s_esign_request_action/%d" % (url, request_id))
    page.wait_for_selector(".o_form_view .o_form_statusbar .o_arrow_button_current")
    page.wait_for_selector(".o_form_view .o_field_one2many .o_data_row")
    idle(page)
    quiet(page)
    screenshot(page, out / "request-form.png")


def evidence_report(advisor, session, url, request_id, out):
    """Page 1 of evidence.pdf, the human-readable report of the evidence ZIP."""
    action = advisor("o2s.esign.request", "action_download_evidence", [request_id])
    response = session.get(url + action["url"], timeout=300)
    response.raise_for_status()
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        report = archive.read("evidence.pdf")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "evidence.pdf"
        pdf.write_bytes(report)
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(Path(tmp) / "page")], check=True)
        save_png((Path(tmp) / "page.png").read_bytes(), out / "evidence-report.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the running demo, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", required=True, help="its database (with the demo data)")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = parser.parse_args()
    url = args.url.rstrip("/")
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the demo must run on 127.0.0.1")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    with SmsGateway(bearer="screenshots") as gateway, PkiServer() as pki:
        admin = Rpc(url, args.db, "admin", "admin")
        configure(admin, url, gateway, pki)
        advisor = Rpc(url, args.db, "advisor", "advisor")
        log("creating the requests")
        jeanne, others = create_requests(admin, advisor)
        refuse_on_the_page(url, signer_path(admin, others["refused"])[0][0])
        path, mobile = signer_path(admin, jeanne)[0]
        session = web_session(url, args.db, "advisor", "advisor")
        cookie = {"name": "session_id", "value": session.cookies["session_id"],
                  "domain": urlsplit(url).hostname, "path": "/", "httpOnly": True}
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                log("Jeanne Martin signs on her phone")
                sign_on_a_phone(open_page(browser, PHONE), url, path, mobile, gateway, out)
                state = advisor("o2s.esign.request", "read", [jeanne], ["state"])[0]["state"]
                if state != "signed":
                    raise SystemExit("Jeanne Martin's request is %s, not signed" % state)
                log("the advisor's pages")
                advisor_pages(open_page(browser, DESKTOP, [cookie]), url, jeanne, out)
            finally:
                browser.close()
        evidence_report(advisor, session, url, jeanne, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
