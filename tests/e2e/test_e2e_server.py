"""End to end against a real Odoo server with prefork workers (``odoo-bin --workers=4``) on a
copy of the test database: the server commits, the test only talks HTTP to it.

1. Ten signers of one request sign at the same moment: every signature lands in both PDFs and
   validates (pyHanko and poppler's pdfsig), no signer sees an error, the server never had to
   retry a transaction (the signing page serialises the actions of one request), the audit
   trail's chain holds.
2. The worker applying a signature is killed (SIGKILL) while it waits for the timestamp
   authority: nothing of that signature is stored, states stay consistent, and the signer
   signing again completes it.
3. The whole server is killed while an advisor's retry applies a signature kept while the
   timestamp authority was down; after a restart, nothing is half-done and the retry
   completes the request.
"""
import base64
import hashlib
import json
import threading
import time

from asn1crypto import pem as asn1_pem
from asn1crypto import x509
from e2e_harness import RETRY_LOG_RE, PortalSigner, load_lib, run_sealing
from pdf_factory import make_pdf
from sigcheck import pdfsig

load_lib()
import validation  # noqa: E402  (needs the lib loaded just above)

#: deadline of a whole scenario's threads (seconds)
SCENARIO_TIMEOUT = 240
_numbers = iter(range(10_000_000, 99_999_999))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------ helpers
def make_request(admin, count, tag, documents=2):
    """A request of ``documents`` PDFs to ``count`` signers (complete contacts, English),
    created and sent over the external API. Returns (request id, signers' data)."""
    france = admin("res.country", "search", [("code", "=", "FR")])[0]
    numbers = [next(_numbers) for _ in range(count)]
    partner_ids = admin("res.partner", "create", [{
        "name": "Signer %s %02d" % (tag, index), "email": "signer%02d.%s@example.com" % (index, tag),
        "mobile": "+336%08d" % number, "country_id": france, "lang": "en_US",
    } for index, number in enumerate(numbers)])
    admin("o2s.esign.id.document", "create", [{
        "partner_id": partner_id, "doc_type": "id_card", "number": "E2E%s%02d" % (tag, index),
        "date_expiry": "2040-01-01", "file": base64.b64encode(b"scan").decode(),
        "file_name": "id.png",
    } for index, partner_id in enumerate(partner_ids)])
    request_id = admin("o2s.esign.request", "create_and_send", {
        "partner_id": partner_ids[0],
        "name": "E2E %s" % tag,
        "documents": [{"name": "%s-%d.pdf" % (tag, n),
                       "datas": base64.b64encode(make_pdf(text="%s document %d, page {n}" % (tag, n))).decode()}
                      for n in range(documents)],
        "signers": [{"partner_id": partner_id, "sequence": 10 * (index + 1)}
                    for index, partner_id in enumerate(partner_ids)],
    })
    signers = admin("o2s.esign.signer", "search_read", [("request_id", "=", request_id)],
                    ["id", "name", "mobile", "access_url", "state"], order="sequence")
    assert len(signers) == count and all(s["state"] == "pending" for s in signers)
    return request_id, signers


def run_threads(targets, timeout=SCENARIO_TIMEOUT):
    """Run callables in threads; returns {index: exception} of those that raised."""
    errors = {}

    def wrap(index, target):
        try:
            target()
        except BaseException as exc:  # reported to the test below
            errors[index] = exc

    threads = [threading.Thread(target=wrap, args=(i, t), daemon=True) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [thread for thread in threads if thread.is_alive()]
    assert not alive, "%d thread(s) still running after %ss" % (len(alive), timeout)
    return errors


def events_of(admin, request_id):
    return admin("o2s.esign.event", "search_read", [("request_id", "=", request_id)],
                 ["sequence", "event_type", "signer_id", "payload"], order="sequence")


def document_revisions(admin, document_id):
    """Every file stored for a document, oldest first (uploaded, sent, then each revision)."""
    rows = admin("ir.attachment", "search_read",
                 [("res_model", "=", "o2s.esign.document"), ("res_id", "=", document_id)],
                 ["datas"], order="id")
    return [base64.b64decode(row["datas"]) for row in rows]


def check_consistency(env, admin, request_id):
    """What must hold at any time, crash or not: the chain verifies, each document's stored
    revisions extend one another (append-only), the current file is the last one and every
    document event names a stored revision. Returns the request, its documents and events."""
    report = admin("o2s.esign.request", "verify_event_chain", [request_id])[str(request_id)]
    assert report["ok"], report
    events = events_of(admin, request_id)
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert report["count"] == len(events)
    [request] = admin("o2s.esign.request", "read", [request_id],
                      ["state", "error_message", "document_ids", "signer_ids"])
    documents = admin("o2s.esign.document", "read", request["document_ids"],
                      ["signed_sha256", "prepared_sha256", "original_sha256", "date_sealed"])
    for document in documents:
        revisions = document_revisions(admin, document["id"])
        assert sha256(revisions[0]) == document["original_sha256"]
        assert sha256(revisions[1]) == document["prepared_sha256"]
        for before, after in zip(revisions, revisions[1:]):
            assert after.startswith(before), "a stored revision rewrites its predecessor"
        assert sha256(revisions[-1]) == document["signed_sha256"], "the current file is the last"
        document["revisions"] = revisions
        stored = {sha256(data) for data in revisions}
        steps = [json.loads(e["payload"]) for e in events
                 if e["event_type"] in ("document_signature", "document_seal")]
        steps = [step for step in steps if step["document_id"] == document["id"]]
        # one stored revision after the sent copy per signature or seal event, no more, no less
        assert len(revisions) == 2 + len(steps)
        assert [step["sha256_after"] for step in steps] == [sha256(r) for r in revisions[2:]]
        assert all(step["sha256_after"] in stored for step in steps)
    return request, documents, events


def trust_roots(env, admin, signer_id):
    """The company CA (as the module publishes its fingerprint) and the TSA's root."""
    [signer] = admin("o2s.esign.signer", "read", [signer_id], ["signing_certificate_chain"])
    [company] = admin("res.company", "read", [env.company_id], ["esign_identity_ca_fingerprint"])
    chain = [x509.Certificate.load(der) for _t, _h, der in
             asn1_pem.unarmor(signer["signing_certificate_chain"].encode(), multiple=True)]
    wanted = company["esign_identity_ca_fingerprint"].replace(":", "").lower()
    [ca] = [cert for cert in chain if sha256(cert.dump()) == wanted]
    return [ca, env.pki.root_cert]


def check_signed_pdf(data, roots, signer_names, seal=True):
    """Every signature of ``data`` validates (pyHanko with ``roots``, and pdfsig), one per
    signer in order, then the company seal."""
    reports = validation.validate_pdf(data, trust_roots=roots)
    signatures = [r for r in reports if r.kind == "signature"]
    assert [r.signer_cn for r in signatures[:len(signer_names)]] == signer_names
    assert len(signatures) == len(signer_names) + (1 if seal else 0)
    if seal:
        assert signatures[-1].field_name == "CompanySeal"
    for report in reports:
        assert report.intact and report.valid and report.trusted, (report.field_name, report.summary)
        if report.kind == "signature":
            assert report.bottom_line, (report.field_name, report.summary)
            assert report.timestamp_time is not None, report.field_name
    checked = [c for c in pdfsig(data) if c["type"] == "ETSI.CAdES.detached"]
    assert len(checked) == len(signatures)
    assert all(c["validation"] == "Signature is Valid." for c in checked), [c["raw"] for c in checked]


# -------------------------------------------------------------------------------- tests
def test_ten_signers_sign_at_the_same_moment(e2e):
    admin = e2e.admin()
    request_id, signers = make_request(admin, 10, "conc")
    portals = [PortalSigner(e2e.server, signer) for signer in signers]
    log_offset = len(e2e.server.log_text())
    barrier = threading.Barrier(len(portals), timeout=SCENARIO_TIMEOUT)
    results = {}

    def signer_flow(portal):
        try:
            portal.open()
            portal.send_code()
            portal.verify(e2e.gateway)
        except BaseException:
            barrier.abort()
            raise
        barrier.wait()  # every "Sign" leaves at the same moment
        results[portal.id] = portal.sign()

    errors = run_threads([lambda p=p: signer_flow(p) for p in portals])
    assert not errors, errors
    assert sorted(results) == sorted(p.id for p in portals)
    for signer_id, result in results.items():
        assert result == {"state": "signed", "reload": True}, (signer_id, result)
    # the server never had to retry a transaction: the actions of one request are serialised
    assert not e2e.server.log_lines(RETRY_LOG_RE, since=log_offset)
    assert not e2e.server.log_lines(r" (ERROR|CRITICAL) ", since=log_offset)
    request = admin("o2s.esign.request", "read", [request_id], ["state", "sealing_pending"])[0]
    assert (request["state"], request["sealing_pending"]) == ("in_progress", True)
    run_sealing(admin)

    request, documents, events = check_consistency(e2e, admin, request_id)
    assert request["state"] == "signed", request["error_message"]
    states = admin("o2s.esign.signer", "read", request["signer_ids"], ["state", "sign_pending"])
    assert {(s["state"], s["sign_pending"]) for s in states} == {("signed", False)}
    signed = [e for e in events if e["event_type"] == "signed"]
    assert sorted(e["signer_id"][0] for e in signed) == sorted(results)
    assert len([e for e in events if e["event_type"] == "document_signature"]) == 20
    assert len([e for e in events if e["event_type"] == "document_seal"]) == 2
    assert not [e for e in events if e["event_type"] == "error"]
    # every signature is in each PDF, in the order they were applied, and validates
    order = {e["signer_id"][0]: e["sequence"] for e in signed}
    names = [p.name for p in sorted(portals, key=lambda p: order[p.id])]
    roots = trust_roots(e2e, admin, signers[0]["id"])
    for document in documents:
        assert document["date_sealed"]
        check_signed_pdf(document["revisions"][-1], roots, names)


def test_worker_killed_while_applying_a_signature(e2e):
    admin = e2e.admin()
    request_id, signers = make_request(admin, 2, "kill")
    first, second = (PortalSigner(e2e.server, signer) for signer in signers)
    for portal in (first, second):
        portal.open()
        portal.send_code()
        portal.verify(e2e.gateway)
    _request, documents_before, events_before = check_consistency(e2e, admin, request_id)
    workers_before = {p.pid for p in e2e.server.http_workers()}

    # The TSA takes the first signer's timestamp request and does not answer: the worker is
    # in the middle of the signature (documents being signed, nothing committed) when killed.
    seen = len(e2e.pki.requests)
    e2e.pki.hold("/tsa")
    try:
        local_port, connection = first.sign_raw()
        assert e2e.pki.wait_for_request("/tsa", after=seen, timeout=60)
        assert e2e.pki.held.wait(60)
        worker = e2e.server.worker_serving(local_port)
        worker.kill()
        worker.wait(30)
        try:
            answer = connection.getresponse().status
        except (ConnectionError, OSError) as exc:  # http.client's RemoteDisconnected included
            answer = type(exc).__name__
        finally:
            connection.close()
        assert answer in ("RemoteDisconnected", "ConnectionResetError", "BadStatusLine"), answer
    finally:
        e2e.pki.release_hold()
    assert worker.pid in workers_before

    # Nothing of that signature was stored, and the request still waits for both signers.
    request, documents, events = check_consistency(e2e, admin, request_id)
    assert request["state"] == "in_progress"
    assert [e["sequence"] for e in events] == [e["sequence"] for e in events_before]
    assert [d["signed_sha256"] for d in documents] == [d["prepared_sha256"] for d in documents_before]
    states = admin("o2s.esign.signer", "read", request["signer_ids"], ["state", "sign_pending"])
    assert {(s["state"], s["sign_pending"]) for s in states} == {("pending", False)}

    # The master replaced the worker; the signer signs again (same browser session, code
    # still verified) and the second signer completes the request.
    assert first.sign() == {"state": "signed", "reload": True}
    assert second.sign() == {"state": "signed", "reload": True}
    run_sealing(admin)
    request, documents, _events = check_consistency(e2e, admin, request_id)
    assert request["state"] == "signed", request["error_message"]
    roots = trust_roots(e2e, admin, signers[0]["id"])
    for document in documents:
        check_signed_pdf(document["revisions"][-1], roots, [first.name, second.name])


def test_server_killed_while_a_retry_applies_a_kept_signature(e2e):
    admin = e2e.admin()
    request_id, signers = make_request(admin, 2, "crash", documents=1)
    first, second = (PortalSigner(e2e.server, signer) for signer in signers)
    for portal in (first, second):
        portal.open()
        portal.send_code()
        portal.verify(e2e.gateway)
    assert first.sign() == {"state": "signed", "reload": True}

    # The timestamp authority is down when the second signer signs: the signature is kept,
    # the request goes in error with the reason.
    e2e.pki.stop()
    try:
        result = second.sign()
    finally:
        e2e.pki.start()
    assert result["state"] == "sign_pending", result
    request, documents_before, events_before = check_consistency(e2e, admin, request_id)
    assert request["state"] == "error"
    assert "timestamp authority" in request["error_message"]

    # The advisor retries; the whole server dies while the retry waits for the TSA.
    seen = len(e2e.pki.requests)
    e2e.pki.hold("/tsa")
    retry_errors = []

    def retry():
        try:
            admin("o2s.esign.request", "action_retry", [request_id])
        except Exception as exc:  # the connection is cut by the crash
            retry_errors.append(exc)

    def crash_when_held():
        assert e2e.pki.wait_for_request("/tsa", after=seen, timeout=60)
        assert e2e.pki.held.wait(60)
        e2e.server.crash()

    try:
        errors = run_threads([crash_when_held, retry])
    finally:
        e2e.pki.release_hold()
    assert not errors, errors
    assert retry_errors, "the retry cannot have answered: the server was killed"
    e2e.server.start()

    # After the restart: nothing half-done, the signature is still kept, the request in error.
    admin = e2e.admin()
    request, documents, events = check_consistency(e2e, admin, request_id)
    assert request["state"] == "error"
    assert len(events) == len(events_before)
    assert [d["signed_sha256"] for d in documents] == [d["signed_sha256"] for d in documents_before]
    states = admin("o2s.esign.signer", "read", request["signer_ids"], ["state", "sign_pending"])
    assert [(s["state"], s["sign_pending"]) for s in states] == [("signed", False), ("pending", True)]

    # Retrying again completes the request, with both signatures and the seal.
    admin("o2s.esign.request", "action_retry", [request_id])
    run_sealing(admin)
    request, documents, events = check_consistency(e2e, admin, request_id)
    assert request["state"] == "signed", request["error_message"]
    states = admin("o2s.esign.signer", "read", request["signer_ids"], ["state", "sign_pending"])
    assert {(s["state"], s["sign_pending"]) for s in states} == {("signed", False)}
    roots = trust_roots(e2e, admin, signers[0]["id"])
    check_signed_pdf(documents[0]["revisions"][-1], roots, [first.name, second.name])
