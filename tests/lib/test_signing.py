"""Tests of o2s_esign/lib/signing.py against a real loopback TSA/OCSP/CRL (certomancer),
checked with pyHanko's validator, poppler's pdfsig and OpenSSL."""

import asyncio
import gc
import hashlib
import io
import logging
import os
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pdf_factory as pf
import pytest
import sigcheck
from asn1crypto import cms, tsp
from o2s_esign_lib import pdf, pki, signing
from o2s_esign_lib.errors import SigningError, TsaError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

APPEARANCE = signing.Appearance(
    "Jeanne Martin-Égé",
    ["Signé électroniquement", "par Jeanne Martin-Égé", "le 27/11/2026 à 14:03 UTC"],
    "https://esign.example.fr/v/8f3a2c",
)


@pytest.fixture(scope="module")
def prepared():
    slots = [pdf.SignatureSlot(f"Sig{i}", f"Signataire {i}", "pour le compte de la SCI Œillet")
             for i in range(1, 4)]
    return pdf.prepare_for_signing(pf.make_pdf(2), slots, labels={"title": "Signatures"})


def _one_time(company, n=1):
    return pki.issue_one_time_identity(company.ca, name=f"Signataire {n} Éloïse",
                                       email=f"s{n}@example.fr")


def _assert_all_valid(data, roots, expect_count=None):
    checks = sigcheck.pyhanko_check(data, roots)
    if expect_count is not None:
        assert len(checks) == expect_count
    for name, kind, status in checks:
        assert status.intact and status.valid and status.trusted, (name, status.summary())
        if kind == "signature":
            assert status.bottom_line, (name, status.summary())
            assert status.docmdp_ok is not False
    entries = sigcheck.pdfsig(data)
    assert len(entries) == len(checks), [e["raw"] for e in entries]
    for entry in entries:
        if entry["type"] == "ETSI.CAdES.detached":
            assert entry["validation"] == "Signature is Valid.", entry["raw"]
        else:  # pdfsig does not verify document timestamps (ETSI.RFC3161)
            assert entry["field"].startswith("Timestamp"), entry["raw"]
    return checks


def _sig_dict(data, field_name):
    reader = PdfFileReader(io.BytesIO(data))
    for es in reader.embedded_signatures:
        if es.field_name == field_name:
            return es
    raise AssertionError(field_name)


def test_b_b_visible_with_qr(signer, company, prepared):
    ident = _one_time(company)
    before = datetime.now(UTC) - timedelta(seconds=2)
    result = signer.sign(prepared, field_name="Sig1", identity=ident, level="b_b", tsa=None,
                         appearance=APPEARANCE, trust_roots=[company.ca.cert],
                         reason="Signature du contrat", location="Paris")
    assert result.level == "b_b" and result.timestamp_token is None
    assert result.data.startswith(prepared)
    assert result.signer_cert_der == ident.cert.dump()
    assert before <= result.signing_time <= datetime.now(UTC) + timedelta(seconds=2)
    _assert_all_valid(result.data, [company.ca.cert], expect_count=1)
    es = _sig_dict(result.data, "Sig1")
    assert es.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert es.sig_object["/Reason"] == "Signature du contrat"
    assert es.md_algorithm == "sha256"
    signed_attrs = {a["type"].native for a in es.signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in signed_attrs
    assert "signing_time" not in signed_attrs  # PAdES: /M instead
    # visible appearance with the QR code and the text, on the pre-created box
    widget = es.sig_field
    assert [float(x) for x in widget["/Rect"]][2] > 300
    ap = widget["/AP"]["/N"]
    xobjects = ap["/Resources"]["/XObject"]
    assert xobjects  # stamp form; the QR is a nested form XObject
    raw = b"".join(x.get_object().data for x in _walk_forms(ap))
    assert b"re" in raw and b"Tj" in raw


def _walk_forms(form, depth=0):
    yield form
    if depth > 4:
        return
    res = form.get("/Resources", {})
    for ref in (res.get("/XObject") or {}).values():
        yield from _walk_forms(ref.get_object(), depth + 1)


def test_appearance_outside_cp1252_embeds_a_font(signer, company, prepared):
    ident = _one_time(company)
    appearance = signing.Appearance("Łukasz Żółć", ["Podpisano", "Łukasz Żółć"], None)
    result = signer.sign(prepared, field_name="Sig1", identity=ident, level="b_b", tsa=None,
                         appearance=appearance, trust_roots=[company.ca.cert])
    _assert_all_valid(result.data, [company.ca.cert])
    assert b"/FontFile2" in result.data[len(prepared):]


@pytest.mark.parametrize("level", ["b_t", "b_lt", "b_lta"])
def test_levels_with_tsa(signer, company, prepared, tsa, roots, level):
    ident = _one_time(company)
    crl = pki.make_crl(company.ca)
    result = signer.sign(prepared, field_name="Sig2", identity=ident, level=level, tsa=tsa,
                         appearance=APPEARANCE, trust_roots=roots, extra_crls=[crl])
    assert result.level == level
    checks = _assert_all_valid(result.data, roots)
    sig_status = next(s for name, kind, s in checks if name == "Sig2")
    assert sig_status.timestamp_validity is not None
    assert sig_status.timestamp_validity.trusted
    # the returned token is the one in the signature, over the signature value
    token = cms.ContentInfo.load(result.timestamp_token)
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    es = _sig_dict(result.data, "Sig2")
    assert tst_info["message_imprint"]["hashed_message"].native == \
        hashlib.sha256(es.signer_info["signature"].native).digest()
    kinds = [kind for _, kind, _ in checks]
    reader = PdfFileReader(io.BytesIO(result.data))
    if level == "b_t":
        assert "/DSS" not in reader.root and kinds == ["signature"]
    else:
        dss = DocumentSecurityStore.read_dss(reader)
        crls = [c.get_object().data for c in dss.crls]
        assert crl in crls  # our own CA's CRL, as validation data
        assert dss.ocsps or len(crls) > 1  # the TSA's revocation data from the test PKI
        assert kinds == (["signature", "doc_timestamp"] if level == "b_lta" else ["signature"])


def test_three_signers_then_seal_keep_earlier_signatures_valid(signer, company, prepared,
                                                               tsa, roots):
    data = prepared
    history = [data]
    crl = pki.make_crl(company.ca)
    for n, level in enumerate(["b_t", "b_lt", "b_t"], start=1):
        result = signer.sign(data, field_name=f"Sig{n}", identity=_one_time(company, n),
                             level=level, tsa=tsa, appearance=APPEARANCE, trust_roots=roots,
                             extra_crls=[crl])
        assert pdf.revision_prefixes_ok(data, result.data)
        data = result.data
        history.append(data)
        _assert_all_valid(data, roots)
    sealed = signer.seal(data, identity=company.seal, level="b_lta", tsa=tsa, trust_roots=roots,
                         extra_crls=[crl])
    assert pdf.revision_prefixes_ok(data, sealed.data)
    checks = _assert_all_valid(sealed.data, roots)
    names = [name for name, kind, _ in checks if kind == "signature"]
    assert names == ["Sig1", "Sig2", "Sig3", "CompanySeal"]
    assert checks[-1][1] == "doc_timestamp"
    seal_sig = _sig_dict(sealed.data, "CompanySeal")
    assert "/Rect" not in seal_sig.sig_field or \
        [float(x) for x in seal_sig.sig_field["/Rect"]] == [0, 0, 0, 0]
    # a second seal gets a fresh field name (the module seals once: the first seal locked the
    # document, so validators report a second one as a change it does not allow)
    again = signer.seal(sealed.data, identity=company.seal, level="b_b", tsa=None,
                        trust_roots=roots)
    reader = PdfFileReader(io.BytesIO(again.data), strict=False)
    assert [s.field_name for s in reader.embedded_signatures][-1] == "CompanySeal2"


def test_invisible_field_created_when_absent(signer, company, roots):
    raw = pf.make_pdf(1)
    result = signer.sign(raw, field_name="Signature1", identity=_one_time(company),
                         level="b_b", tsa=None, appearance=None, trust_roots=roots)
    _assert_all_valid(result.data, roots, expect_count=1)


def test_field_already_signed(signer, company, prepared, roots):
    once = signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_b",
                       tsa=None, appearance=None, trust_roots=roots)
    with pytest.raises(SigningError) as info:
        signer.sign(once.data, field_name="Sig1", identity=_one_time(company), level="b_b",
                    tsa=None, appearance=None, trust_roots=roots)
    assert info.value.code == "field_already_signed"


@pytest.mark.parametrize("level", ["b_t", "b_lt", "b_lta"])
def test_levels_above_b_b_require_a_tsa(signer, company, prepared, level):
    with pytest.raises(SigningError) as info:
        signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level=level,
                    tsa=None, appearance=None, trust_roots=[])
    assert info.value.code == "tsa_required" and not info.value.transient
    with pytest.raises(SigningError) as info:
        signer.seal(prepared, identity=company.seal, level=level, tsa=None, trust_roots=[])
    assert info.value.code == "tsa_required"


def test_unknown_level(signer, company, prepared):
    with pytest.raises(SigningError) as info:
        signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_x",
                    tsa=None, appearance=None, trust_roots=[])
    assert info.value.code == "unknown_level"


def test_tsa_down_raises_transient_error_and_recovers(company, prepared, private_pki_server):
    pades = signing.PadesSigner()
    try:
        tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=5)
        ident = _one_time(company)
        ok = pades.sign(prepared, field_name="Sig1", identity=ident, level="b_t", tsa=tsa,
                        appearance=None, trust_roots=[])
        assert ok.timestamp_token
        private_pki_server.stop()
        # the timestamper is cached (dummy token known): the real request fails
        with pytest.raises(TsaError) as info:
            pades.sign(prepared, field_name="Sig1", identity=ident, level="b_t", tsa=tsa,
                       appearance=None, trust_roots=[])
        assert info.value.transient and info.value.code == "tsa_unreachable"
        # a fresh process-wide signer (no cached dummy token) fails the same way
        fresh = signing.PadesSigner()
        try:
            for level in ("b_t", "b_lta"):
                with pytest.raises(TsaError):
                    fresh.sign(prepared, field_name="Sig1", identity=ident, level=level,
                               tsa=tsa, appearance=None, trust_roots=[])
            with pytest.raises(TsaError):
                fresh.timestamp(b"manifest", tsa)
            with pytest.raises(TsaError):
                fresh.sign_detached(b"manifest", identity=ident, tsa=tsa)
        finally:
            fresh.close()
        private_pki_server.start()
        again = pades.sign(prepared, field_name="Sig1", identity=ident, level="b_t", tsa=tsa,
                           appearance=None, trust_roots=[])
        assert again.timestamp_token
    finally:
        pades.close()


def test_tsa_http_error_and_timeout(company, prepared, private_pki_server):
    pades = signing.PadesSigner()
    try:
        ident = _one_time(company)
        private_pki_server.fail_with(503)
        tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=5)
        with pytest.raises(TsaError) as info:
            pades.sign(prepared, field_name="Sig1", identity=ident, level="b_t", tsa=tsa,
                       appearance=None, trust_roots=[])
        assert info.value.code == "tsa_bad_response" and info.value.transient
        private_pki_server.fail_with(None)
        private_pki_server.set_delay(3)
        slow = signing.TsaConfig(private_pki_server.tsa_url, timeout=0.3)
        with pytest.raises(TsaError) as info:
            pades.timestamp(b"x", slow)
        assert info.value.code == "tsa_timeout"
        private_pki_server.set_delay(0)
    finally:
        pades.close()


def _loop_tasks(pades):
    """Tasks alive on the signer's event loop, other than the probe itself."""

    async def probe():
        me = asyncio.current_task()
        return [task for task in asyncio.all_tasks() if task is not me]

    return asyncio.run_coroutine_threadsafe(probe(), pades._loop.loop).result(5)


def _no_warnings_after_gc(caplog):
    """Collect garbage (a pending task destroyed, an unclosed session or loop would log now)
    and return the WARNING/ERROR records logged during the test."""
    gc.collect()
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


async def _forever(started=None, cancelled=None):
    """Wait forever; sets the ``started`` / ``cancelled`` threading events if given."""
    try:
        if started is not None:
            started.set()
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        if cancelled is not None:
            cancelled.set()
        raise


def test_loop_call_timeout_cancels_and_awaits_the_call_and_its_tasks(caplog):
    loop_thread = signing._LoopThread()
    try:
        call_cancelled, child_cancelled = threading.Event(), threading.Event()

        async def call():
            # an orphan task, as pyHanko's parallel OCSP fetches become when their caller is
            # cancelled
            asyncio.get_running_loop().create_task(_forever(cancelled=child_cancelled))
            await _forever(cancelled=call_cancelled)

        with pytest.raises(signing._CallTimeout):
            loop_thread.run(call(), 0.2)
        # cancelled and awaited before run() returned: nothing is left on the loop
        assert call_cancelled.is_set() and child_cancelled.is_set()

        async def quick():
            asyncio.get_running_loop().create_task(_forever())
            return 42

        assert loop_thread.run(quick(), 5) == 42  # a finished call leaves no task behind

        async def count():
            return len(asyncio.all_tasks()) - 1

        assert loop_thread.run(count(), 5) == 0
    finally:
        loop_thread.close()
    assert loop_thread.loop.is_closed() and not loop_thread.thread.is_alive()
    with pytest.raises(signing._LoopClosed) as info:
        loop_thread.run(count(), 5)
    assert info.value.started is False
    assert _no_warnings_after_gc(caplog) == []


def test_session_owned_tasks_outlive_their_call_until_close(caplog):
    """aiohttp shares a DNS lookup task between concurrent requests and shields it from a
    cancelled requester: the call does not cancel it, closing the loop does."""
    aiohttp_like = {"__name__": "aiohttp.connector"}
    exec("async def lookup(event):\n    await event.wait()\n", aiohttp_like)
    loop_thread = signing._LoopThread()
    spawned = {}

    async def call():
        spawned["lookup"] = asyncio.get_running_loop().create_task(
            aiohttp_like["lookup"](asyncio.Event()))
        spawned["own"] = asyncio.get_running_loop().create_task(_forever())
        await asyncio.sleep(0)

    loop_thread.run(call(), 5)

    async def states():
        return {name: task.done() for name, task in spawned.items()}

    assert loop_thread.run(states(), 5) == {"lookup": False, "own": True}
    loop_thread.close()
    assert spawned["lookup"].cancelled() and spawned["own"].cancelled()
    assert _no_warnings_after_gc(caplog) == []


def test_loop_close_cancels_and_awaits_calls_in_flight(caplog):
    loop_thread = signing._LoopThread()
    started, cancelled = threading.Event(), threading.Event()
    outcome = []

    def caller():
        try:
            loop_thread.run(_forever(started, cancelled), 60)
        except signing._LoopClosed as exc:
            outcome.append(exc.started)

    thread = threading.Thread(target=caller)
    thread.start()
    assert started.wait(10)
    loop_thread.close()
    thread.join(10)
    assert cancelled.is_set() and outcome == [True]
    assert loop_thread.loop.is_closed()
    assert _no_warnings_after_gc(caplog) == []


def test_signer_timeout_leaves_no_task_and_close_is_clean(company, prepared, private_pki_server,
                                                         caplog):
    pades = signing.PadesSigner(call_timeout=5)
    try:
        tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=30)
        private_pki_server.set_delay(30)
        with pytest.raises(SigningError) as info:
            pades.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_t",
                       tsa=tsa, appearance=None, trust_roots=[])
        assert info.value.code == "timeout" and info.value.transient
        assert not isinstance(info.value, TsaError)  # the call's deadline, not the TSA's
        assert private_pki_server.wait_for_request("/tsa/")
        assert _loop_tasks(pades) == []
        private_pki_server.set_delay(0)
        assert pades.timestamp(b"after the timeout", tsa)  # the loop and session still work
        loop = pades._loop.loop
    finally:
        pades.close()
    assert loop.is_closed()
    assert _no_warnings_after_gc(caplog) == []


def test_signer_close_interrupts_a_signature_in_flight(company, prepared, private_pki_server,
                                                       caplog):
    pades = signing.PadesSigner()
    tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=60)
    errors = []

    def work():
        try:
            pades.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_t",
                       tsa=tsa, appearance=None, trust_roots=[])
        except SigningError as exc:
            errors.append(exc)

    private_pki_server.set_delay(60)
    before = len(private_pki_server.requests)
    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert private_pki_server.wait_for_request("/tsa/", after=before)
        loop = pades._loop.loop
        pades.close()
        thread.join(10)
        assert not thread.is_alive()
        assert [(e.code, e.transient) for e in errors] == [("interrupted", True)]
        assert loop.is_closed()
        private_pki_server.set_delay(0)
        # closed, then used again: a new loop and session
        result = pades.sign(prepared, field_name="Sig1", identity=_one_time(company),
                            level="b_t", tsa=tsa, appearance=None, trust_roots=[])
        assert result.timestamp_token and pades._loop.loop is not loop
    finally:
        private_pki_server.set_delay(0)
        pades.close()
    assert _no_warnings_after_gc(caplog) == []


def test_pki_server_stop_cancels_requests_in_progress(private_pki_server, caplog):
    private_pki_server.set_delay(60)
    outcome = []

    def client():
        import urllib.error
        import urllib.request

        try:
            urllib.request.urlopen(private_pki_server.crl_url, timeout=60).read()
        except (urllib.error.URLError, ConnectionError) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    assert private_pki_server.wait_for_request("/crls/")
    private_pki_server.stop()  # a request in progress is cancelled and awaited
    thread.join(10)
    assert not thread.is_alive() and len(outcome) == 1
    loop = private_pki_server._loop

    async def tasks():
        return len(asyncio.all_tasks()) - 1

    assert asyncio.run_coroutine_threadsafe(tasks(), loop).result(5) == 0
    private_pki_server.close()
    assert loop.is_closed()
    assert _no_warnings_after_gc(caplog) == []


def test_sign_detached_verified_by_openssl(signer, company, tsa, tmp_path):
    manifest = b'{"format": "o2s-esign-evidence/1", "files": {}}'
    der = signer.sign_detached(manifest, identity=company.seal, tsa=tsa)
    content = cms.ContentInfo.load(der)
    signer_info = content["content"]["signer_infos"][0]
    signed = {a["type"].native for a in signer_info["signed_attrs"]}
    assert {"signing_certificate_v2", "signing_time", "message_digest"} <= signed
    unsigned = {a["type"].native for a in signer_info["unsigned_attrs"] or []}
    assert "signature_time_stamp_token" in unsigned
    assert content["content"]["encap_content_info"]["content"].native is None  # detached
    (tmp_path / "m.json").write_bytes(manifest)
    (tmp_path / "m.p7s").write_bytes(der)
    (tmp_path / "ca.pem").write_bytes(company.ca.cert_pem())
    verify = [sigcheck.require_tool("openssl"), "cms", "-verify", "-binary", "-inform", "DER", "-in", "m.p7s",
              "-content", "m.json", "-CAfile", "ca.pem", "-purpose", "any", "-out", os.devnull]
    ok = subprocess.run(verify, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "m.json").write_bytes(manifest.replace(b"1", b"2"))
    bad = subprocess.run(verify, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0
    plain = cms.ContentInfo.load(signer.sign_detached(manifest, identity=company.seal, tsa=None))
    assert not plain["content"]["signer_infos"][0]["unsigned_attrs"]


def test_timestamp_response_verified_by_openssl(signer, tsa, pki_server, tmp_path):
    data = b"manifest.json bytes \xe9"
    resp_der = signer.timestamp(data, tsa)
    resp = tsp.TimeStampResp.load(resp_der)
    assert resp["status"]["status"].native == "granted"
    info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(data).digest()
    assert abs(info["gen_time"].native - datetime.now(UTC)) < timedelta(minutes=1)
    assert resp["time_stamp_token"]["content_type"].native == "signed_data"
    (tmp_path / "d").write_bytes(data)
    (tmp_path / "r.tsr").write_bytes(resp_der)
    (tmp_path / "root.pem").write_bytes(pki.SigningIdentity(None, pki_server.root_cert).cert_pem())
    (tmp_path / "tsa.pem").write_bytes(pki.SigningIdentity(None, pki_server.tsa_cert).cert_pem())
    out = subprocess.run([sigcheck.require_tool("openssl"), "ts", "-verify", "-in", "r.tsr", "-data", "d", "-CAfile",
                          "root.pem", "-untrusted", "tsa.pem"], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
    certs = signer.tsa_certificates(tsa)
    assert pki_server.tsa_cert.dump() in [c.dump() for c in certs]


@pytest.mark.parametrize("label", ["company-ca", "company-ca-rsa"])
def test_imported_ca_issues_and_signs_b_lt(signer, pki_server, tsa, prepared, label):
    ca = pki.identity_from_pkcs12(pki_server.package_pkcs12(label, b"pw"), b"pw")
    ident = pki.issue_one_time_identity(ca, name="Paul Imported", email="paul@example.fr")
    result = signer.sign(prepared, field_name="Sig1", identity=ident, level="b_lt", tsa=tsa,
                         appearance=APPEARANCE, trust_roots=[pki_server.root_cert])
    _assert_all_valid(result.data, [pki_server.root_cert])
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(result.data)))
    assert dss.ocsps  # the imported CA's status, from the test PKI's OCSP responder


def test_concurrent_signatures_from_threads(signer, company, prepared, tsa, roots):
    results, errors = [], []

    def work(n):
        try:
            results.append(signer.sign(prepared, field_name="Sig1",
                                       identity=_one_time(company, n), level="b_t", tsa=tsa,
                                       appearance=APPEARANCE, trust_roots=roots))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 4
    for result in results:
        _assert_all_valid(result.data, roots, expect_count=1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_signer_works_in_a_forked_child(signer, company, prepared, tsa, roots):
    signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_t",
                tsa=tsa, appearance=None, trust_roots=roots)  # parent loop + session exist
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's loop thread does not exist here
        code = 1
        try:
            os.close(read_fd)
            records = []
            handler = logging.Handler(logging.WARNING)
            handler.emit = records.append
            logging.getLogger().addHandler(handler)
            result = signer.sign(prepared, field_name="Sig1", identity=_one_time(company),
                                 level="b_t", tsa=tsa, appearance=APPEARANCE, trust_roots=roots)
            signer.close()  # closes the child's own loop; the parent's is left alone
            gc.collect()  # finalizers of anything the child dropped run now
            with os.fdopen(write_fd, "wb") as fh:
                if records:
                    fh.write("\n".join(r.getMessage() for r in records).encode())
                    code = 3
                else:
                    fh.write(result.data)
                    code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data[:2000]
    _assert_all_valid(data, roots, expect_count=1)
    # the parent's signer is untouched by the child
    again = signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_t",
                        tsa=tsa, appearance=None, trust_roots=roots)
    assert again.timestamp_token


def test_b_lt_with_an_untrusted_signer_chain_is_refused(signer, company, prepared, tsa,
                                                        pki_server):
    with pytest.raises(SigningError) as info:
        signer.sign(prepared, field_name="Sig1", identity=_one_time(company), level="b_lt",
                    tsa=tsa, appearance=None, trust_roots=[pki_server.root_cert])
    assert info.value.code == "chain_invalid" and not info.value.transient


def test_encrypted_pdf_is_refused(signer, company):
    from o2s_esign_lib.errors import PdfError

    with pytest.raises(PdfError) as info:
        signer.sign(pf.encrypted_pdf(), field_name="Sig1", identity=_one_time(company),
                    level="b_b", tsa=None, appearance=None, trust_roots=[])
    assert info.value.code == "encrypted"


def test_qr_runs_reproduce_the_qr_matrix():
    import qrcode

    url = "https://esign.example.fr/v/8f3a2c9d?lang=fr"
    ops, size = signing._qr_commands(url)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       mask_pattern=2)
    qr.add_data(url)
    qr.make(fit=True)
    n = len(qr.modules)
    assert size == n + 8
    drawn = [[False] * n for _ in range(n)]
    for line in ops.split(b"\n"):
        if line.endswith(b" re"):
            x, y, w, h = (int(v) for v in line.split()[:4])
            assert h == 1
            for col in range(x - 4, x - 4 + w):
                drawn[n - 1 - (y - 4)][col] = True
    assert drawn == [[bool(v) for v in row] for row in qr.modules]


def test_signed_pdf_passes_intake_and_reports_signatures(signer, company, prepared):
    result = signer.sign(prepared, field_name="Sig3", identity=_one_time(company), level="b_b",
                         tsa=None, appearance=APPEARANCE, trust_roots=[])
    assert not pdf.inspect_pdf(prepared, max_bytes=10**7).has_signatures
    assert pdf.inspect_pdf(result.data, max_bytes=10**7).has_signatures


def test_sign_many_overlaps_the_time_stamp_requests(company, prepared, private_pki_server):
    """Several documents signed at once: their time-stamp requests are in flight together
    (the authority holds the first one unanswered while the second arrives), and the results
    come back in order, each a valid signature of its own document; the seals alike."""
    pades = signing.PadesSigner()
    tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=60)
    identity = _one_time(company)
    other = pdf.prepare_for_signing(pf.make_pdf(1), [pdf.SignatureSlot("Sig1", "Signataire 1")],
                                    labels={"title": "Signatures"})
    items = [{"pdf": data, "field_name": "Sig1", "identity": identity, "level": "b_t",
              "tsa": tsa, "appearance": None, "trust_roots": []} for data in (prepared, other)]
    outcome = {}
    try:
        pades.timestamp(b"warm-up: the dummy token of this authority is cached", tsa)
        before = len(private_pki_server.requests)
        private_pki_server.hold("/tsa")

        def work():
            outcome["results"] = pades.sign_many(items)

        thread = threading.Thread(target=work)
        thread.start()
        try:
            assert private_pki_server.wait_for_request("/tsa/", after=before + 1), \
                "the second time-stamp request did not leave while the first was unanswered"
        finally:
            private_pki_server.release_hold()
            thread.join(30)
        assert not thread.is_alive()
        results = outcome["results"]
        roots = [company.ca.cert, private_pki_server.root_cert]
        assert [r.data[:len(source)] for r, source in zip(results, (prepared, other), strict=True)] \
            == [prepared, other], "each result extends its own document, in order"
        for result in results:
            assert result.timestamp_token and result.level == "b_t"
            _assert_all_valid(result.data, roots, expect_count=1)
        seals = pades.seal_many([r.data for r in results], identity=company.seal, level="b_t",
                                tsa=tsa, trust_roots=[])
        for seal in seals:
            _assert_all_valid(seal.data, roots, expect_count=2)
        assert pades.sign_many([]) == []
        assert _loop_tasks(pades) == []
    finally:
        pades.close()


def test_sign_many_is_all_or_nothing(company, prepared, private_pki_server):
    """One time-stamp request fails: the call raises the TSA error, nothing is returned, and
    no task of the other signature outlives the call."""
    pades = signing.PadesSigner()
    tsa = signing.TsaConfig(private_pki_server.tsa_url, timeout=30)
    identity = _one_time(company)
    try:
        pades.timestamp(b"warm-up", tsa)
        private_pki_server.fail_with(503, after=1)
        with pytest.raises(TsaError):
            pades.sign_many([{"pdf": prepared, "field_name": f"Sig{n}", "identity": identity,
                              "level": "b_t", "tsa": tsa, "appearance": None,
                              "trust_roots": []} for n in (1, 2)])
        assert _loop_tasks(pades) == []
    finally:
        private_pki_server.fail_with(None)
        pades.close()
