"""Load benchmark (issue #19 item 3): a busy office on ``odoo-bin --workers=4``.

Set-up (before the server starts, in-process): the company at PAdES B-T against the loopback
certomancer TSA of ``tests/support/pki_server.py`` made to answer every request after 150 ms (its
``set_delay``: a real authority answers in 100-500 ms), the SMS gateway stand-in, an SMTP sink,
an advisor, 40 clients, and the requests (2 documents of 2 pages, 2 signers each) created and
sent as the advisor. The server runs with ``--workers=4 --max-cron-threads=2`` (Odoo's default):
the cron workers seal each request after its last signature (the two triggered sealing actions
of issue 19, one request per run, two at a time).

1. "Sign" alone: the signers of a few requests sign one after the other on an idle server
   (the benchmark waits, untimed, for each request's sealing): the baseline.
2. Load: 40 signers of 20 requests (two per request, so the per-request lock is exercised)
   have opened their page and verified their SMS code; then all press "Sign" at the same moment
   (a barrier) while the advisor sends 20 more requests over JSON-RPC (``create_and_send``).
   The benchmark then waits until the 20 requests are sealed ("signed").

Checked, and failing the run when not met: every "Sign" answered "signed" (no error, no HTTP
error), every advisor's request was created and sent (two invitations queued, two pending
signers, documents prepared), every request of the load ends "signed" with its evidence and no
sealing pending, every signer signed, every signed PDF validates for pyHanko (both signatures
and the company seal: intact, valid, trusted, time-stamped), the audit chain of every request
(``verify_event_chain``, the module's own check) holds, and the server logged no error and never
retried a transaction.

Figures: median of "Sign" alone; median and p95 of "Sign" under load (client time, which
includes the wait for a free worker, and the server's own time from its access log); their
ratio (goal <= 3); throughput (signatures per second per worker, from the barrier to the last
answer); the time from the last signature's answer to the last request "signed".
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_http
import benchflow
import benchlib

WORKERS = 4
#: Odoo's default number of cron workers (the two sealing actions run side by side)
CRON_THREADS = 2
TSA_DELAY_S = 0.150
DOCUMENTS = 2
PAGES = 2
def _run_threads(targets, timeout: float) -> dict:
    errors = {}

    def wrap(index, target):
        try:
            target()
        except BaseException as exc:  # reported as a failed check
            errors[index] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=wrap, args=(i, t), daemon=True)
               for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for index, thread in enumerate(threads):
        if thread.is_alive():
            errors[index] = f"still running after {timeout} s"
    return errors


class Advisor:
    """The advisor's browser session: JSON-RPC ``create_and_send`` as the backend calls it."""

    def __init__(self, url: str, db: str, login: str, password: str):
        import requests

        self.url = url
        self.session = requests.Session()
        self.times: list[float] = []
        self.created: list[int] = []
        self._call("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _call(self, path, params):
        response = self.session.post(self.url + path, timeout=300, json={
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
        if response.status_code != 200:
            raise RuntimeError(f"advisor {path}: HTTP {response.status_code}")
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"advisor {path}: {str(body['error'])[:300]}")
        return body["result"]

    def send(self, partner_ids: list[int], documents: list[str], index: int):
        start = time.perf_counter()
        request_id = self._call("/web/dataset/call_kw/o2s.esign.request/create_and_send", {
            "model": "o2s.esign.request", "method": "create_and_send", "kwargs": {}, "args": [{
                "partner_id": partner_ids[0], "name": f"Sent under load {index}",
                "documents": [{"name": f"annexe-{n}.pdf", "datas": data}
                              for n, data in enumerate(documents, start=1)],
                "signers": [{"partner_id": pid, "role": "signer"} for pid in partner_ids],
            }]})
        self.times.append((time.perf_counter() - start) * 1000.0)
        self.created.append(request_id)


def match_by_path(records: list[dict], lines: list[dict]):
    """Attach to each record its access-log line: requests run concurrently, so lines are
    matched per method and path (each signer's paths carry their id), first come first
    served (one signer's requests are sequential)."""
    queues: dict[tuple, list[dict]] = {}
    for line in lines:
        queues.setdefault((line["method"], line["path"].split("?")[0]), []).append(line)
    for record in records:
        queue = queues.get((record["method"], record["path"]))
        if not queue:
            raise RuntimeError(f"no access-log line for {record['method']} {record['path']}")
        line = queue.pop(0)
        record.update(queries=line["queries"], sql_ms=line["sql_ms"],
                      server_ms=line["server_ms"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_database(config_file: str, db: str, pki, load_ids: list[int], advisor_ids: list[int],
                   alone_ids: list[int]) -> dict:
    """The checks of the scenario, read in-process once the server has stopped."""
    import odoo_env
    import validation
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509

    checks = {}
    with odoo_env.odoo_env(config_file, db, commit=False) as env:
        Request = env["o2s.esign.request"]
        company = env.ref("base.main_company")
        wanted = company.esign_identity_ca_fingerprint.replace(":", "").lower()
        signed = Request.browse(load_ids + alone_ids)
        bad = [(r.id, r.state, r.sealing_pending, bool(r.evidence_attachment_id), r.error_message)
               for r in signed if r.state != "signed" or r.sealing_pending
               or not r.evidence_attachment_id]
        checks["every request ends signed and sealed, with its evidence"] = {
            "ok": not bad, "detail": bad[:5]}
        unsigned = [s.id for s in signed.signer_ids if s.state != "signed" or s.sign_pending]
        checks["every signer signed (nothing pending)"] = {"ok": not unsigned,
                                                           "detail": unsigned[:5]}
        invalid = []
        validated = 0
        for request in Request.browse(load_ids):
            signers = request.signer_ids.sorted(lambda s: (s.sequence, s.id))
            chain = [x509.Certificate.load(der) for _t, _h, der in asn1_pem.unarmor(
                signers[0].signing_certificate_chain.encode(), multiple=True)]
            roots = [cert for cert in chain if _sha256(cert.dump()) == wanted] + [pki.root_cert]
            for document in request.document_ids:
                data = document.signed_attachment_id.raw
                reports = validation.validate_pdf(data, trust_roots=roots)
                signatures = [r for r in reports if r.kind == "signature"]
                ok = (len(signatures) == len(signers) + 1
                      and signatures[-1].field_name == "CompanySeal"
                      and _sha256(data) == document.signed_sha256
                      and all(r.intact and r.valid and r.trusted for r in reports)
                      and all(r.bottom_line and r.timestamp_time is not None for r in signatures))
                validated += 1
                if not ok:
                    invalid.append((request.id, document.id, [r.summary for r in reports][:3]))
        checks["every signed PDF validates (pyHanko: signatures and seal, trusted, B-T)"] = {
            "ok": not invalid and validated == len(load_ids) * DOCUMENTS,
            "detail": invalid[:3] or f"{validated} PDFs"}
        reports = Request.browse(load_ids + alone_ids + advisor_ids).verify_event_chain()
        broken = [(rid, r["reason"]) for rid, r in reports.items() if not r["ok"]]
        checks["the audit chain of every request holds (verify_event_chain)"] = {
            "ok": not broken and len(reports) == len(load_ids + alone_ids + advisor_ids),
            "detail": broken[:5] or f"{len(reports)} requests"}
        sent = Request.browse(advisor_ids).exists()
        half = []
        for request in sent:
            env.cr.execute("""SELECT count(*) FROM mail_mail m JOIN mail_message mm
                              ON mm.id = m.mail_message_id
                              WHERE mm.model = 'o2s.esign.signer' AND mm.res_id = ANY(%s)""",
                           [request.signer_ids.ids])
            mails = env.cr.fetchone()[0]
            env.cr.execute("""SELECT count(*) FROM mail_message
                              WHERE model = 'o2s.esign.signer' AND res_id = ANY(%s)""",
                           [request.signer_ids.ids])
            messages = env.cr.fetchone()[0]
            if (request.state != "in_progress" or len(request.signer_ids) != 2
                    or {s.state for s in request.signer_ids} != {"pending"}
                    or not all(d.prepared_attachment_id for d in request.document_ids)
                    or len(request.document_ids) != DOCUMENTS or max(mails, messages) < 2):
                half.append((request.id, request.state, mails, messages))
        checks["every request the advisor sent under load is created and sent"] = {
            "ok": len(sent) == len(advisor_ids) == 20 and not half,
            "detail": half[:5] or f"{len(sent)} requests"}
    odoo_env.close_all()
    return checks


def run(config_file: str, db: str, odoo_bin: str, port: int, alone: int = 5,
        requests_under_load: int = 20, sent_under_load: int = 20) -> dict:
    benchlib.load_lib()
    from pki_server import PkiServer
    from sms_gateway import SmsGateway

    pg = benchflow.pg_params(config_file, db)
    signature = bench_http.signature_png()
    with tempfile.TemporaryDirectory(prefix="o2s-bench-load-") as tmp, PkiServer() as pki, \
            SmsGateway(bearer=secrets.token_urlsafe(12)) as gateway, benchflow.MailSink() as smtp:
        setup = bench_http.setup_database(config_file, db, pki, gateway)
        signers_needed = 2 * requests_under_load
        partners = benchflow.ensure_partners(config_file, db, setup["advisor_login"],
                                             signers_needed)
        pairs = [partners[2 * i:2 * i + 2] for i in range(requests_under_load)]
        specs = [{"partner_ids": pair, "documents": DOCUMENTS, "pages": PAGES, "level": "b_t"}
                 for pair in pairs[:alone + 1] + pairs]
        benchlib.progress(f"load: preparing {len(specs)} requests")
        created = benchflow.create_requests(config_file, db, setup["advisor_login"], specs)
        alone_requests, load_requests = created[:alone + 1], created[alone + 1:]
        import pdf_factory

        annexes = [base64.b64encode(pdf_factory.make_pdf(
            PAGES, text=f"Annexe {n} - page {{n}}")).decode() for n in range(1, DOCUMENTS + 1)]
        pki.set_delay(TSA_DELAY_S)
        server = bench_http.OdooServer(odoo_bin, config_file, db, port, WORKERS,
                                       Path(tmp) / "odoo.log", cron_threads=CRON_THREADS)
        server.args += ["--smtp=127.0.0.1", f"--smtp-port={smtp.port}"]
        benchlib.progress(f"load: starting odoo-bin --workers={WORKERS} "
                          f"--max-cron-threads={CRON_THREADS} on port {port}, "
                          f"TSA answering after {TSA_DELAY_S * 1000:.0f} ms")
        server.start()
        records: list[dict] = []
        alone_ms, alone_sealed_ms, tsa_calls = [], [], []
        checks = {}
        try:
            # 1. "Sign" alone, on an idle server (the first request warms the workers up)
            for index, item in enumerate(alone_requests):
                for data in item["signers"]:
                    signer = benchflow.Signer(server.url, data, records)
                    signer.ready(gateway)
                    elapsed = signer.sign(signature)
                    if index:
                        alone_ms.append(elapsed)
                signed_at = time.perf_counter()
                tsa_before = sum(1 for path in list(pki.requests) if "/tsa" in path)
                states = benchflow.wait_states(pg, [item["id"]], timeout=120)
                if index:
                    alone_sealed_ms.append((time.perf_counter() - signed_at) * 1000.0)
                    tsa_calls.append(sum(1 for path in list(pki.requests) if "/tsa" in path)
                                     - tsa_before)
                if states[item["id"]][0] != "signed":
                    raise RuntimeError(f"request {item['id']} ended {states[item['id']]}")
            benchlib.progress(f"load: 'Sign' alone, median {benchlib.summary(alone_ms)['median']:.0f} ms")
            # 2. the load: 40 signers ready, then all sign at once while the advisor sends 20
            load_records: list[dict] = []
            portals = [benchflow.Signer(server.url, data, load_records)
                       for item in load_requests for data in item["signers"]]
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                list(pool.map(lambda portal: portal.ready(gateway), portals))
            advisor = Advisor(server.url, db, setup["advisor_login"], setup["advisor_password"])
            barrier = threading.Barrier(len(portals) + 1, timeout=300)
            sign_ms: dict[int, float] = {}

            def signer_flow(portal):
                barrier.wait()
                sign_ms[portal.id] = portal.sign(signature)

            def advisor_flow():
                barrier.wait()
                for index in range(sent_under_load):
                    advisor.send(partners[2 * (index % requests_under_load):][:2], annexes, index)

            benchlib.progress(f"load: {len(portals)} signers press 'Sign' at once, the advisor "
                              f"sends {sent_under_load} requests")
            released = time.perf_counter()
            errors = _run_threads([lambda p=p: signer_flow(p) for p in portals] + [advisor_flow],
                                  timeout=600)
            signs = [r for r in load_records if r["kind"] == "sign"]
            last_sign = max((r["end"] for r in signs), default=time.perf_counter())
            burst_s = last_sign - released
            states = benchflow.wait_states(pg, [item["id"] for item in load_requests], timeout=600)
            sealed_after_ms = (time.perf_counter() - last_sign) * 1000.0
            benchlib.progress(f"load: {len(sign_ms)} signatures in {burst_s:.1f} s; the last "
                              f"request signed {sealed_after_ms / 1000:.1f} s after the last one")
            checks["every 'Sign' under load answered 'signed'"] = {
                "ok": not errors and len(sign_ms) == len(portals),
                "detail": list(errors.values())[:3] or f"{len(sign_ms)} signatures"}
        finally:
            server.stop()
            # kept for reading what the checks report (.run/logs/, as bench_http does on failure)
            saved_log = Path(config_file).resolve().parent / "logs" / "bench-load-server.log"
            saved_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.logfile, saved_log)
        lines = server.access_lines()
        problems = server.log_problems()
        failures = server.log_failures()
        checks["the server logged no error and never retried a transaction"] = {
            "ok": not failures, "detail": (failures + problems)[:3]}
        checks.update(check_database(
            config_file, db, pki, [item["id"] for item in load_requests], advisor.created,
            [item["id"] for item in alone_requests]))
    match_by_path(records + load_records, lines)
    load_signs = [r for r in load_records if r["kind"] == "sign"]
    alone_summary = benchlib.summary(alone_ms)
    load_summary = benchlib.summary([r["client_ms"] for r in load_signs])
    return {
        "workers": WORKERS, "cron_threads": CRON_THREADS, "tsa_delay_ms": TSA_DELAY_S * 1000,
        "documents": DOCUMENTS,
        "pages": PAGES, "signers_under_load": len(load_signs),
        "requests_under_load": requests_under_load, "sent_under_load": sent_under_load,
        "sign_alone_ms": alone_summary,
        "sign_alone_server_ms": benchlib.summary(
            [r["server_ms"] for r in records if r["kind"] == "sign"][2:]),
        "sign_load_ms": load_summary,
        "sign_load_server_ms": benchlib.summary([r["server_ms"] for r in load_signs]),
        "sign_load_queries": benchlib.summary([r["queries"] for r in load_signs]),
        "create_and_send_under_load_ms": benchlib.summary(advisor.times),
        "ratio_p95_load_vs_median_alone": benchlib.ratio(load_summary["p95"],
                                                          alone_summary["median"]),
        "goal_ratio": 3.0,
        "ratio_p95_server_load_vs_median_alone": benchlib.ratio(
            benchlib.summary([r["server_ms"] for r in load_signs])["p95"],
            alone_summary["median"]),
        "burst_s": round(burst_s, 3),
        "throughput_signatures_per_s_per_worker": round(len(load_signs) / burst_s / WORKERS, 3),
        "sealed_after_last_signature_ms": round(sealed_after_ms, 1),
        "sealed_after_last_signature_alone_ms": benchlib.summary(alone_sealed_ms),
        "tsa_calls_per_sealing": benchlib.summary(tsa_calls),
        "final_states": {str(k): v[0] for k, v in states.items()},
        "checks": checks,
        "server_log_warnings": problems[:20],
    }


def main(argv=None):
    parser = benchlib.server_parser(__doc__)
    parser.add_argument("--alone", type=int, default=5,
                        help="requests signed alone (2 signatures each) for the baseline")
    args = parser.parse_args(argv)
    result = run(args.config, args.db, args.odoo_bin, args.port, args.alone)
    benchlib.emit(result, args.json_out)


if __name__ == "__main__":
    main()
