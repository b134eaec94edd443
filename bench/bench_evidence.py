"""Evidence benchmark: the evidence ZIP of a 100-page document signed by 5 signers.

Set-up (not timed): the 100-page PDF is prepared as the module sends it (signature pages with
five fields), signed by five one-time certificates at PAdES B-T and sealed by the company
(``lib.signing.PadesSigner``, loopback certomancer TSA); the audit trail is a real hash chain of
the events such a request logs; both PDFs are files on disk, read through callables as the
Odoo layer reads attachments from the filestore.

Time: ``lib.evidence.build_evidence_zip`` into a temporary file (what
``_esign_build_evidence`` does: it also renders and seals ``evidence.pdf``, seals
``manifest.json`` with a detached CMS and timestamps it), interleaved with the baseline, reading
the finished ZIP and hashing it with SHA-256 (the same bytes). A one-off breakdown says where
the time goes (report rendering, PDF seal, detached seal, manifest timestamp, the rest).

Memory: one fresh child process per document size builds the ZIP once under ``tracemalloc``
(peak of Python allocations during the build, above what was allocated before it) and
``ru_maxrss`` (growth of the process's peak RSS during the build). Sizes: the 100-page
document, a 1,000-page one and a ~10 MB one, each signed by 5 and sealed: the goal is a peak
that does not follow the document (documents are copied in 1 MiB chunks).

Run alone: ``python bench/bench_evidence.py [--runs 20] --json-out FILE``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import pickle
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

SIGNERS = 5
MEMORY_SIZES = ("p100", "p1000", "10mb")
#: goal: the peak of the build grows by at most this much from 100 pages to ~10 MB
MEMORY_GOAL_MIB = 2.5


def _document(size: str) -> bytes:
    import pdf_factory

    if size == "10mb":
        return pdf_factory.make_pdf(3, image_bytes=8 * 1000 * 1000)
    return pdf_factory.make_pdf(int(size[1:]))


def _tokens(data: bytes) -> dict:
    """The signature timestamp tokens of a signed PDF (as the Odoo layer extracts them)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    tokens = {}
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    for es in reader.embedded_signatures:
        for attr in es.signer_info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                tokens[f"doc1-{es.field_name}.tst"] = attr["values"][0].dump()
    return tokens


def build_scenario(lib, pki_server, company, pades, tsa, folder: Path, size: str):
    """Sign a document of ``size`` by 5 and seal it; write the files; return the bundle."""
    ev = lib.evidence
    original = _document(size)
    names = [f"Signataire {n} Durand-Lefèvre" for n in range(1, SIGNERS + 1)]
    slots = [lib.pdf.SignatureSlot(f"Signature{n}", names[n - 1], "")
             for n in range(1, SIGNERS + 1)]
    prepared = lib.pdf.prepare_for_signing(original, slots)
    roots = [company.ca.cert, pki_server.root_cert]
    data, certs, steps = prepared, [], []
    t0 = datetime(2026, 11, 27, 9, 0, 0)
    for n in range(1, SIGNERS + 1):
        one_time = lib.pki.issue_one_time_identity(company.ca, name=names[n - 1],
                                                   email=f"signer{n}@example.org")
        data = pades.sign(data, field_name=f"Signature{n}", identity=one_time, level="b_t",
                          tsa=tsa, appearance=lib.signing.Appearance(
                              names[n - 1], ["Signé électroniquement", f"par {names[n - 1]}"],
                              "https://odoo.example.com/esign/verify/abc"),
                          trust_roots=roots).data
        certs.append(one_time.cert_pem())
        steps.append(ev.HashStep(hashlib.sha256(data).hexdigest(), t0 + timedelta(hours=n), n))
    data = pades.seal(data, identity=company.seal, level="b_t", tsa=tsa, trust_roots=roots).data
    steps.append(ev.HashStep(hashlib.sha256(data).hexdigest(), t0 + timedelta(hours=6), None,
                             "Company seal"))
    original_path, signed_path = folder / f"original-{size}.pdf", folder / f"signed-{size}.pdf"
    original_path.write_bytes(prepared)  # the evidence's "original" is the file as sent
    signed_path.write_bytes(data)

    specs = [("created", None, {"by": "Alice Conseil"}), ("sent", None, {}),
             ("state_changed", None, {"old_state": "draft", "new_state": "in_progress"})]
    for n in range(1, SIGNERS + 1):
        specs += [("signer_invited", n, {}), ("email_queued", n, {"kind": "invitation"}),
                  ("page_viewed", n, {}), ("document_viewed", n, {"document_id": 1}),
                  ("otp_sent", n, {"channel": "sms"}), ("sms_sent", n, {}),
                  ("otp_verified", n, {}),
                  ("consent_given", n, {"consent_sha256": "a" * 64}),
                  ("document_signature", n, {"document_id": 1, "sha256_after": steps[n - 1].sha256}),
                  ("signed", n, {})]
    specs += [("document_seal", None, {"document_id": 1, "sha256_after": steps[-1].sha256}),
              ("state_changed", None, {"old_state": "in_progress", "new_state": "signed"})]
    from chain_events import build_chain  # tests/support, on the path since load_lib

    events = build_chain([{
        "request": 42, "sequence": i, "event_type": etype,
        "date": (t0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signer": signer, "ip_address": "203.0.113.%d" % (signer or 1) if signer else None,
        "user_agent": "Mozilla/5.0 (bench)" if signer else None, "payload": payload,
    } for i, (etype, signer, payload) in enumerate(specs, start=1)])
    signers = [ev.EvidenceSigner(
        name=names[n - 1], ref=n, role="Signer", email=f"signer{n}@example.org",
        mobile="+3361234567%d" % n, presence="Remote", id_doc_type="Identity card",
        id_doc_number="ID%06d" % n, id_doc_expiry="2031-01-01", auth_method="SMS code",
        otp_sent=[t0], otp_verified=[t0], ip_address="203.0.113.%d" % n,
        user_agent="Mozilla/5.0 (bench)", consent_sha256="a" * 64, state="signed",
        date_signed=t0 + timedelta(hours=n), certificate=f"signer-{n}.pem")
        for n in range(1, SIGNERS + 1)]
    certificates = ev.certificate_files(
        company_ca=company.ca.cert_pem(), seal=company.seal.cert_pem(), signer_certs=certs,
        tsa_certs=[pki_server.tsa_cert.dump(), pki_server.root_cert.dump()])
    bundle = ev.EvidenceBundle(
        request=ev.EvidenceRequest(
            reference="ESIGN/2026/00042", name="Lettre de mission", company="Cabinet Dupré",
            advisor="Alice Conseil", state="signed", lang="fr_FR", date_created=t0,
            date_sent=t0, date_done=t0 + timedelta(hours=6), pades_level_requested="b_t",
            pades_level_achieved="b_t", tsa_url=tsa.url),
        documents=[ev.EvidenceDocument(
            name=f"Lettre de mission ({size}).pdf", original=str(original_path),
            original_sha256=hashlib.sha256(prepared).hexdigest(), doc_type="Contract",
            prepared_sha256=hashlib.sha256(prepared).hexdigest(), signed=str(signed_path),
            final_sha256=hashlib.sha256(data).hexdigest(), steps=steps)],
        signers=signers, events=events, certificates=certificates, timestamps=_tokens(data),
        consent_texts=[ev.ConsentText("J'accepte la convention de preuve.", "Convention")],
        generated_at=datetime.now(UTC).replace(tzinfo=None))
    return bundle, {"original_bytes": len(prepared), "signed_bytes": len(data)}


class TimedSealer:
    """``lib.evidence.PadesSealer`` that adds up the time of each of its calls."""

    def __init__(self, inner):
        self.inner = inner
        self.ms = {"seal_pdf": 0.0, "seal_detached": 0.0, "timestamp": 0.0}

    def _timed(self, name, *args):
        start = time.perf_counter()
        try:
            return getattr(self.inner, name)(*args)
        finally:
            self.ms[name] += (time.perf_counter() - start) * 1000.0

    def seal_pdf(self, data):
        return self._timed("seal_pdf", data)

    def seal_detached(self, data):
        return self._timed("seal_detached", data)

    def timestamp(self, data):
        return self._timed("timestamp", data)


def _breakdown(ev, bundle, sealer, zip_path, runs: int) -> dict:
    """Where the time of a build goes (medians of ``runs`` builds, timers around the report
    rendering and each sealer call; the rest is the ZIP itself: reading, hashing, writing)."""
    parts = {key: [] for key in ("total", "render_evidence_pdf", "seal_evidence_pdf",
                                 "seal_manifest_cms", "timestamp_manifest",
                                 "rest_zip_streaming_and_hashing")}
    original_render = ev.render_evidence_pdf
    for _ in range(runs):
        render_ms = []

        def timed_render(*args, render_ms=render_ms, **kwargs):
            start = time.perf_counter()
            try:
                return original_render(*args, **kwargs)
            finally:
                render_ms.append((time.perf_counter() - start) * 1000.0)

        timed = TimedSealer(sealer)
        ev.render_evidence_pdf = timed_render
        try:
            start = time.perf_counter()
            with open(zip_path, "wb") as out:
                ev.build_evidence_zip(out, bundle, sealer=timed)
            total = (time.perf_counter() - start) * 1000.0
        finally:
            ev.render_evidence_pdf = original_render
        parts["total"].append(total)
        parts["render_evidence_pdf"].append(sum(render_ms))
        parts["seal_evidence_pdf"].append(timed.ms["seal_pdf"])
        parts["seal_manifest_cms"].append(timed.ms["seal_detached"])
        parts["timestamp_manifest"].append(timed.ms["timestamp"])
        parts["rest_zip_streaming_and_hashing"].append(
            total - sum(render_ms) - sum(timed.ms.values()))
    return {key: round(benchlib.summary(values)["median"], 1) for key, values in parts.items()}


def _sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_times(lib, pki_server, company, pades, tsa, folder: Path, runs: int, warmup: int):
    ev = lib.evidence
    bundle, sizes = build_scenario(lib, pki_server, company, pades, tsa, folder, "p100")
    sealer = ev.PadesSealer(pades, identity=company.seal, level="b_t", tsa=tsa,
                            trust_roots=[company.ca.cert, pki_server.root_cert])
    zip_path = folder / "evidence-p100.zip"
    results = {}

    def build():
        with open(zip_path, "wb") as out:
            results["last"] = ev.build_evidence_zip(out, bundle, sealer=sealer)

    build()  # one ZIP on disk for the hashing baseline
    benchlib.progress(f"evidence: 100 pages signed by {SIGNERS}, ZIP "
                      f"{zip_path.stat().st_size / 1024:.0f} KiB; {runs} interleaved runs")
    times = benchlib.interleave({"evidence_zip": build,
                                 "sha256_of_zip": lambda: _sha256_file(zip_path)},
                                runs=runs, warmup=warmup)
    breakdown = _breakdown(ev, bundle, sealer, zip_path, max(3, min(runs, 7)))
    stats = {name: benchlib.summary(values) for name, values in times.items()}
    return {
        "document": "100 pages, signed by 5 (B-T) and sealed",
        **sizes,
        "zip_bytes": results["last"].size,
        "zip_entries": len(results["last"].manifest["files"]) + 2,
        "ms": stats,
        "samples_ms": {name: [round(v, 2) for v in values] for name, values in times.items()},
        "ratio_vs_sha256": benchlib.ratio(stats["evidence_zip"]["median"],
                                          stats["sha256_of_zip"]["median"]),
        "breakdown_ms_median": breakdown,
    }


# --- memory (child process) -------------------------------------------------------------------

def memory_child(scenario_file: str) -> dict:
    """In a fresh process: build the ZIP once, measuring its peak memory."""
    import tracemalloc

    lib = benchlib.load_lib()
    with open(scenario_file, "rb") as fh:
        scenario = pickle.load(fh)  # our own file, written by the parent a moment ago
    identity = lib.pki.identity_from_pem(scenario["seal_key"], scenario["seal_cert"],
                                         scenario["seal_chain"])
    pades = lib.signing.PadesSigner()
    tsa = lib.signing.TsaConfig(scenario["tsa_url"], timeout=15)
    sealer = lib.evidence.PadesSealer(pades, identity=identity, level="b_t", tsa=tsa,
                                      trust_roots=scenario["roots"])
    bundle = scenario["bundle"]
    # settle the lazy parts every build pays alike (TSA client, fonts), outside the measure
    sealer.timestamp(b"warm-up")
    lib.evidence.report._fonts()
    before = benchlib.proc_memory_mib()
    tracemalloc.start()
    current_before, _ = tracemalloc.get_traced_memory()
    with tempfile.TemporaryFile() as out:
        result = lib.evidence.build_evidence_zip(out, bundle, sealer=sealer)
    current_after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = benchlib.proc_memory_mib()
    pades.close()
    return {
        "zip_bytes": result.size,
        "tracemalloc_peak_mib": round((peak - current_before) / 1048576, 3),
        "tracemalloc_left_mib": round((current_after - current_before) / 1048576, 3),
        "rss_before_mib": round(before["rss"], 1),
        "rss_peak_mib": round(after["peak"], 1),
        "rss_peak_above_start_mib": round(after["peak"] - before["rss"], 1),
    }


def run_memory(lib, pki_server, company, pades, tsa, folder: Path) -> dict:
    import pickle as _pickle

    from cryptography.hazmat.primitives import serialization

    out = {}
    for size in MEMORY_SIZES:
        bundle, sizes = build_scenario(lib, pki_server, company, pades, tsa, folder, size)
        scenario_file = folder / f"scenario-{size}.pickle"
        with open(scenario_file, "wb") as fh:
            _pickle.dump({
                "bundle": bundle, "tsa_url": tsa.url,
                "roots": [company.ca.cert, pki_server.root_cert],
                "seal_key": company.seal.key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()),
                "seal_cert": company.seal.cert_pem(), "seal_chain": company.seal.chain_pem(),
            }, fh)
        scenario_file.chmod(0o600)
        benchlib.progress(f"evidence memory: {size} ({sizes['signed_bytes'] / 1048576:.1f} MiB "
                          "signed), fresh process")
        child = benchlib.run_child([__file__, "--memory-child", str(scenario_file)])
        scenario_file.unlink()
        out[size] = {**sizes, **child}
    base, big = out["p100"], out["10mb"]
    growth = big["tracemalloc_peak_mib"] - base["tracemalloc_peak_mib"]
    doc_growth = (big["signed_bytes"] + big["original_bytes"] - base["signed_bytes"]
                  - base["original_bytes"]) / 1048576
    return {
        "sizes": out,
        "peak_growth_100p_to_10mb_mib": round(growth, 3),
        "document_growth_100p_to_10mb_mib": round(doc_growth, 1),
        "goal_peak_growth_mib": MEMORY_GOAL_MIB,
    }


def run(runs: int = 20, warmup: int = 2) -> dict:
    lib = benchlib.load_lib()
    from pki_server import PkiServer

    with tempfile.TemporaryDirectory(prefix="o2s-bench-evidence-") as tmp, \
            PkiServer() as server:
        company = lib.pki.create_company_pki("Cabinet Dupré & Associés", "FR")
        pades = lib.signing.PadesSigner()
        tsa = lib.signing.TsaConfig(server.tsa_url, timeout=15)
        try:
            times = run_times(lib, server, company, pades, tsa, Path(tmp), runs, warmup)
            memory = run_memory(lib, server, company, pades, tsa, Path(tmp))
        finally:
            pades.close()
    return {"runs": runs, "signers": SIGNERS, "time": times, "memory": memory}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--memory-child")
    parser.add_argument("--json-out")
    args = parser.parse_args(argv)
    if args.memory_child:
        result = memory_child(args.memory_child)
    else:
        result = run(args.runs, args.warmup)
    benchlib.emit(result, args.json_out)


if __name__ == "__main__":
    main()
