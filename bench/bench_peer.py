"""Peer benchmark: o2s_esign and OCA ``sign_oca`` 18.0 on the same server, in the same run, one
signer and a 1-page PDF (issue #19 item 4).

``sign_oca`` (installed by ``bench/install_peer.sh`` into ``bench/.peer-addons``, on the bench
server's addons path, installed in the throwaway database by scripts/bench.sh; never a
dependency of o2s_esign) signs by stamping the signer's image on the page (PyPDF2 + reportlab),
with no cryptography. o2s_esign signs with a one-time certificate at PAdES B-B and B-T (local
TSA), then seals in the background (a triggered scheduled action).

Both are driven over HTTP as a portal signer's browser would (``requests``), each request
timed by the client, its SQL queries read from the server's access log (as bench_http does):

- sign_oca (its controllers, ``sign_oca/controllers/main.py``): the signing page
  ``GET /sign_oca/document/<signer>/<token>``, the PDF ``GET /sign_oca/content/<signer>/<token>``,
  the fields ``POST /sign_oca/info/<signer>/<token>`` (JSON), then "Sign"
  ``POST /sign_oca/sign/<signer>/<token>`` (JSON: the items, the signature field holding a PNG
  data URL);
- o2s_esign: the signing page, the document, "send code" (the SMS read from the local gateway
  stand-in), "verify", then "Sign" (a drawn PNG signature).

"Whole path" is the sum of the client times of those requests (not the wait for the SMS). The
cases are interleaved (each iteration runs every case once, in a rotating order); after each
o2s_esign case the benchmark waits, untimed, for the background sealing to finish so that it
never overlaps the next case. Every request is prepared before the server starts.
"""

from __future__ import annotations

import base64
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_http
import benchflow
import benchlib

CASES = ("sign_oca", "o2s_b_b", "o2s_b_t")


def _peer_installed(config_file: str, db: str) -> bool:
    import odoo_env

    with odoo_env.odoo_env(config_file, db, commit=False) as env:
        module = env["ir.module.module"].search([("name", "=", "sign_oca")])
        installed = module.state == "installed"
    odoo_env.close_all()
    return installed


def create_peer_requests(config_file: str, db: str, advisor_login: str, partner_id: int,
                         count: int) -> list[dict]:
    """``count`` sign_oca requests of the same 1-page PDF, one signer (role Customer) with one
    required signature field on page 1, sent (as the advisor would with its wizard)."""
    import odoo_env
    import pdf_factory

    pdf = base64.b64encode(pdf_factory.make_pdf(1, text="Contrat 1 - page {n} (éèàç)"))
    created = []
    with odoo_env.odoo_env(config_file, db) as env:
        env = env(context={"tracking_disable": True, "mail_create_nolog": True})
        advisor = env["res.users"].search([("login", "=", advisor_login)])
        role = env.ref("sign_oca.sign_role_customer")
        field = env.ref("sign_oca.sign_field_signature")
        for index in range(count):
            request = env["sign.oca.request"].create({
                "name": f"Peer {index}", "data": pdf, "filename": "contrat-1.pdf",
                "user_id": advisor.id,
                "signer_ids": [(0, 0, {"partner_id": partner_id, "role_id": role.id})],
                "signatory_data": {"1": {
                    "id": 1, "field_id": field.id, "field_type": "signature", "required": True,
                    "name": field.name, "role_id": role.id, "page": 1, "position_x": 55,
                    "position_y": 80, "width": 30, "height": 8, "value": False,
                    "default_value": False, "placeholder": ""}},
            })
            request.action_send()
            signer = request.signer_ids
            created.append({"id": request.id, "signer_id": signer.id,
                            "token": signer.access_token})
    odoo_env.close_all()
    return created


class PeerSigner:
    """A portal signer of sign_oca, as its page's JavaScript drives it."""

    def __init__(self, url: str, peer: dict, records: list):
        import requests

        self.url = url
        self.base = f"{peer['signer_id']}/{peer['token']}"
        self.session = requests.Session()
        self.records = records

    def _send(self, kind, method, path, **kwargs):
        start = time.perf_counter()
        response = self.session.request(method, self.url + path, timeout=300, **kwargs)
        elapsed = (time.perf_counter() - start) * 1000.0
        self.records.append({"kind": kind, "method": method, "path": path,
                             "client_ms": elapsed, "status": response.status_code})
        if response.status_code != 200:
            raise RuntimeError(f"sign_oca {kind}: HTTP {response.status_code}")
        return elapsed, response

    def _json(self, kind, path, params):
        elapsed, response = self._send(kind, "POST", path, json={
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"sign_oca {kind}: {str(body['error'])[:300]}")
        return elapsed, body["result"]

    def run(self, signature_png: str) -> dict:
        page, response = self._send("signer_page", "GET", f"/sign_oca/document/{self.base}")
        if "sign_oca" not in response.text:
            raise RuntimeError("sign_oca: the signing page is not the signing page")
        content, response = self._send("document_view", "GET", f"/sign_oca/content/{self.base}")
        if not response.content.startswith(b"%PDF"):
            raise RuntimeError("sign_oca: the document is not a PDF")
        info_ms, info = self._json("info", f"/sign_oca/info/{self.base}", {})
        items = info["items"]
        for item in items.values():
            if item["role_id"] == info["role_id"] and item["field_type"] == "signature":
                item["value"] = "data:image/png;base64," + signature_png
        sign_ms, result = self._json("sign", f"/sign_oca/sign/{self.base}", {"items": items})
        if result.get("type") != "ir.actions.act_url":
            raise RuntimeError(f"sign_oca sign: {result}")
        return {"sign_ms": sign_ms, "path_ms": page + content + info_ms + sign_ms}


def run(config_file: str, db: str, odoo_bin: str, port: int, runs: int = 40,
        warmup: int = 3, workers: int = 2) -> dict:
    if not _peer_installed(config_file, db):
        return {"measured": False,
                "reason": "sign_oca is not installed in the benchmark database "
                          "(bench/install_peer.sh could not install it: package index unreachable?)"}
    benchlib.load_lib()
    from pki_server import PkiServer
    from sms_gateway import SmsGateway

    total = warmup + runs
    pg = benchflow.pg_params(config_file, db)
    with tempfile.TemporaryDirectory(prefix="o2s-bench-peer-") as tmp, PkiServer() as pki, \
            SmsGateway(bearer=secrets.token_urlsafe(12)) as gateway, benchflow.MailSink() as smtp:
        setup = bench_http.setup_database(config_file, db, pki, gateway)
        partner = setup["partner_ids"][0]
        specs = [{"partner_ids": [partner], "documents": 1, "pages": 1, "level": level}
                 for level in ("b_b", "b_t") for _ in range(total)]
        ours = benchflow.create_requests(config_file, db, setup["advisor_login"], specs)
        queues = {"o2s_b_b": ours[:total], "o2s_b_t": ours[total:],
                  "sign_oca": create_peer_requests(config_file, db, setup["advisor_login"],
                                                   partner, total)}
        _restore_level(config_file, db)
        server = bench_http.OdooServer(odoo_bin, config_file, db, port, workers,
                                       Path(tmp) / "odoo.log")
        server.args += ["--smtp=127.0.0.1", f"--smtp-port={smtp.port}"]
        benchlib.progress(f"peer: starting odoo-bin --workers={workers} on port {port}")
        server.start()
        signature = bench_http.signature_png()
        records: list[dict] = []
        samples = {case: {"sign_ms": [], "path_ms": []} for case in CASES}
        sealed_ms = []
        try:
            for iteration in range(total):
                shift = (iteration // 2) % len(CASES)
                order = list(CASES[shift:] + CASES[:shift])
                if iteration % 2:
                    order.reverse()
                for case in order:
                    item = queues[case][iteration]
                    start_index = len(records)
                    if case == "sign_oca":
                        result = PeerSigner(server.url, item, records).run(signature)
                    else:
                        signer = benchflow.Signer(server.url, item["signers"][0], records)
                        path = signer.ready(gateway)
                        sign = signer.sign(signature)
                        result = {"sign_ms": sign, "path_ms": path + sign}
                        signed_at = time.perf_counter()
                        states = benchflow.wait_states(pg, [item["id"]], timeout=120)
                        if states[item["id"]][0] != "signed":
                            raise RuntimeError(f"request {item['id']} ended {states[item['id']]}")
                        sealed_ms.append((time.perf_counter() - signed_at) * 1000.0)
                    for record in records[start_index:]:
                        record["case"] = case
                        record["kept"] = iteration >= warmup
                        record["iteration"] = iteration
                    if iteration >= warmup:
                        for key in ("sign_ms", "path_ms"):
                            samples[case][key].append(result[key])
                benchlib.progress(f"peer iteration {iteration + 1}/{total}"
                                  + (" (warm-up)" if iteration < warmup else ""))
        finally:
            server.stop()
        lines = server.access_lines()
        problems = server.log_problems()
    bench_http._match(records, lines)
    cases = {}
    for case in CASES:
        kept = [r for r in records if r["case"] == case and r["kept"]]
        cases[case] = {
            "sign_ms": benchlib.summary(samples[case]["sign_ms"]),
            "path_ms": benchlib.summary(samples[case]["path_ms"]),
            "sign_queries": benchlib.summary([r["queries"] for r in kept if r["kind"] == "sign"]),
            "path_queries": benchlib.summary([
                sum(r["queries"] for r in kept if r["iteration"] == iteration)
                for iteration in sorted({r["iteration"] for r in kept})]),
            "requests_per_path": len(kept) // runs,
        }
    oca = cases["sign_oca"]
    return {
        "measured": True, "runs": runs, "warmup": warmup, "workers": workers, "pages": 1,
        "signers": 1, "cases": cases,
        "ratio_sign_b_t": benchlib.ratio(cases["o2s_b_t"]["sign_ms"]["median"],
                                         oca["sign_ms"]["median"]),
        "ratio_sign_b_b": benchlib.ratio(cases["o2s_b_b"]["sign_ms"]["median"],
                                         oca["sign_ms"]["median"]),
        "ratio_path_b_t": benchlib.ratio(cases["o2s_b_t"]["path_ms"]["median"],
                                         oca["path_ms"]["median"]),
        "ratio_path_b_b": benchlib.ratio(cases["o2s_b_b"]["path_ms"]["median"],
                                         oca["path_ms"]["median"]),
        "sealed_after_sign_ms": benchlib.summary(sealed_ms),
        "goal_sign": 1.5, "goal_path": 2.0,
        "server_log_warnings": problems[:20],
    }


def _restore_level(config_file: str, db: str):
    """The company back at B-T (the level the other parts use)."""
    import odoo_env

    with odoo_env.odoo_env(config_file, db) as env:
        env.ref("base.main_company").esign_pades_level = "b_t"
    odoo_env.close_all()


def main(argv=None):
    parser = benchlib.server_parser(__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    result = run(args.config, args.db, args.odoo_bin, args.port, args.runs, args.warmup,
                 args.workers)
    benchlib.emit(result, args.json_out)


if __name__ == "__main__":
    main()
