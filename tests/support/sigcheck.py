"""Independent checks of signed PDFs for tests: poppler's ``pdfsig`` and pyHanko's own
validator called directly (not through o2s_esign's validation module)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile

__all__ = ["have_pdfsig", "pdfsig", "pyhanko_check", "require_tool"]

#: external tools the tests use, with the Debian package the project's setup installs them from
TOOL_PACKAGES = {"pdfsig": "poppler-utils", "pdftotext": "poppler-utils",
                 "pdftoppm": "poppler-utils", "openssl": "openssl"}


def require_tool(name: str) -> str:
    """Path of the external tool ``name``; raises ``AssertionError`` (the test fails, it never
    skips) with a clear message when it is not installed."""
    path = shutil.which(name)
    if path is None:
        package = TOOL_PACKAGES.get(name, name)
        raise AssertionError(
            f"{name!r} is not installed, and this test needs it: the project's setup installs "
            f"it (apt-get install -y {package}). Tests fail rather than skip without it.")
    return path


def have_pdfsig() -> bool:
    """True when poppler's pdfsig is installed (tests call :func:`require_tool` instead)."""
    return shutil.which("pdfsig") is not None


def pdfsig(data: bytes) -> list[dict]:
    """Run ``pdfsig`` on ``data`` (failing when it is not installed); one dict per signed field
    (empty fields are left out) with ``field``, ``type``, ``validation`` (e.g. "Signature is
    Valid."), ``total`` (covers the whole file) and ``raw`` (its block of output)."""
    fd, path = tempfile.mkstemp(suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        proc = subprocess.run([require_tool("pdfsig"), path], capture_output=True, text=True,
                              timeout=60, check=False)
    finally:
        os.unlink(path)
    blocks = re.split(r"^Signature #\d+:\s*$", proc.stdout, flags=re.MULTILINE)[1:]
    result = []
    for block in blocks:
        if "The signature form field is not signed." in block:
            continue
        def grab(label, block=block):
            m = re.search(rf"- {label}: (.*)$", block, flags=re.MULTILINE)
            return m.group(1).strip() if m else None
        result.append({
            "field": grab("Signature Field Name"),
            "type": grab("Signature Type"),
            "validation": grab("Signature Validation"),
            "total": "Total document signed" in block and "Not total" not in block,
            "raw": block,
        })
    return result


def pyhanko_check(data: bytes, roots: list) -> list[tuple[str, str, object]]:
    """(field name, kind, pyHanko status) for every embedded signature, validated by pyHanko's
    synchronous API with ``roots`` as trust anchors and no network."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    out = []
    for es in reader.embedded_signatures:
        if es.sig_object_type == "/DocTimeStamp":
            status = validate_pdf_timestamp(es, ValidationContext(trust_roots=roots))
            out.append((es.field_name, "doc_timestamp", status))
        else:
            status = validate_pdf_signature(es, ValidationContext(trust_roots=roots),
                                            ts_validation_context=ValidationContext(
                                                trust_roots=roots))
            out.append((es.field_name, "signature", status))
    return out
