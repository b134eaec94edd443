"""Quick timing of o2s_esign's one-signer signing against bare pyHanko (not a test).

    /tmp/venvtest/bin/python tests/support/pades_timing.py [--rounds 40]

Both run in the same process against the same loopback certomancer TSA, interleaved round by
round, on the same prepared PDF (pages + a signature page with empty fields):

* bare: pyHanko as its documentation shows: ``SimpleSigner`` with an ECDSA P-256 key, one
  ``HTTPTimeStamper`` reused, ``PdfSigner(...).sign_pdf`` (sync API), invisible new field;
* module: ``pki.issue_one_time_identity`` (fresh P-256 key and certificate) +
  ``PadesSigner.sign`` into the pre-created field, visible appearance with text and QR code.

Prints medians / p90 in ms and the module/bare ratio of medians for B-B and B-T.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))


def _load_lib():
    lib = ROOT / "o2s_esign" / "lib"
    spec = importlib.util.spec_from_file_location("o2s_esign_lib", lib / "__init__.py",
                                                  submodule_search_locations=[str(lib)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["o2s_esign_lib"] = module
    spec.loader.exec_module(module)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--pages", type=int, default=1)
    args = parser.parse_args()
    _load_lib()
    import pdf_factory
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import serialization
    from o2s_esign_lib import pdf, pki, signing
    from pki_server import PkiServer
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    company = pki.create_company_pki("Cabinet Dupré")
    slots = [pdf.SignatureSlot("Sig1", "Jeanne Martin-Égé", "pour le compte de la SCI Œillet")]
    prepared = pdf.prepare_for_signing(pdf_factory.make_pdf(args.pages), slots,
                                       labels={"title": "Page de signatures"})
    appearance = signing.Appearance(
        "Jeanne Martin-Égé",
        ["Signé électroniquement", "par Jeanne Martin-Égé", "le 27/11/2026 à 14:03 UTC"],
        "https://esign.example.fr/v/8f3a2c9d")

    bare_ident = pki.issue_one_time_identity(company.ca, name="Bare", email="bare@example.fr")
    key_info = asn1_keys.PrivateKeyInfo.load(bare_ident.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    bare_signer = signers.SimpleSigner(
        signing_cert=bare_ident.cert, signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs(bare_ident.chain))

    with PkiServer() as server:
        bare_tst = timestamps.HTTPTimeStamper(server.tsa_url)
        tsa = signing.TsaConfig(server.tsa_url)
        pades = signing.PadesSigner()

        def bare(level):
            meta = signers.PdfSignatureMetadata(
                field_name="BareSig", md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES)
            w = IncrementalPdfFileWriter(io.BytesIO(prepared))
            pdf_signer = signers.PdfSigner(meta, signer=bare_signer,
                                           timestamper=bare_tst if level == "b_t" else None)
            return pdf_signer.sign_pdf(w).getvalue()

        def module(level):
            ident = pki.issue_one_time_identity(company.ca, name="Jeanne Martin-Égé",
                                                email="jeanne@example.fr")
            return pades.sign(prepared, field_name="Sig1", identity=ident, level=level,
                              tsa=tsa if level == "b_t" else None, appearance=appearance,
                              trust_roots=[company.ca.cert]).data

        results = {}
        for level in ("b_b", "b_t"):
            for _ in range(3):  # warm-up: imports, dummy TSA tokens, caches
                bare(level)
                module(level)
            times = {"bare": [], "module": []}
            for i in range(args.rounds):
                order = (("bare", bare), ("module", module))
                if i % 2:
                    order = order[::-1]
                for name, fn in order:
                    start = time.perf_counter()
                    fn(level)
                    times[name].append((time.perf_counter() - start) * 1000)
            results[level] = times
        pades.close()

    print(f"pdf: {args.pages} page(s) + signature page, {len(prepared)} bytes; "
          f"rounds: {args.rounds} (interleaved)")
    for level, times in results.items():
        med = {k: statistics.median(v) for k, v in times.items()}
        p90 = {k: statistics.quantiles(v, n=10)[-1] for k, v in times.items()}
        print(f"{level}: bare {med['bare']:.1f} ms (p90 {p90['bare']:.1f}) | module "
              f"{med['module']:.1f} ms (p90 {p90['module']:.1f}) | ratio "
              f"{med['module'] / med['bare']:.2f}")


if __name__ == "__main__":
    main()
