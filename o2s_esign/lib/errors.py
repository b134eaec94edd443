"""Exceptions of the o2s_esign signing core.

Every error carries a stable ``code`` (a short snake_case string) and ``params`` (a dict of
plain values). The Odoo layer maps ``(class, code)`` to a translated message; ``str(error)``
gives an English message for logs and plain scripts. ``transient`` tells callers that a retry
later may succeed (network outages, a TSA or SMS gateway being down).
"""

from typing import ClassVar


class EsignError(Exception):
    """Base class of every error raised by ``o2s_esign.lib``."""

    #: default English messages per code, formatted with ``params``; subclasses extend it
    messages: ClassVar[dict] = {}
    default_transient = False

    def __init__(self, code: str, params: dict | None = None, *, transient: bool | None = None,
                 message: str | None = None):
        self.code = code
        self.params = dict(params or {})
        self.transient = self.default_transient if transient is None else bool(transient)
        self._message = message
        super().__init__(code)

    def __str__(self) -> str:
        if self._message:
            return self._message
        template = None
        for klass in type(self).__mro__:
            template = getattr(klass, "messages", {}).get(self.code)
            if template:
                break
        if template:
            try:
                return template.format(**self.params)
            except (KeyError, IndexError, ValueError):
                template = None  # params do not fit the template: fall back to the code
        if self.params:
            details = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
            return f"{type(self).__name__}: {self.code} ({details})"
        return f"{type(self).__name__}: {self.code}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r}, transient={self.transient})"

    def __reduce__(self):
        return (_rebuild, (type(self), self.code, self.params, self.transient, self._message))


def _rebuild(cls, code, params, transient, message):
    return cls(code, params, transient=transient, message=message)


class PdfError(EsignError):
    """A PDF that cannot be accepted or processed."""

    messages: ClassVar[dict] = {
        "empty": "The file is empty.",
        "too_large": "The file is too large ({size} bytes, limit {max_bytes}).",
        "not_pdf": "The file is not a PDF.",
        "corrupt": "The PDF is damaged or cannot be read.",
        "encrypted": "The PDF is encrypted or password protected.",
        "too_many_pages": "The PDF has too many pages (limit {max_pages}).",
        "active_content": "The PDF contains active content ({kind}).",
        "decompression_bomb": "The PDF contains a stream that inflates beyond the limit.",
        "field_exists": "The PDF already has a field named {field_name!r}.",
        "unsupported_type": "This kind of file cannot be signed.",
        "image_too_large": "The image has too many pixels (limit {max_pixels}).",
        "image_corrupt": "The image is damaged or cannot be read.",
        "heic_unavailable": "HEIC photos cannot be read on this server (pillow-heif missing).",
        "office_unavailable": "Office documents need LibreOffice (soffice) on the server.",
        "conversion_failed": "LibreOffice could not convert the document.",
        "conversion_timeout": "Converting the document took more than {seconds} s.",
    }


class PkiError(EsignError):
    """Keys, certificates, PKCS#12 files and secrets."""

    messages: ClassVar[dict] = {
        "decrypt_failed": "The secret cannot be decrypted (wrong key or damaged data).",
        "pkcs12_invalid": "The PKCS#12 file cannot be read.",
        "pkcs12_password": "The PKCS#12 password is wrong.",
        "pkcs12_no_key": "The PKCS#12 file holds no private key with its certificate.",
        "not_a_ca": "The certificate cannot issue certificates.",
        "public_key_invalid": "The public key is not an ECDSA P-256 key.",
        "pop_invalid": "The proof of possession of the key does not verify.",
    }


class SigningError(EsignError):
    """A signature or seal could not be produced."""

    messages: ClassVar[dict] = {
        "tsa_required": "A time-stamping authority is required for level {level}.",
        "unknown_level": "Unknown signature level {level!r}.",
        "external_signature_invalid": (
            "The signature value was not made by the key of the signer's certificate."),
        "field_not_found": "Signature field {field_name!r} not found.",
        "field_already_signed": "Signature field {field_name!r} is already signed.",
        "sign_failed": "The signature could not be produced.",
        "chain_invalid": "The signer's certificate chain could not be validated.",
        "timeout": "Signing did not complete within {seconds} seconds.",
        "interrupted": "Signing was interrupted because the signing service was shut down.",
    }


class TsaError(SigningError):
    """The time-stamping authority is unreachable or answered badly (transient)."""

    default_transient = True
    messages: ClassVar[dict] = {
        "tsa_unreachable": "The time-stamping authority at {url} cannot be reached.",
        "tsa_timeout": "The time-stamping authority at {url} did not answer in time.",
        "tsa_bad_response": "The time-stamping authority at {url} gave an invalid answer.",
    }


class SmsError(EsignError):
    """An SMS could not be sent (``transient`` for timeouts, connection errors, 5xx and 429)."""

    messages: ClassVar[dict] = {
        "timeout": "The SMS gateway did not answer in time.",
        "connection": "The SMS gateway cannot be reached.",
        "bad_response": "The SMS gateway gave an unexpected answer.",
        "config_missing": "The SMS settings are incomplete ({missing}).",
        "transport_unknown": "Unknown SMS transport {transport!r}.",
        "invalid_number": "The mobile number is missing or not in international format.",
    }

    def __str__(self) -> str:
        if not self._message and self.code.startswith("http_"):
            return f"The SMS gateway refused the message (HTTP {self.code[5:]})."
        return super().__str__()


class EvidenceError(EsignError):
    """The evidence file could not be built or read."""

    messages: ClassVar[dict] = {
        "chain_broken": "The audit trail hash chain is broken at event {first_broken} ({reason}).",
        "document_hash_mismatch": "The stored file of {document!r} does not match its recorded "
                                  "SHA-256.",
        "document_missing": "The file of {document!r} is missing.",
        "bad_signer_index": "There is no signer number {index}.",
        "seal_failed": "The evidence file could not be sealed.",
        "duplicate_entry": "Two files of the evidence would have the same name ({name}).",
        "document_changed": "The file of {document!r} changed while it was being read.",
        "too_large": "The evidence file would exceed the ZIP size limits ({name}).",
        "too_many_signatures": "The PDF has {count} signatures; at most {max} are validated.",
        "validation_timeout": "The signatures could not be validated within {seconds} s.",
    }
