"""Odoo benchmarks run in-process on the throwaway database: the signature of one signer through
the ORM, the scheduled actions (crons) over 10,000 and 100,000 due requests, and the home
block's data RPC with up to 100,000 requests.

Queries are counted with the cursor's own counter (``cr.sql_log_count``: every statement
``odoo.sql_db.Cursor.execute`` sends to PostgreSQL).

Signing through the ORM
    ``o2s.esign.signer._sign_documents`` of the only signer of a sent one-document request (the
    page's call once the code and consent are checked): one-time certificate, PAdES B-T with
    appearance, the new revision stored as an attachment (filestore), the hashes and the audit
    events; in a savepoint rolled back after each run. Interleaved with the bare pyHanko
    baseline of ``bench_signing.py`` on the same prepared PDF. Informative: the goal of the
    issue is on the signing itself (``bench_signing.py``).
Requests at scale
    One request is created and sent through the ORM by an advisor (one 2-page document, one
    signer); it is then copied with bulk ``INSERT ... SELECT`` (request, signer, document,
    audit events: about 10 rows per request) up to 1,000, then 10,000, then 100,000 requests
    of that advisor. Before each measure, one ``UPDATE`` sets what the measure needs (states
    spread over every status for the home block; every signer due for a reminder; every
    request past its deadline for the expiry).
Crons
    ``ir.cron.method_direct_trigger()`` of ``o2s_esign.ir_cron_esign_send_reminders`` and
    ``o2s_esign.ir_cron_esign_expire_requests`` (the server action, with the cron's progress
    record, as the cron worker runs it), one batch per call (the module's default batch size),
    committed after each batch: time and queries per batch, at 10,000 and at 100,000 due.
    Goal: the queries of a batch do not grow with the number of due requests.
Home block
    ``o2s.esign.request.get_esign_home_data()`` as the advisor (what the block's JSON-RPC call
    runs), a fresh environment cache for each of ``--runs`` calls: queries and time at 1,000,
    10,000 and 100,000 requests. Goal: the same number of queries whatever the count.

Run alone: ``python bench/bench_odoo.py --config .run/odoo.conf --db DB --json-out FILE``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
import odoo_env

ADVISOR_LOGIN = "bench_scale_advisor"
STAGES = (1_000, 10_000, 100_000)
CRON_STAGES = (10_000, 100_000)
CRONS = {
    "reminders": "o2s_esign.ir_cron_esign_send_reminders",
    "expiry": "o2s_esign.ir_cron_esign_expire_requests",
}
#: "constant": the median queries per batch at 100,000 due stay within this factor of 10,000
CRON_QUERY_TOLERANCE = 1.05
SIGNING_SIZES = ("p1", "p10", "p100", "10mb")



def _goal(name, value, limit, unit=""):
    return {"name": name, "value": value, "limit": limit, "unit": unit,
            "pass": value is not None and value <= limit}


# --- set-up ------------------------------------------------------------------------------------

def _pem(cert) -> str:
    import base64

    body = base64.b64encode(cert.dump()).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"


def _setup(env, pki_server):
    """Company signing settings (B-T, this process's TSA), an advisor and a client."""
    import base64
    from datetime import timedelta

    from odoo import fields

    company = env.ref("base.main_company")
    # The TSA listens over http on 127.0.0.1: allowed only with this system parameter.
    env["ir.config_parameter"].set_param("o2s_esign.allow_http_localhost", "True")
    company.write({
        "country_id": env.ref("base.fr").id,
        "esign_tsa_url": pki_server.tsa_url,
        "esign_tsa_ca_cert": _pem(pki_server.root_cert),
        "esign_pades_level": "b_t",
    })
    advisor = env["res.users"].search([("login", "=", ADVISOR_LOGIN)])
    if not advisor:
        groups = [env.ref(x).id for x in ("base.group_user", "base.group_partner_manager",
                                          "o2s_esign.group_esign_user")]
        advisor = env["res.users"].create({
            "name": "Scale Advisor", "login": ADVISOR_LOGIN, "email": "scale@advisor.example.com",
            "groups_id": [(6, 0, groups)]})
    client = env["res.partner"].search([("email", "=", "scale.client@example.com")], limit=1)
    if not client:
        client = env["res.partner"].create({
            "name": "Jeanne Martin-Lefèvre", "email": "scale.client@example.com",
            "mobile": "+33612349999", "country_id": env.ref("base.fr").id,
            "user_id": advisor.id, "lang": "en_US"})
        env["o2s.esign.id.document"].create({
            "partner_id": client.id, "doc_type": "id_card", "number": "ID999999",
            "date_expiry": fields.Date.today() + timedelta(days=3650),
            "file": base64.b64encode(b"scan"), "file_name": "id.png"})
    return advisor, client


def _send_request(env, advisor, client, data: bytes, name: str):
    """A request of one document and one signer (the client), sent by the advisor."""
    from odoo import fields

    user_env = env(user=advisor)
    attachment = user_env["ir.attachment"].create({"name": name, "raw": data,
                                                   "mimetype": "application/pdf"})
    request = user_env["o2s.esign.request"].create({
        "name": name, "partner_id": client.id,
        "document_ids": [fields.Command.create({"name": name,
                                                "original_attachment_id": attachment.id})],
        "signer_ids": [fields.Command.create({"partner_id": client.id, "role": "signer"})],
    })
    request.action_send()
    return request.sudo()


# --- signing through the ORM ---------------------------------------------------------------------

class _RollBack(Exception):
    """Raised inside a savepoint to undo what a measured run stored."""


def run_signing(env, pki_server, runs: int, warmup: int, sizes) -> dict:
    import bench_http
    import bench_signing

    lib = benchlib.load_lib()
    signature_png = base64.b64decode(bench_http.signature_png())  # shown in the signature box
    advisor, client = _setup(env, pki_server)
    env.cr.commit()
    out = {"runs": runs, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="o2s-bench-orm-") as tmp:
        cases = bench_signing.Cases(lib, pki_server, Path(tmp))
        try:
            for size in sizes:
                request = _send_request(env, advisor, client, bench_signing.make_document(size),
                                        f"orm-{size}.pdf")
                env.cr.commit()
                signer = request.signer_ids
                document = request.document_ids
                prepared = document.prepared_attachment_id.raw
                signature = {"name": signer.name, "type": "typed", "image": signature_png,
                             "image_sha256": hashlib.sha256(signature_png).hexdigest(),
                             "date": None, "ip_address": "203.0.113.7",
                             "user_agent": "bench", "consent_sha256": None,
                             "otp_verified_at": None, "in_person": False}
                queries = []

                applied = []

                def orm(signer=signer, signature=signature, queries=queries, applied=applied,
                        document=document):
                    cr = env.cr
                    with odoo_env.QueryCounter(cr) as counter:
                        try:
                            with cr.savepoint():
                                signer._sign_documents(signature)
                                env.flush_all()
                                applied.append(bool(signer.date_signature_applied) and (
                                    document.signed_attachment_id
                                    != document.prepared_attachment_id))
                                raise _RollBack
                        except _RollBack:
                            pass
                    env.invalidate_all()
                    queries.append(counter.queries)

                benchlib.progress(f"signing through the ORM, {size}: {runs} interleaved runs")
                times = benchlib.interleave({"orm": orm, "bare": lambda p=prepared: cases.bare(p)},
                                            runs=runs, warmup=warmup)
                stats = {name: benchlib.summary(values) for name, values in times.items()}
                out["sizes"][size] = {
                    "prepared_bytes": len(prepared),
                    "ms": stats,
                    "queries": benchlib.summary(queries[warmup:]),
                    "every_run_signed": all(applied) and len(applied) == runs + warmup,
                    "ratio_vs_bare": benchlib.ratio(stats["orm"]["median"],
                                                    stats["bare"]["median"]),
                }
        finally:
            cases.close()
    return out


# --- requests at scale -------------------------------------------------------------------------

def _columns(cr, table: str) -> list[str]:
    cr.execute("""SELECT column_name FROM information_schema.columns
                  WHERE table_schema = 'public' AND table_name = %s AND column_name != 'id'
                  ORDER BY ordinal_position""", [table])
    return [row[0] for row in cr.fetchall()]


def _clone(cr, template_id: int, count: int, first: int):
    """``count`` copies of request ``template_id`` (numbered from ``first``) with its signers,
    documents and events, by bulk INSERT ... SELECT (events keep no signer: the copies' own
    signers are other rows). Foreign keys point at existing rows by construction, so their
    per-row checks are skipped when the role allows it (``session_replication_role``)."""
    if count <= 0:
        return
    try:
        with cr.savepoint(flush=False):
            cr.execute("SET LOCAL session_replication_role = replica")
    except Exception:  # not a superuser: the checks run, only slower
        pass
    cr.execute("SELECT COALESCE(max(id), 0) FROM o2s_esign_request")
    max_before = cr.fetchone()[0]
    columns = _columns(cr, "o2s_esign_request")
    select = ["'BENCH-' || g" if c == "reference" else f"t.{c}" for c in columns]
    cr.execute(f"""INSERT INTO o2s_esign_request ({", ".join(columns)})
                   SELECT {", ".join(select)} FROM o2s_esign_request t,
                          generate_series(%s, %s) g WHERE t.id = %s ORDER BY g""",
               [first, first + count - 1, template_id])
    for table, replace in (
            ("o2s_esign_signer", {}),
            ("o2s_esign_document", {"verification_token": "c.verification_token || '-' || r.id"}),
            ("o2s_esign_event", {"signer_id": "NULL"})):
        columns = _columns(cr, table)
        select = ["r.id" if c == "request_id" else replace.get(c, f"c.{c}") for c in columns]
        cr.execute(f"""INSERT INTO {table} ({", ".join(columns)})
                       SELECT {", ".join(select)} FROM {table} c,
                              (SELECT id FROM o2s_esign_request WHERE id > %s) r
                       WHERE c.request_id = %s""", [max_before, template_id])
    cr.execute("SET LOCAL session_replication_role = DEFAULT")
    cr.execute("ANALYZE o2s_esign_request; ANALYZE o2s_esign_signer; "
               "ANALYZE o2s_esign_document; ANALYZE o2s_esign_event")


def _bench_requests(cr, template_id: int) -> str:
    return f"(r.id = {int(template_id)} OR r.reference LIKE 'BENCH-%%')"


def _spread_states(cr, template_id: int):
    """The copies take every status (the home block counts each); signed ones over 60 days."""
    cr.execute(f"""
        UPDATE o2s_esign_request r SET
            state = CASE WHEN r.id % 20 < 8 THEN 'in_progress' WHEN r.id % 20 < 14 THEN 'signed'
                         WHEN r.id % 20 < 16 THEN 'refused' WHEN r.id % 20 < 18 THEN 'cancelled'
                         WHEN r.id % 20 = 18 THEN 'expired' ELSE 'error' END,
            date_done = CASE WHEN r.id % 20 >= 8 AND r.id % 20 < 14
                             THEN now() at time zone 'UTC' - (r.id % 60) * interval '1 day' END,
            write_date = now() at time zone 'UTC' - (r.id % 5000) * interval '1 minute'
        WHERE {_bench_requests(cr, template_id)}""")


def _make_due(cr, template_id: int, cron: str):
    """Every copy due for ``cron``: a reminder (signers pending, reminder date passed, deadline
    ahead) or the expiry (deadline passed)."""
    where = _bench_requests(cr, template_id)
    if cron == "reminders":
        cr.execute(f"""UPDATE o2s_esign_request r SET state = 'in_progress', date_done = NULL,
                              date_deadline = (now() at time zone 'UTC')::date + 30
                       WHERE {where}""")
        cr.execute(f"""UPDATE o2s_esign_signer s SET state = 'pending', reminder_count = 0,
                              next_reminder_date = (now() at time zone 'UTC')::date - 1,
                              reminder_blocked_until = NULL
                       FROM o2s_esign_request r WHERE s.request_id = r.id AND {where}""")
    else:
        cr.execute(f"""UPDATE o2s_esign_request r SET state = 'in_progress', date_done = NULL,
                              date_deadline = (now() at time zone 'UTC')::date - 1,
                              expiry_blocked_until = NULL
                       WHERE {where}""")
    cr.execute("ANALYZE o2s_esign_request; ANALYZE o2s_esign_signer")


def run_home(env, advisor, runs: int) -> dict:
    Request = env(user=advisor)["o2s.esign.request"]
    queries, times = [], []
    for index in range(runs + 2):
        env.invalidate_all()
        with odoo_env.QueryCounter(env.cr) as counter:
            data = Request.get_esign_home_data()
        if index >= 2:  # two warm-up calls (the registry's caches)
            queries.append(counter.queries)
            times.append(counter.ms)
    return {"queries": benchlib.summary(queries), "ms": benchlib.summary(times),
            "total_counted": data["total"], "latest_listed": len(data["latest"])}


def run_cron(env, template_id: int, cron_name: str, batches: int) -> dict:
    cr = env.cr
    _make_due(cr, template_id, cron_name)
    env.invalidate_all()
    cr.commit()
    cron = env.ref(CRONS[cron_name])
    batch = []
    for _ in range(batches):
        with odoo_env.QueryCounter(cr) as counter:
            cron.method_direct_trigger()
            env.flush_all()
        cr.commit()
        env.invalidate_all()
        progress = env["ir.cron.progress"].search([("cron_id", "=", cron.id)],
                                                  order="id desc", limit=1)
        batch.append({"ms": counter.ms, "queries": counter.queries, "done": progress.done,
                      "remaining": progress.remaining})
    units = [b["done"] for b in batch]
    return {
        "batches": batch,
        "batch_size": units[0] if units else 0,
        "ms_per_batch": benchlib.summary([b["ms"] for b in batch]),
        "queries_per_batch": benchlib.summary([b["queries"] for b in batch]),
        "queries_per_unit": round(sum(b["queries"] for b in batch) / max(sum(units), 1), 2),
        "ms_per_unit": round(sum(b["ms"] for b in batch) / max(sum(units), 1), 2),
    }


def run_scale(env, pki_server, runs: int, batches: int, stages, cron_stages) -> dict:
    import bench_signing

    advisor, client = _setup(env, pki_server)
    template = _send_request(env, advisor, client, bench_signing.make_document("p1"),
                             "Lettre de mission.pdf")
    env.cr.commit()
    template_id = template.id
    out = {"stages": {}, "template_request_id": template_id}
    count = 1
    for stage in stages:
        benchlib.progress(f"requests at scale: copying up to {stage:,}")
        start = time.perf_counter()
        _clone(env.cr, template_id, stage - count, count)
        env.cr.commit()
        count = stage
        result = {"requests": stage, "copy_s": round(time.perf_counter() - start, 1)}
        _spread_states(env.cr, template_id)
        env.invalidate_all()
        env.cr.commit()
        benchlib.progress(f"home block at {stage:,} requests: {runs} calls")
        result["home"] = run_home(env, advisor, runs)
        if stage in cron_stages:
            for cron_name in CRONS:
                benchlib.progress(f"cron {cron_name} at {stage:,} due: {batches} batch(es)")
                result[cron_name] = run_cron(env, template_id, cron_name, batches)
        out["stages"][str(stage)] = result
    return out


def goals_and_table(result: dict) -> tuple[list, list]:
    goals, lines = [], []
    signing = result.get("signing")
    if signing:
        goals.append(_goal("signing through the ORM: runs that did not sign",
                           sum(not d["every_run_signed"] for d in signing["sizes"].values()), 0))
        lines += ["", "Signing one signer through the ORM (_sign_documents: + attachment, "
                  "hashes, events), B-T: median / p95 ms, queries",
                  f"  {'PDF':<6} {'ORM':>17} {'bare pyHanko':>17} {'ratio':>6} {'queries':>8}"]
        for size, data in signing["sizes"].items():
            ms = data["ms"]
            lines.append(f"  {size:<6} {ms['orm']['median']:>8.1f} / {ms['orm']['p95']:<6.1f} "
                         f"{ms['bare']['median']:>8.1f} / {ms['bare']['p95']:<6.1f} "
                         f"{data['ratio_vs_bare']:>6.2f} {data['queries']['median']:>8.0f}")
    scale = result.get("scale")
    if scale:
        stages = scale["stages"]
        lines += ["", f"Home block data (get_esign_home_data), median of {result['runs']} calls:"]
        for stage, data in stages.items():
            home = data["home"]
            lines.append(f"  {int(stage):>7,} requests: {home['queries']['median']:.0f} queries "
                         f"(max {home['queries']['max']:.0f}), {home['ms']['median']:.1f} ms "
                         f"(p95 {home['ms']['p95']:.1f})")
        first, last = stages[str(STAGES[0])]["home"], stages[str(STAGES[-1])]["home"]
        goals.append(_goal(f"home block: queries at {STAGES[-1]:,} requests / at {STAGES[0]:,}",
                           benchlib.ratio(last["queries"]["max"], first["queries"]["median"]),
                           1.0, "x"))
        for cron_name in CRONS:
            rows = [(stage, data[cron_name]) for stage, data in stages.items() if cron_name in data]
            if not rows:
                continue
            lines += ["", f"Cron {cron_name} ({CRONS[cron_name]}), one batch per call:"]
            for stage, data in rows:
                lines.append(
                    f"  {int(stage):>7,} due: batch of {data['batch_size']}: "
                    f"{data['ms_per_batch']['median']:.0f} ms, "
                    f"{data['queries_per_batch']['median']:.0f} queries (max "
                    f"{data['queries_per_batch']['max']:.0f}); per unit "
                    f"{data['ms_per_unit']:.1f} ms, {data['queries_per_unit']:.1f} queries")
            low, high = rows[0][1], rows[-1][1]
            goals.append(_goal(
                f"cron {cron_name}: queries per batch at {int(rows[-1][0]):,} due / at "
                f"{int(rows[0][0]):,}",
                benchlib.ratio(high["queries_per_batch"]["median"],
                               low["queries_per_batch"]["median"]),
                CRON_QUERY_TOLERANCE, "x"))
    return goals, lines


def run(config_file: str, db: str, runs: int, batches: int, quick: bool, parts,
        cron_stages=CRON_STAGES) -> dict:
    benchlib.load_lib()
    from pki_server import PkiServer

    result = {"runs": runs, "batches": batches}
    with PkiServer() as pki, odoo_env.odoo_env(config_file, db) as env:
        env = env(context={"tracking_disable": True, "mail_create_nolog": True,
                           "no_reset_password": True})
        if "signing" in parts:
            result["signing"] = run_signing(env, pki, runs, 3 if not quick else 1,
                                            SIGNING_SIZES if not quick else ("p1",))
        if "scale" in parts:
            result["scale"] = run_scale(env, pki, runs, batches, STAGES, cron_stages)
    odoo_env.close_all()
    result["goals"], result["table"] = goals_and_table(result)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--parts", default="signing,scale")
    parser.add_argument("--cron-stages", default=",".join(str(s) for s in CRON_STAGES),
                        help="the request counts at which the crons run (empty: none)")
    parser.add_argument("--json-out")
    args = parser.parse_args(argv)
    result = run(args.config, args.db, args.runs, args.batches, args.quick,
                 args.parts.split(","), [int(s) for s in args.cron_stages.split(",") if s])
    if args.json_out:
        benchlib.write_json(args.json_out, result)
    else:
        print("\n".join(result["table"]))
        print(json.dumps(result["goals"], indent=2))


if __name__ == "__main__":
    main()
