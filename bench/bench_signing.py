"""Signing benchmark: the module's server-side signature of one signer against bare pyHanko.

Three cases run in one process, against the same loopback certomancer TSA, interleaved
iteration by iteration (``benchlib.interleave``), on the same input: a PDF of 1, 10 or 100
pages, or of about 10 MB (a random, incompressible image drawn by reportlab), prepared as the
module prepares it when a request is sent (``lib.pdf.prepare_for_signing``: a signature page
with the signer's empty, visible signature field ``Signature1``).

``module``
    What ``o2s.esign.signer._sign_documents`` does per signer and document, without the ORM:
    a one-time certificate (fresh ECDSA P-256 key, issued by the company CA of
    ``lib.pki.create_company_pki``), then ``lib.signing.PadesSigner.sign`` at PAdES B-T into
    ``Signature1`` with the visible appearance (three lines of text and a QR code to the
    verification page), one PadesSigner per process as in an Odoo worker.
``bare``
    pyHanko as its documentation shows it ("Signing PDF files" > "A simple example" and
    "Timestamp handling"): ``SimpleSigner.load(key, cert, ca_chain_files=...)`` once, one
    ``HTTPTimeStamper(url)`` reused, then per signature ``IncrementalPdfFileWriter`` +
    ``signers.sign_pdf(writer, PdfSignatureMetadata(field_name="Signature1",
    md_algorithm="sha256", subfilter=PADES), signer=..., timestamper=...)`` (the synchronous
    API). Same field, so pyHanko draws its default visible stamp there; same key type (ECDSA
    P-256, issued by the same company CA, key and certificate loaded once); same TSA.
``bare_tuned``
    The floor pyHanko can reach: the key parsed once (``KeyCachingSimpleSigner``), the async
    API (``PdfSigner.async_sign_pdf``) on one persistent event loop with one shared
    ``aiohttp.ClientSession`` given to the ``HTTPTimeStamper``.

Every output is checked once (pyHanko validation through ``tests/support/validation.py``: intact, valid,
trusted, with a signature timestamp) so no case wins by doing less.

Run alone: ``python bench/bench_signing.py [--runs 20] [--sizes p1,p10] --json-out FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

SIZES = ("p1", "p10", "p100", "10mb")
FIELD = "Signature1"
SIGNER_NAME = "Jeanne Martin-Lefèvre"
SIGNER_EMAIL = "jeanne.martin@example.org"
VERIFY_URL = "https://odoo.example.com/esign/verify/q7Vb3kN0xWc9LmZ2pR8sT4uY6hJ1aD5fG0eK3iO7nQw"
GOAL_RATIO = 1.3


def make_document(size: str) -> bytes:
    """The uploaded PDF of a size label (reportlab, as real generators write them)."""
    import pdf_factory

    if size == "10mb":
        # one page with a random RGB image (incompressible), plus two pages of text: ~10 MB
        return pdf_factory.make_pdf(3, image_bytes=8 * 1000 * 1000)
    return pdf_factory.make_pdf(int(size[1:]))


def prepare(lib, data: bytes) -> bytes:
    """The PDF as the module sends it: a signature page with one empty visible field."""
    slots = [lib.pdf.SignatureSlot(FIELD, SIGNER_NAME, "Pour le compte de la SCI Les Œillets")]
    return lib.pdf.prepare_for_signing(data, slots, labels={
        "title": "Page de signatures", "document_label": "Document",
        "document_name": "Lettre de mission.pdf", "reference_label": "Référence",
        "reference": "ESIGN/2026/00042", "signer_label": "Signataire"})


class Cases:
    """The three signing functions, set up once (keys, TSA clients, event loop)."""

    def __init__(self, lib, pki_server, workdir: Path):
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign import signers, timestamps

        self.lib = lib
        self.company = lib.pki.create_company_pki("Cabinet Dupré & Associés", "FR")
        self.roots = [self.company.ca.cert, pki_server.root_cert]
        self.tsa_url = pki_server.tsa_url
        # module: one PadesSigner per process, as in an Odoo worker
        self.pades = lib.signing.PadesSigner()
        self.tsa = lib.signing.TsaConfig(pki_server.tsa_url, timeout=15)
        # bare: an ECDSA P-256 key and certificate of the same CA, in files, loaded as the
        # pyHanko documentation shows
        ident = lib.pki.issue_one_time_identity(self.company.ca, name="Bare pyHanko",
                                                email="bare@example.org")
        key_file, cert_file, ca_file = (workdir / "bare.key.pem", workdir / "bare.cert.pem",
                                        workdir / "ca.cert.pem")
        key_file.write_bytes(ident.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        key_file.chmod(0o600)
        cert_file.write_bytes(ident.cert_pem())
        ca_file.write_bytes(self.company.ca.cert_pem())
        self.bare_signer = signers.SimpleSigner.load(
            str(key_file), str(cert_file), ca_chain_files=(str(ca_file),))
        self.bare_timestamper = timestamps.HTTPTimeStamper(pki_server.tsa_url)
        # tuned bare: key parsed once, async API, one shared aiohttp session on one loop
        self.tuned_signer = _key_caching_signer_class().load(
            str(key_file), str(cert_file), ca_chain_files=(str(ca_file),))
        self.loop = asyncio.new_event_loop()
        self.session = self.loop.run_until_complete(_new_session())
        self.tuned_timestamper = timestamps.HTTPTimeStamper(pki_server.tsa_url,
                                                            session=self.session)

    def close(self):
        self.loop.run_until_complete(self.session.close())
        self.loop.close()
        self.pades.close()

    # --- the three cases -------------------------------------------------------------------
    def module(self, prepared: bytes) -> bytes:
        lib = self.lib
        one_time = lib.pki.issue_one_time_identity(self.company.ca, name=SIGNER_NAME,
                                                   email=SIGNER_EMAIL)
        moment = datetime.now(UTC)
        appearance = lib.signing.Appearance(
            signer_name=SIGNER_NAME,
            lines=["Signé électroniquement", f"par {SIGNER_NAME}",
                   moment.strftime("le %d/%m/%Y à %H:%M UTC")],
            qr_url=VERIFY_URL)
        try:
            return self.pades.sign(
                prepared, field_name=FIELD, identity=one_time, level="b_t", tsa=self.tsa,
                appearance=appearance, trust_roots=self.roots, reason="Signature électronique",
            ).data
        finally:
            one_time.key = None  # as the module does: the one-time key is dropped

    def bare(self, prepared: bytes) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        meta = signers.PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)
        writer = IncrementalPdfFileWriter(io.BytesIO(prepared))
        out = signers.sign_pdf(writer, meta, signer=self.bare_signer,
                               timestamper=self.bare_timestamper)
        return out.getvalue()

    def bare_tuned(self, prepared: bytes) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        meta = signers.PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)
        pdf_signer = signers.PdfSigner(meta, signer=self.tuned_signer,
                                       timestamper=self.tuned_timestamper)

        async def sign():
            writer = IncrementalPdfFileWriter(io.BytesIO(prepared))
            return await pdf_signer.async_sign_pdf(writer)

        return self.loop.run_until_complete(sign()).getvalue()

    # --- checks ----------------------------------------------------------------------------
    def check(self, name: str, prepared: bytes, data: bytes) -> dict:
        """One output, validated: the signature in ``Signature1`` is intact, valid, trusted
        and timestamped, and the prepared PDF is a byte prefix of it (incremental)."""
        import validation

        reports = validation.validate_pdf(data, trust_roots=self.roots)
        report = next((r for r in reports if r.field_name == FIELD), None)
        result = {
            "incremental": data.startswith(prepared),
            "intact": bool(report and report.intact),
            "valid": bool(report and report.valid),
            "trusted": bool(report and report.trusted),
            "timestamped": bool(report and report.timestamp_time),
            "level": report.level if report else None,
            "bytes_added": len(data) - len(prepared),
        }
        result["ok"] = all(result[k] for k in ("incremental", "intact", "valid", "trusted",
                                               "timestamped"))
        if not result["ok"]:
            benchlib.progress(f"signing: the {name} output failed its check: {result}")
        return result


async def _new_session():
    import aiohttp

    return aiohttp.ClientSession()


def _key_caching_signer_class():
    """``SimpleSigner`` that parses its private key once (the stock one parses it for every
    raw signature: see docs/pyhanko-notes.md, "Biggest pitfall")."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeyCachingSimpleSigner(SimpleSigner):
        _parsed_key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            key = self._parsed_key
            if key is None:
                key = self._parsed_key = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None)
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
            return super().sign_raw(data, digest_algorithm)

    return KeyCachingSimpleSigner


def run(runs: int = 20, warmup: int = 3, sizes=SIZES) -> dict:
    lib = benchlib.load_lib()
    from pki_server import PkiServer

    results = {"runs": runs, "warmup": warmup, "goal_ratio": GOAL_RATIO, "level": "b_t",
               "key": "ECDSA P-256", "field": FIELD, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="o2s-bench-sign-") as tmp, PkiServer() as server:
        cases = Cases(lib, server, Path(tmp))
        try:
            for size in sizes:
                original = make_document(size)
                prepared = prepare(lib, original)
                benchlib.progress(f"signing {size}: {len(prepared) / 1024:.0f} KiB prepared, "
                                  f"{runs} interleaved runs (+{warmup} warm-up)")
                funcs = {"module": cases.module, "bare": cases.bare,
                         "bare_tuned": cases.bare_tuned}
                outputs = {}
                times = benchlib.interleave(
                    {name: (lambda f=f, p=prepared: f(p)) for name, f in funcs.items()},
                    runs=runs, warmup=warmup,
                    on_result=lambda name, data, kept=outputs: kept.setdefault(name, data))
                checks = {name: cases.check(name, prepared, outputs[name]) for name in funcs}
                stats = {name: benchlib.summary(values) for name, values in times.items()}
                module, bare, tuned = (stats[n]["median"] for n in ("module", "bare",
                                                                    "bare_tuned"))
                results["sizes"][size] = {
                    "input_bytes": len(original),
                    "prepared_bytes": len(prepared),
                    "ms": stats,
                    "samples_ms": {name: [round(v, 2) for v in values]
                                   for name, values in times.items()},
                    "ratio_vs_bare": benchlib.ratio(module, bare),
                    "ratio_vs_bare_p95": benchlib.ratio(stats["module"]["p95"],
                                                        stats["bare"]["p95"]),
                    "ratio_vs_bare_tuned": benchlib.ratio(module, tuned),
                    "checks": checks,
                }
        finally:
            cases.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--json-out")
    args = parser.parse_args(argv)
    result = run(args.runs, args.warmup, [s for s in args.sizes.split(",") if s])
    benchlib.emit(result, args.json_out)


if __name__ == "__main__":
    main()
