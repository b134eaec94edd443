# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Good and hostile files for the Odoo tests, from the repository's tests/support/pdf_factory.py
(the same factory the signing core's tests use)."""
import importlib.util
import pathlib

_FACTORY = pathlib.Path(__file__).resolve().parents[2] / "tests" / "support" / "pdf_factory.py"


def _load_factory():
    spec = importlib.util.spec_from_file_location("o2s_esign_tests_pdf_factory", _FACTORY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pdf_factory = _load_factory()


def bad_files():
    """{case: (bytes, the sentence the user reads)}: one file per refusal reason of the issue
    (active content is no longer refused but neutralised: test_esign_documents_any.py)."""
    good = pdf_factory.make_pdf()
    return {
        "not_pdf": (b"Just a text file, not a PDF.\n" * 10, "is not a PDF file"),
        "empty": (b"", "is empty"),
        "corrupt": (good[: len(good) // 2], "is a damaged PDF"),
        "encrypted": (pdf_factory.encrypted_pdf(user_password="secret"), "is protected by a password"),
    }


def large_pdf(size_mb):
    """A valid PDF a little larger than ``size_mb`` MB (an incompressible image)."""
    return pdf_factory.make_pdf(image_bytes=int(size_mb * 1024 * 1024) + 200_000)
