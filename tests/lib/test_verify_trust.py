"""verify.py's trust (issue #14 items 1 and 2): trust pinned to the company CA or --trust /
--ca-fingerprint, never taken from the file; time-stamping authority roots of the ZIP for
time-stamps only; manifest and report sealed by the company seal certificate; the report agrees
with the trail; --strict fails every weakening SKIP.

The forgery of the issue is built by ``tests/support/forgery.py`` (plain pyHanko and
cryptography, not the module's code) from a genuine ZIP with a time-stamping authority."""

import hashlib
import json

import evidence_factory as factory
from evidence_factory import verify_statuses as statuses
import forgery
import o2s_esign_lib
import o2s_esign_lib.evidence as ev
import pytest
from chain_events import build_chain
from test_verify import VENV_PYTHON, build, failed, rehash, run_cli, run_inprocess, unpack

LIB = o2s_esign_lib
SIGNED = "signed/1-Lettre-de-mission-n-1-ete.pdf"


@pytest.fixture(scope="module")
def genuine(pki_server, tmp_path_factory):
    """(scenario, ZIP path, company-ca.pem path, its fingerprint): a request signed at B-T."""
    folder = tmp_path_factory.mktemp("genuine")
    tsa_certs = {"tsa-1.pem": pki_server.tsa_cert.dump(),
                 "tsa-root-1.pem": pki_server.root_cert.dump()}
    scenario = factory.two_signer_scenario(LIB, folder, tsa_url=pki_server.tsa_url,
                                           tsa_certs=tsa_certs)
    path = build(scenario, folder / "EVIDENCE.zip")
    ca_pem = folder / "company-ca.pem"
    ca_pem.write_bytes(scenario.ca.cert_pem)
    der = scenario.ca.cert.public_bytes(forgery.serialization.Encoding.DER)
    return scenario, path, ca_pem, LIB.verify.fingerprint(der)


def run_strict(path, *args):
    return run_cli(VENV_PYTHON, "--strict", *args, path)


def test_genuine_passes_strict_with_and_without_pinning(genuine):
    scenario, path, ca_pem, ca_fp = genuine
    for pin in ([], ["--trust", ca_pem], ["--ca-fingerprint", ca_fp],
                ["--ca-fingerprint", ca_fp.replace(":", "").lower()]):
        rc, output = run_strict(path, *pin)
        assert rc == 0, (pin, output)
        result = statuses(output)
        assert "SKIP" not in result.values(), output
        for name in ("company_ca", "certificates", "evidence_report", "manifest_seal",
                     "manifest_timestamp", f"pdf_trust:{SIGNED}", "pdf_trust:evidence.pdf"):
            assert result[name] == "PASS", (name, output)
    # the company CA's fingerprint is printed; the TSA root is trusted for time-stamps only
    assert f"company CA certificates/company-ca.pem SHA-256 {ca_fp}" in output
    assert "time-stamping authority root certificates/tsa-root-1.pem (for time-stamps only)" \
        in output
    assert "trust anchor certificates/tsa-root" not in output


def test_issue_forgery_fails_with_and_without_trust(genuine, tmp_path):
    """The issue's forgery: rewritten IP, re-chained trail, own root as tsa-root-9.pem, manifest
    re-sealed and re-time-stamped under that root, canonical re-pack."""
    scenario, path, ca_pem, _fp = genuine
    forged = forgery.forge(path, tmp_path / "forged.zip")
    for pin in ([], ["--trust", ca_pem]):
        rc, output = run_strict(forged, *pin)
        assert rc == 1, output
        result = statuses(output)
        # a careful forgery: layout, hashes, chain and its head, time-stamp all hold ...
        for name in ("zip_structure", "files_complete", "hash:audit_trail.json", "chain",
                     "chain_head", "certificates", "company_ca", "manifest_timestamp"):
            assert result[name] == "PASS", (name, output)
        assert forgery.FORGED_IP in (tmp_path / "forged.zip").read_bytes().decode("latin-1")
        # ... but the forger's root is no trust anchor for seals, the seal is not the
        # company's, and the sealed report states the genuine trail
        assert set(failed(output)) == {"manifest_seal", "evidence_report"}, output
        assert "not by the company seal certificate" in output
        assert "time-stamping authority root certificates/tsa-root-9.pem" in output
        assert "trust anchor certificates/tsa-root-9.pem" not in output


def test_forgery_with_the_seal_certificate_replaced(genuine, tmp_path):
    scenario, path, ca_pem, _fp = genuine
    forged = forgery.forge(path, tmp_path / "forged.zip", replace_seal_cert=True)
    for pin in ([], ["--trust", ca_pem]):
        rc, output = run_strict(forged, *pin)
        assert rc == 1
        names = failed(output)
        assert "manifest_seal" in names and "evidence_report" in names, output
        # the report and the signed PDFs are sealed by the genuine seal, no longer the one
        # the ZIP names
        assert "pdf_trust:evidence.pdf" in names


def test_forgery_with_the_company_ca_replaced_needs_pinning(genuine, tmp_path):
    scenario, path, ca_pem, ca_fp = genuine
    forged = forgery.forge(path, tmp_path / "forged.zip", replace_seal_cert=True,
                           replace_ca=True)
    rc, output = run_strict(forged)
    assert rc == 1
    names = failed(output)
    # the forger's seal now chains to the ZIP's CA, but nothing else the company signed does
    assert {"evidence_report", "pdf_trust:evidence.pdf", f"pdf_trust:{SIGNED}"} <= set(names)
    for pin in (["--trust", ca_pem], ["--ca-fingerprint", ca_fp]):
        rc, output = run_strict(forged, *pin)
        assert rc == 1
        names = failed(output)
        assert {"company_ca", "manifest_seal", "pdf_trust:evidence.pdf"} <= set(names), output
        assert "is not the pinned certificate" in output


def _repack_sealed(scenario, path, out, replace):
    """An insider's re-pack: files replaced, the manifest updated and sealed with the genuine
    company seal and time-stamped by the genuine authority."""
    files = forgery.read_zip(path)
    manifest = json.loads(files.pop("manifest.json"))
    files.pop("manifest.json.p7s")
    files.pop("timestamps/manifest.json.tsr")
    for name, data in replace.items():
        files[name] = data
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
                      + "\n").encode()
    files["manifest.json"] = manifest_bytes
    files["manifest.json.p7s"] = scenario.sealer.seal_detached(manifest_bytes)
    files["timestamps/manifest.json.tsr"] = scenario.sealer.timestamp(manifest_bytes)
    when = json.loads(manifest_bytes)["generated_at"].rstrip("Z").split(".")[0]
    from datetime import datetime
    return forgery.write_canonical_zip(out, files, datetime.strptime(when, "%Y-%m-%dT%H:%M:%S"))


@pytest.fixture(scope="module")
def other_report(genuine, pki_server, tmp_path_factory):
    """evidence.pdf of another request of the same company (same CA and seal)."""
    scenario, *_ = genuine
    folder = tmp_path_factory.mktemp("other")
    other = factory.two_signer_scenario(LIB, folder, tsa_url=pki_server.tsa_url, ca=scenario.ca)
    for event in other.bundle.events:
        event["request"] = 43
    other.bundle.events = build_chain(other.bundle.events)
    other.bundle.request.reference = "ESIGN/2026/00043"
    path = build(other, folder / "OTHER.zip")
    return forgery.read_zip(path)["evidence.pdf"]


def test_report_of_another_request_fails(genuine, other_report, tmp_path):
    scenario, path, ca_pem, _fp = genuine
    # as a forger: the other report, the manifest re-sealed under their own root
    forged = forgery.forge(path, tmp_path / "forged.zip", evidence_pdf=other_report,
                           edit_trail=False)
    for pin in ([], ["--trust", ca_pem]):
        rc, output = run_strict(forged, *pin)
        assert rc == 1
        assert {"evidence_report", "manifest_seal"} <= set(failed(output)), output
    # even sealed by the company itself, the report must state the manifest's trail
    repacked = _repack_sealed(scenario, path, tmp_path / "insider.zip",
                              {"evidence.pdf": other_report})
    for pin in ([], ["--trust", ca_pem]):
        rc, output = run_strict(repacked, *pin)
        assert rc == 1
        assert failed(output) == ["evidence_report"], output
        assert "(a report of another trail)" in output
    rc, output = run_inprocess(repacked)  # stdlib alone sees it too
    assert failed(output) == ["evidence_report"]


def test_unexpected_certificate_files(genuine, tmp_path):
    scenario, path, _ca_pem, _fp = genuine
    folder = unpack(path, tmp_path / "unpacked")
    other = factory.TestCa("Autre")
    cases = {
        "certificates/evil.pem": other.cert_pem,                         # unexpected name
        "certificates/tsa-root-2.pem": other.seal.cert_pem,              # root not self-signed
        "certificates/company-seal.pem": other.cert_pem + other.seal.cert_pem,  # two
    }
    for name, data in cases.items():
        target = folder / name
        before = target.read_bytes() if target.exists() else None
        target.write_bytes(data)
        manifest_before = (folder / "manifest.json").read_bytes()
        rehash(folder, name)
        rc, output = run_inprocess(folder)
        assert rc == 1 and "certificates" in failed(output), (name, output)
        (folder / "manifest.json").write_bytes(manifest_before)
        if before is None:
            target.unlink()
        else:
            target.write_bytes(before)
    rc, output = run_inprocess(folder)
    assert rc == 0, output


def test_pinning_options(genuine, tmp_path):
    scenario, path, _ca_pem, _fp = genuine
    rc, output = run_cli(VENV_PYTHON, "--ca-fingerprint", "AB:CD", path)
    assert rc == 1 and "trust" in failed(output)
    wrong = LIB.verify.fingerprint(b"another certificate")
    rc, output = run_cli(VENV_PYTHON, "--ca-fingerprint", wrong, path)
    assert rc == 1
    names = failed(output)
    # a pin that does not match: the ZIP's CA is not trusted at all
    assert {"company_ca", "manifest_seal", "pdf_trust:evidence.pdf",
            f"pdf_trust:{SIGNED}"} <= set(names)
    other = tmp_path / "other-ca.pem"
    other.write_bytes(factory.TestCa("Autre").cert_pem)
    rc, output = run_cli(VENV_PYTHON, "--trust", other, path)
    assert rc == 1 and "company_ca" in failed(output)


def test_strict_fails_every_weakening_skip(tmp_path):
    """No trusted time on the manifest and a report that does not state its chain head are
    SKIPs that weaken the conclusion: they fail under --strict."""
    scenario = factory.two_signer_scenario(LIB, tmp_path)  # no time-stamping authority
    path = build(scenario, tmp_path / "bb.zip")
    rc, output = run_cli(VENV_PYTHON, path)
    assert rc == 0 and statuses(output)["manifest_timestamp"] == "SKIP"
    rc, output = run_cli(VENV_PYTHON, "--strict", path)
    assert rc == 1 and failed(output) == ["manifest_timestamp"]
    folder = unpack(path, tmp_path / "unpacked")
    (folder / "evidence.pdf").write_bytes(factory.make_pdf(1))  # states no chain head
    rehash(folder, "evidence.pdf")
    rc, output = run_inprocess(folder)
    assert rc == 0 and statuses(output)["evidence_report"] == "SKIP"
    rc, output = run_inprocess(folder, "--strict")
    assert "evidence_report" in failed(output)
    # the folder layout (no ZIP to check) weakens nothing
    assert statuses(output)["zip_structure"] == "SKIP"


def test_report_states_chain_head_fingerprint_and_eidas_level(genuine):
    scenario, path, _ca_pem, ca_fp = genuine
    import subprocess
    report = forgery.read_zip(path)["evidence.pdf"]
    manifest = json.loads(forgery.read_zip(path)["manifest.json"])
    assert ev.report_keywords(scenario.bundle).encode() in report
    assert f"chain_head={manifest['chain_head']} event_count={manifest['event_count']}".encode() \
        in report
    text = subprocess.run(["pdftotext", "-", "-"], input=report, capture_output=True, check=True,
                          timeout=60).stdout.decode()
    flat = " ".join(text.split())
    assert ca_fp in "".join(text.split())
    assert "not a qualified electronic signature" in flat
    assert "sole control" in flat
