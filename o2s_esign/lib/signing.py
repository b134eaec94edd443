"""PAdES signing with pyHanko: signatures (B-B, B-T, B-LT, B-LTA), company seal, detached CMS
and RFC 3161 timestamps.

One :class:`PadesSigner` per process, reused for every signature. It avoids the two speed traps
of pyHanko 0.38's defaults:

* the stock ``SimpleSigner`` re-parses its private key for every raw signature (40 ms per
  parse for RSA-2048): our signer signs with the already parsed ``cryptography`` key object;
* the synchronous wrappers run ``asyncio.run()`` per call, so every TSA request and every
  revocation fetch builds a new aiohttp session (and a certifi SSL context): we run pyHanko's
  async API on one persistent event loop in a daemon thread with one shared
  ``aiohttp.ClientSession``, re-created after ``os.fork()``. No task outlives its call: a call
  that passes its deadline is cancelled and awaited inside the loop, the tasks it spawned are
  cancelled and awaited when it ends, and ``close()`` cancels and awaits what still runs,
  closes the session and then the loop.

It also reuses ``TimeStamper`` objects per TSA configuration (pyHanko fetches one dummy token
per timestamper to size the CMS), reserves the signature space from a computed estimate rather
than building a throw-away "dry run" CMS per signature, and keeps appearance rendering cheap
(standard Helvetica with WinAnsi encoding when the text allows it, the QR code built with a
fixed mask and run-length rectangles).

A TSA that is unreachable, slow or answers badly raises :class:`~.errors.TsaError`
(``transient``) and nothing is returned: a signature level is never silently downgraded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, PSS, PKCS1v15
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import init_xobject_dictionary
from pyhanko.sign import fields as sig_fields
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, handle_tsp_response
from pyhanko.stamp import QRStampStyle, TextStampStyle
from pyhanko.stamp.qr import QRStamp
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pki
from .errors import PdfError, SigningError, TsaError

_logger = logging.getLogger(__name__)

__all__ = [
    "LEVELS",
    "SEAL_FIELD",
    "Appearance",
    "PadesSigner",
    "SignResult",
    "TsaConfig",
]

LEVELS = ("b_b", "b_t", "b_lt", "b_lta")
SEAL_FIELD = "CompanySeal"
MD = "sha256"


@dataclass(frozen=True)
class TsaConfig:
    """An RFC 3161 time-stamping service (HTTP POST), optionally with basic authentication."""

    url: str
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def __repr__(self):  # never print the password
        return f"TsaConfig(url={self.url!r}, username={self.username!r}, timeout={self.timeout})"


@dataclass
class Appearance:
    """Visible signature appearance. ``lines`` are already translated and formatted by the
    caller (e.g. ``["Signé électroniquement", "par Jeanne Martin", "le 27/11/2026 à 14:03
    UTC"]``); ``qr_url`` adds a QR code (and its text is the URL it encodes); ``image``: a
    PNG (or any image Pillow reads) of the signature the signer drew or typed, shown in the
    upper or left part of the box, aspect kept. In a small box (under 100 x 40 points) the QR
    code is left out, and with an image only the signer's name is written."""

    signer_name: str
    lines: list[str] = field(default_factory=list)
    qr_url: str | None = None
    image: bytes | None = None


@dataclass
class SignResult:
    """Outcome of a signature: the new PDF bytes and what a record should keep about it."""

    data: bytes
    level: str
    signing_time: datetime
    timestamp_token: bytes | None
    signer_cert_der: bytes


@dataclass
class ExternalPrepared:
    """First step of a signature made by a key held elsewhere (the signer's browser).

    :ivar to_be_signed: DER of the CMS signed attributes: what the key signs with ECDSA/SHA-256
        (WebCrypto hashes it itself).
    :ivar state: what :meth:`PadesSigner.finish_external` needs (plain bytes and strings, no
        secret: the prepared PDF with its byte range, the signed attributes, the certificates);
        the caller keeps it server side between the two steps.
    """

    to_be_signed: bytes
    state: dict


def _external_signer(cert, chain, signature_value=None):
    """pyHanko ``ExternalSigner`` for the certificate of a key we do not hold (ECDSA P-256)."""
    from pyhanko.sign.signers.pdf_cms import ExternalSigner

    registry = SimpleCertificateStore.from_certs([cert, *chain])
    return ExternalSigner(
        signing_cert=cert, cert_registry=registry, embed_roots=True,
        signature_value=signature_value if signature_value is not None else 72,
        signature_mechanism=cms.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}))


async def _presign_validation(cert, chain, validation_context, timestamper, level, pdf):
    """pyHanko's pre-signing validation (the signer's and the TSA's paths and revocation data,
    for the DSS of b_lt/b_lta) of a signature finished outside the signing session."""
    ku = cert.key_usage_value
    meta = PdfSignatureMetadata(
        field_name="O2sEsignPresign", md_algorithm=MD,
        subfilter=sig_fields.SigSeedSubFilter.PADES, embed_validation_info=True,
        validation_context=validation_context, use_pades_lta=level == "b_lta",
        signer_key_usage={"non_repudiation"} if ku is None or "non_repudiation" in ku.native
        else {"digital_signature"})
    pdf_signer = PdfSigner(meta, signer=_external_signer(cert, chain), timestamper=timestamper)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    session = pdf_signer.init_signing_session(writer, existing_fields_only=False)
    return await session.perform_presign_validation(None)


# --- signer with a parsed key ------------------------------------------------------------------

class _KeySigner(Signer):
    """pyHanko ``Signer`` that signs with a ``cryptography`` private key object directly
    (``SimpleSigner`` re-parses its DER key for every raw signature)."""

    def __init__(self, identity: pki.SigningIdentity):
        registry = SimpleCertificateStore.from_certs([identity.cert, *identity.chain])
        super().__init__(signing_cert=identity.cert, cert_registry=registry, embed_roots=True)
        self._key = identity.key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algo = mechanism.signature_algo
        key = self._key
        if algo == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algo == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            params = mechanism["parameters"]
            md = get_pyca_cryptography_hash(params["hash_algorithm"]["algorithm"].native)
            salt = params["salt_length"].native
            return key.sign(data, PSS(mgf=MGF1(md), salt_length=salt), md)
        if algo == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if algo == "ed448" and isinstance(key, ed448.Ed448PrivateKey):
            return key.sign(data)
        if algo == "dsa" and isinstance(key, dsa.DSAPrivateKey):
            return key.sign(data, get_pyca_cryptography_hash(digest_algorithm))
        raise SigningError("sign_failed", {"detail": f"unsupported mechanism {algo}"})


def _signature_size(key) -> int:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.key_size // 8 + 8
    if isinstance(key, dsa.DSAPrivateKey):
        return 72
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return 2 * ((key.curve.key_size + 7) // 8) + 12
    return 128


# --- time-stamping client --------------------------------------------------------------------

class _TimeStamper(HTTPTimeStamper):
    """HTTPTimeStamper on the shared session that reports failures as ``TsaError`` and checks
    that the token answers our request (status, nonce, message imprint)."""

    def __init__(self, config: TsaConfig, session):
        auth = (config.username, config.password or "") if config.username else None
        super().__init__(config.url, timeout=config.timeout, auth=auth, session=session)

    def _error(self, exc: BaseException) -> TsaError:
        import aiohttp

        cause = exc
        seen = set()
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, TimeoutError):  # incl. asyncio and aiohttp timeouts
                return TsaError("tsa_timeout", {"url": self.url})
            if isinstance(cause, aiohttp.ClientResponseError):
                return TsaError("tsa_bad_response", {"url": self.url, "status": cause.status})
            if isinstance(cause, (aiohttp.ClientConnectionError, ConnectionError)):
                return TsaError("tsa_unreachable", {"url": self.url})
            cause = cause.__cause__ or cause.__context__
        return TsaError("tsa_bad_response", {"url": self.url})

    async def async_request_response(self, message_digest: bytes, md_algorithm: str):
        """Full TimeStampResp (checked) for a digest: ``(response, token)``."""
        nonce, req = self.request_cms(message_digest, md_algorithm)
        try:
            response = await self.async_request_tsa_response(req)
            token = handle_tsp_response(response, nonce)
            imprint = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]
        except TsaError:
            raise
        except (TimeoutError, TimestampRequestError, OSError, ValueError, TypeError, KeyError) as exc:
            raise self._error(exc) from exc
        except Exception as exc:
            raise self._error(exc) from exc
        if imprint["hashed_message"].native != message_digest:
            raise TsaError("tsa_bad_response", {"url": self.url, "detail": "imprint"})
        return response, token

    async def async_timestamp(self, message_digest, md_algorithm) -> cms.ContentInfo:
        _, token = await self.async_request_response(message_digest, md_algorithm)
        return token


# --- cheap appearance ------------------------------------------------------------------------

def _pdf_literal(raw: bytes) -> bytes:
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") \
        .replace(b"\r", b"\\r").replace(b"\n", b"\\n") + b")"


class _WinAnsiEngine(FontEngine):
    """Standard Helvetica with WinAnsiEncoding: nothing to parse, subset or embed, and correct
    metrics (from reportlab's AFM data). Used when every character is in cp1252."""

    def __init__(self, writer, name="Helvetica"):
        self.name = name
        super().__init__(writer, name, embedded_subset=False)

    @property
    def uses_complex_positioning(self):
        return False

    def shape(self, txt: str) -> ShapeResult:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        ops = _pdf_literal(txt.encode("cp1252", "replace")) + b" Tj"
        return ShapeResult(graphics_ops=ops, x_advance=stringWidth(txt, self.name, 1),
                           y_advance=0)

    def as_resource(self):
        name = generic.NameObject
        return generic.DictionaryObject({
            name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
            name("/BaseFont"): name("/" + self.name), name("/Encoding"): name("/WinAnsiEncoding"),
        })


class _WinAnsiFactory(FontEngineFactory):
    def create_font_engine(self, writer, obj_stream=None):
        return _WinAnsiEngine(writer)


@lru_cache(maxsize=1)
def _ttf_factory():
    """Embedded-subset Bitstream Vera, for text outside cp1252 (slower: fontTools subsetting)."""
    import reportlab
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    path = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
    return GlyphAccumulatorFactory(path)


def _cp1252_ok(texts) -> bool:
    try:
        for text in texts:
            text.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


@lru_cache(maxsize=256)
def _qr_commands(url: str) -> tuple[bytes, int]:
    """QR code as PDF path operators (one rectangle per horizontal run of dark modules), with a
    fixed mask pattern (skips qrcode's 8-way mask evaluation). Returns (ops, size in modules)."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       mask_pattern=2)
    qr.add_data(url)
    qr.make(fit=True)
    modules = qr.modules
    n = len(modules)
    border = qr.border
    ops = [b"0 0 0 rg"]
    for r, row in enumerate(modules):
        y = border + n - 1 - r
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                ops.append(b"%d %d %d 1 re" % (border + start, y, c - start))
            else:
                c += 1
    ops.append(b"f")
    return b"\n".join(ops), n + 2 * border


class _FastQRStamp(QRStamp):
    def _qr_xobject(self):
        commands, size = _qr_commands(self.url)
        xobj = init_xobject_dictionary(commands, size, size)
        xobj.compress()
        return self.writer.add_object(xobj), size


@dataclass(frozen=True)
class _FastQRStampStyle(QRStampStyle):
    def create_stamp(self, writer, box, text_params):
        text_params = dict(text_params)
        url = text_params.pop("url")
        return _FastQRStamp(writer, style=self, url=url, text_params=text_params, box=box)


#: below this size (points) a box shows no QR code (and, with an image, only the name)
_SMALL_W, _SMALL_H = 100, 40
#: the drawn signature is scaled down to at most this many pixels before it is embedded
_IMAGE_MAX = (1200, 600)
_IMAGE_MAX_PIXELS = 16_000_000


def _signature_image(data: bytes):
    """The drawn signature as a Pillow image pyHanko can embed (RGB/RGBA/L/LA), at most
    :data:`_IMAGE_MAX` pixels. Raises ``ValueError`` for what is not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(bytes(data)))
        if image.width * image.height > _IMAGE_MAX_PIXELS:
            raise ValueError("the signature image is too large")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"the signature image cannot be read ({type(exc).__name__})") from None
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    if image.width > _IMAGE_MAX[0] or image.height > _IMAGE_MAX[1]:
        image.thumbnail(_IMAGE_MAX)
    return image


def _margins(left=0.0, right=0.0, top=0.0, bottom=0.0):
    from pyhanko.pdf_utils.layout import Margins

    return Margins(left=left, right=right, top=top, bottom=bottom)


@dataclass(frozen=True)
class _BoxStampStyle(TextStampStyle):
    """Chooses the stamp once the field's box is known: the drawn image in the upper or left
    part, the QR code only when there is room for it."""

    o2s_lines: tuple = ()
    o2s_name: str = ""
    o2s_url: str | None = None
    o2s_image: object = None

    def create_stamp(self, writer, box, text_params):
        from pyhanko.pdf_utils.images import PdfImage
        from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, SimpleBoxLayoutRule
        from pyhanko.stamp.text import TextStamp

        text_params = {k: v for k, v in dict(text_params).items() if k != "url"}
        width = box.width if box is not None and box.width_defined else 1000
        height = box.height if box is not None and box.height_defined else 1000
        small = width < _SMALL_W or height < _SMALL_H
        lines = list(self.o2s_lines)
        extra = {}
        region_w, region_h = width, height
        if self.o2s_image is not None:
            if small:
                lines = [self.o2s_name]
            pad = 2.0
            if width >= 1.6 * height and not small:  # image on the left
                side = width * 0.35
                image_margins = _margins(pad, width - side, pad, pad)
                text_margins = _margins(side + pad, pad, pad, pad)
                region_w = width - side
            else:  # image on top
                side = height * (0.6 if small else 0.5)
                image_margins = _margins(pad, pad, pad, height - side)
                text_margins = _margins(pad, pad, side + pad / 2, pad / 2)
                region_h = height - side
            extra = {
                "background": PdfImage(self.o2s_image),
                "background_opacity": 1.0,
                "background_layout": SimpleBoxLayoutRule(
                    x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MAX,
                    margins=image_margins, inner_content_scaling=InnerScaling.STRETCH_TO_FIT),
                "inner_content_layout": SimpleBoxLayoutRule(
                    x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MID,
                    margins=text_margins, inner_content_scaling=InnerScaling.SHRINK_TO_FIT),
            }
        common = {"stamp_text": "\n".join(line.replace("%", "%%") for line in lines),
                  "text_box_style": self.text_box_style, "border_width": 0, **extra}
        if self.o2s_url and region_w >= _SMALL_W and region_h >= _SMALL_H:
            style = _FastQRStampStyle(innsep=2, **common)
            return _FastQRStamp(writer, style=style, url=self.o2s_url, text_params=text_params,
                                box=box)
        return TextStamp(writer, style=TextStampStyle(**common), text_params=text_params,
                         box=box)


def _stamp_style(appearance: Appearance):
    lines = [line for line in (appearance.lines or []) if line is not None]
    if not lines:
        lines = [appearance.signer_name]
    texts = [*lines, appearance.signer_name]
    font = _WinAnsiFactory() if _cp1252_ok(texts) else _ttf_factory()
    box_style = TextBoxStyle(font=font, font_size=10)
    image = _signature_image(appearance.image) if appearance.image else None
    return _BoxStampStyle(text_box_style=box_style, border_width=0, o2s_lines=tuple(lines),
                          o2s_name=appearance.signer_name, o2s_url=appearance.qr_url,
                          o2s_image=image), None


# --- form field values -------------------------------------------------------------------------

#: longest text a signer may write into a field
MAX_FIELD_TEXT = 200


def _form_fields(writer) -> dict:
    """Top-level fields of the form: name -> (reference, field dictionary)."""
    try:
        fields = writer.root["/AcroForm"]["/Fields"]
    except KeyError:
        return {}
    result = {}
    for ref in fields:
        if not isinstance(ref, generic.IndirectObject):
            continue
        item = ref.get_object()
        if isinstance(item, generic.DictionaryObject) and "/T" in item:
            result[str(item["/T"])] = (ref, item)
    return result


def _widgets(field_ref, field_obj) -> list:
    """(reference, widget) of a field: itself when merged, else its kids."""
    if "/Rect" in field_obj:
        return [(field_ref, field_obj)]
    return [(kid, kid.get_object()) for kid in field_obj.get("/Kids", ())
            if isinstance(kid, generic.IndirectObject)]


def _text_appearance(writer, text: str, width: float, height: float):
    from pyhanko.pdf_utils.layout import (
        AxisAlignment,
        BoxConstraints,
        InnerScaling,
        SimpleBoxLayoutRule,
    )
    from pyhanko.pdf_utils.text import TextBox

    font = _WinAnsiFactory() if _cp1252_ok([text]) else _ttf_factory()
    style = TextBoxStyle(
        font=font, font_size=max(4.0, min(10.0, height * 0.65)), border_width=0,
        box_layout_rule=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MID,
            margins=_margins(2, 2, 1, 1), inner_content_scaling=InnerScaling.SHRINK_TO_FIT))
    box = TextBox(style, writer, box=BoxConstraints(width=width, height=height))
    box.content = " ".join(text.split()) if text else ""
    return writer.add_object(box.as_form_xobject())


def fill_form_fields(writer, values: dict | None):
    """Write ``values`` (field name -> text, or True/False for a check box) into the form of
    ``writer`` (an incremental writer about to receive a signature): /V, a new normal
    appearance (/AS for check boxes), and the read-only flag. Everything is checked before
    anything changes: an unknown name, a signature field, a value of the wrong type or a text
    longer than :data:`MAX_FIELD_TEXT` raises ``ValueError``."""
    if not values:
        return
    fields = _form_fields(writer)
    plan = []
    for name, value in values.items():
        if name not in fields:
            raise ValueError(f"unknown form field {name!r}")
        ref, obj = fields[name]
        kind = obj.get("/FT")
        if kind == "/Tx":
            if not isinstance(value, str):
                raise ValueError(f"form field {name!r} takes a text")
            if len(value) > MAX_FIELD_TEXT:
                raise ValueError(f"text of form field {name!r} longer than {MAX_FIELD_TEXT}")
        elif kind == "/Btn":
            if not isinstance(value, bool):
                raise ValueError(f"check box {name!r} takes True or False")
        else:
            raise ValueError(f"form field {name!r} is not a text field or a check box")
        plan.append((ref, obj, kind, value))
    name_obj = generic.NameObject
    for ref, obj, kind, value in plan:
        widgets = _widgets(ref, obj)
        if kind == "/Tx":
            obj[name_obj("/V")] = generic.TextStringObject(value)
            for widget_ref, widget in widgets:
                x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
                widget[name_obj("/AP")] = generic.DictionaryObject({
                    name_obj("/N"): _text_appearance(writer, value, abs(x2 - x1),
                                                     abs(y2 - y1))})
                writer.mark_update(widget_ref)
        else:
            state = name_obj("/Off")
            for _widget_ref, widget in widgets:
                try:
                    on = [k for k in widget["/AP"]["/N"] if k != "/Off"]
                except (KeyError, TypeError):
                    on = []
                if value and on:
                    state = name_obj(on[0])
            obj[name_obj("/V")] = state
            for widget_ref, widget in widgets:
                widget[name_obj("/AS")] = state
                writer.mark_update(widget_ref)
        obj[name_obj("/Ff")] = generic.NumberObject(int(obj.get("/Ff", 0)) | 1)
        writer.mark_update(ref)


# --- event loop ------------------------------------------------------------------------------

#: Loop threads a child process inherited through ``os.fork()``. They belong to the parent (its
#: thread, event loop, HTTP session and pooled sockets do not run here): the child neither uses
#: nor closes them, and keeps them referenced so that their finalizers never run in the child
#: (they would report the parent's session as unclosed or its pending tasks as destroyed).
_INHERITED: list = []

#: Set of the tasks spawned (directly or not) by the call running in the current context.
_SPAWNED: contextvars.ContextVar[set | None] = contextvars.ContextVar("o2s_pades_spawned",
                                                                     default=None)


class _CallTimeout(Exception):
    """A call passed its deadline; it was cancelled and awaited."""


class _LoopClosed(Exception):
    """The loop thread is closing: the call was not started (``started`` False) or it was
    cancelled by :meth:`_LoopThread.close` (``started`` True)."""

    def __init__(self, started: bool):
        super().__init__(started)
        self.started = started


def _owned_by_session(coro) -> bool:
    """aiohttp's own tasks (e.g. a DNS lookup shared by concurrent requests, shielded so that
    it outlives a cancelled requester) belong to the session, whose close() awaits them."""
    frame = getattr(coro, "cr_frame", None)
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module == "aiohttp" or module.startswith("aiohttp.")


def _task_factory(loop, coro, context=None):
    """Task factory of our loop: records each task in the set of the call that spawns it."""
    task = asyncio.Task(coro, loop=loop, context=context)
    spawned = _SPAWNED.get() if context is None else context.get(_SPAWNED)
    if spawned is not None and not _owned_by_session(coro):
        spawned.add(task)
    return task


async def _cancel_and_wait(tasks, timeout: float) -> set:
    """Cancel ``tasks`` and wait (bounded) until they are done; returns those still pending.
    Exceptions of the finished ones are retrieved (nobody else will)."""
    tasks = {task for task in tasks if not task.done()}
    for task in tasks:
        task.cancel()
    pending = set()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in tasks - pending:
        if not task.cancelled():
            task.exception()
    return pending


class _LoopThread:
    """A persistent asyncio loop in a daemon thread, with one shared aiohttp session.

    Each call runs as one task with its deadline enforced inside the loop (``asyncio.timeout``),
    so a call that times out has been cancelled *and awaited* when the caller gets the error;
    the tasks a call spawns (e.g. pyHanko's parallel OCSP fetches, which it leaves running
    when it is cancelled) are cancelled and awaited when it ends, so no task outlives its call
    (except aiohttp's own, which the session awaits when it closes). :meth:`close` refuses new
    calls, cancels and awaits whatever still runs, closes the session (which waits for its
    connections to close), shuts down async generators and the default executor, then stops
    and closes the loop.
    """

    #: extra seconds the caller waits beyond a call's deadline (the deadline fires inside the
    #: loop, which only notices it between two steps of CPU-bound work)
    GRACE = 10.0
    #: bound of each step of close()
    SHUTDOWN_TIMEOUT = 10.0

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.loop.set_task_factory(_task_factory)
        self.session = None
        self._state_lock = threading.Lock()
        self._closing = False
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="o2s-esign-pades-loop", daemon=True)
        self.thread.start()
        if not started.wait(10):
            raise SigningError("sign_failed", {"detail": "the signing event loop did not start"})

    @property
    def usable(self) -> bool:
        """True when this process owns the loop, its thread runs, and close() was not called."""
        return self.pid == os.getpid() and self.thread.is_alive() and not self._closing

    async def get_session(self):
        """The shared aiohttp session (created on first use, in the loop thread)."""
        if self.session is None or self.session.closed:
            import aiohttp

            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=32, ttl_dns_cache=300))
        return self.session

    async def _call(self, coro, timeout: float):
        spawned: set = set()
        _SPAWNED.set(spawned)  # this task runs in its own copy of the context
        try:
            async with asyncio.timeout(timeout) as deadline:
                return await coro
        except TimeoutError:
            if deadline.expired():
                raise _CallTimeout() from None
            raise
        finally:
            await _cancel_and_wait(spawned, self.SHUTDOWN_TIMEOUT)

    def run(self, coro, timeout: float):
        """Run ``coro`` in the loop and return its result; raises ``_CallTimeout`` after
        ``timeout`` seconds and ``_LoopClosed`` when the loop is (being) closed."""
        with self._state_lock:
            if self._closing:
                coro.close()
                raise _LoopClosed(started=False)
            future = asyncio.run_coroutine_threadsafe(self._call(coro, timeout), self.loop)
        try:
            return future.result(timeout + self.GRACE)
        except concurrent.futures.TimeoutError:
            # the loop thread was blocked past the deadline: have the loop cancel the task
            # (close() awaits it if it is still running then)
            future.cancel()
            raise _CallTimeout() from None
        except concurrent.futures.CancelledError:
            raise _LoopClosed(started=True) from None

    async def _shutdown(self):
        current = asyncio.current_task()
        for _ in range(3):  # closing a task or the session may start another one
            pending = await _cancel_and_wait(
                [task for task in asyncio.all_tasks() if task is not current],
                self.SHUTDOWN_TIMEOUT)
            if pending:
                _logger.warning("%d PAdES task(s) ignored cancellation: %s", len(pending),
                                pending)
            if self.session is not None and not self.session.closed:
                await self.session.close()
            if not [task for task in asyncio.all_tasks() if task is not current]:
                break
        self.session = None
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()

    def close(self):
        """Cancel and await every task, close the session, then stop and close the loop. In a
        forked child, the parent's loop is left alone."""
        with self._state_lock:
            if self._closing:
                return
            self._closing = True
        if self.pid != os.getpid():
            _INHERITED.append(self)  # the parent's: see _INHERITED
            return
        if self.thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(
                    4 * self.SHUTDOWN_TIMEOUT)
            except Exception:
                _logger.warning("the PAdES event loop did not shut down cleanly", exc_info=True)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(self.SHUTDOWN_TIMEOUT)
        if not self.thread.is_alive() and not self.loop.is_closed():
            self.loop.close()


# --- the signer ------------------------------------------------------------------------------

def _level(level: str, tsa: TsaConfig | None) -> str:
    if level not in LEVELS:
        raise SigningError("unknown_level", {"level": level})
    if level != "b_b" and tsa is None:
        raise SigningError("tsa_required", {"level": level})
    return level


def _find_tsa_error(exc: BaseException) -> TsaError | None:
    seen = set()
    stack = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, TsaError):
            return item
        stack.extend([item.__cause__, item.__context__])
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
    return None


def _signing_error(exc: BaseException) -> Exception:
    """Map whatever pyHanko raised while signing to our errors."""
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    if isinstance(exc, (PdfError, SigningError)):
        return exc
    tsa_error = _find_tsa_error(exc)
    if tsa_error is not None:
        return tsa_error
    chain = exc
    seen = set()
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        if isinstance(chain, (PathBuildingError, PathValidationError)) or \
                "could not be validated" in str(chain):
            return SigningError("chain_invalid", {"detail": str(chain)[:300]})
        chain = chain.__cause__ or chain.__context__
    if isinstance(exc, PyHankoPdfError):
        return PdfError("corrupt", {"reason": str(exc)[:300]})
    return SigningError("sign_failed", {"detail": f"{type(exc).__name__}: {exc}"[:300]})


def _timestamp_token_from_cms(cms_der: bytes) -> bytes | None:
    try:
        content = cms.ContentInfo.load(cms_der, strict=False)
        signer_info = content["content"]["signer_infos"][0]
        for attr in signer_info["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                return attr["values"][0].dump()
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return None


def archive_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the certificate of the last document timestamp of ``pdf`` expires (aware UTC), or
    None without a document timestamp: the B-LTA archive must be time-stamped again before."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        stamps = [s for s in signatures if s.sig_object_type == "/DocTimeStamp"]
        if not stamps:
            return None
        cert = stamps[-1].signer_cert
        return cert["tbs_certificate"]["validity"]["not_after"].native.astimezone(UTC)
    except (PyHankoPdfError, ValueError, KeyError, TypeError, AttributeError):
        return None


class PadesSigner:
    """Process-wide PAdES signer (see the module docstring). Thread safe; create one per
    process and reuse it. ``close()`` ends its event loop (optional, it is a daemon thread)."""

    def __init__(self, *, call_timeout: float = 120.0):
        self._lock = threading.RLock()
        self._loop: _LoopThread | None = None
        self._timestampers: dict[TsaConfig, tuple] = {}
        self.call_timeout = call_timeout

    # event loop / session / caches, re-created after fork
    def _loop_thread(self) -> _LoopThread:
        loop = self._loop
        if loop is not None and loop.usable:
            return loop
        with self._lock:
            loop = self._loop
            if loop is None or not loop.usable:
                if loop is not None:
                    # after fork the parent's loop is only kept referenced (see _INHERITED)
                    loop.close()
                self._loop = loop = _LoopThread()
                self._timestampers = {}
            return loop

    def _run(self, coro_factory, timeout: float | None = None):
        timeout = timeout or self.call_timeout
        while True:
            loop = self._loop_thread()
            try:
                return loop.run(coro_factory(loop), timeout)
            except _CallTimeout:
                raise SigningError("timeout", {"seconds": timeout}, transient=True) from None
            except _LoopClosed as exc:
                if exc.started:
                    raise SigningError("interrupted", transient=True) from None
                # closed before the call started: it runs on a fresh loop

    async def _timestamper(self, loop: _LoopThread, tsa: TsaConfig) -> _TimeStamper:
        """The cached timestamper of ``tsa`` (runs in the loop thread: no lock needed)."""
        session = await loop.get_session()
        cached = self._timestampers.get(tsa)
        if cached is None or cached[0] is not session:
            cached = self._timestampers[tsa] = (session, _TimeStamper(tsa, session))
        return cached[1]

    def close(self):
        """Cancel and await what still runs, close the shared HTTP session, and stop and close
        the event loop (optional: it is a daemon thread). A call in flight then raises
        ``SigningError("interrupted")`` (transient); a later call starts a new loop."""
        with self._lock:
            loop, self._loop = self._loop, None
            self._timestampers = {}
        if loop is not None:
            loop.close()

    # --- PDF signatures ------------------------------------------------------------------
    def sign(self, pdf: bytes, *, field_name: str, identity: pki.SigningIdentity, level: str,
             tsa: TsaConfig | None, appearance: Appearance | None, trust_roots: list,
             extra_crls=(), reason: str | None = None,
             location: str | None = None, lock: bool = False,
             field_values: dict | None = None) -> SignResult:
        """Add an incremental PAdES signature (``/ETSI.CAdES.detached``, SHA-256,
        signing-certificate-v2) in the field ``field_name`` (created invisible if absent; an
        already signed field raises ``SigningError("field_already_signed")``).

        ``level``: ``b_b``; ``b_t`` adds a signature timestamp from ``tsa``; ``b_lt`` also
        embeds certificates and revocation data (CRLs, OCSP responses; ``extra_crls`` e.g.
        :func:`pki.make_crl` of our own CA) in the DSS; ``b_lta`` adds a document timestamp.
        ``trust_roots`` (asn1crypto certificates) anchor the revocation data collection for
        b_lt/b_lta; roots the TSA itself ships in its tokens are added for the TSA's chain.
        ``lock``: the new field (it must not exist yet) locks the document: a FieldMDP lock of
        every field with the DocMDP permission "no changes" (PDF 2.0 lock dictionary), so that
        any later change but validation data and document timestamps (form filling,
        annotations, pages...) makes validators report that the signatures no longer cover the
        document.
        ``field_values``: form field name -> text (text fields) or True/False (check boxes),
        written by :func:`fill_form_fields` into the same incremental update, before the
        signature that therefore covers them (``ValueError`` for an unknown name, a signature
        field, a wrong type or a text longer than 200 characters).
        Raises ``TsaError`` (transient) when the TSA fails, ``SigningError`` otherwise, and
        returns nothing in either case.
        """
        level = _level(level, tsa)
        return self._run(lambda loop: self._async_sign(
            loop, pdf, field_name=field_name, identity=identity, level=level, tsa=tsa,
            appearance=appearance, trust_roots=trust_roots, extra_crls=extra_crls,
            reason=reason, location=location, lock=lock, field_values=field_values))

    def sign_many(self, items: list[dict]) -> list[SignResult]:
        """Several signatures at once: ``items`` holds, per PDF, the keyword arguments of
        :meth:`sign` (``pdf`` included). They run in one call on the loop, concurrently: their
        time-stamp (and revocation) requests overlap, so N documents wait about one round trip
        to the authority instead of N (the CPU work still runs one signature after the other).
        Returns the results in the order of ``items``. All or nothing: the first failure is
        raised as :meth:`sign` raises it, the other signatures are cancelled and awaited (no
        task outlives the call), and nothing is returned."""
        prepared = [dict(item, level=_level(item["level"], item.get("tsa"))) for item in items]

        async def run_all(loop):
            return list(await asyncio.gather(*(
                self._async_sign(loop, **arguments) for arguments in prepared)))

        if not prepared:
            return []
        return self._run(run_all)

    def seal(self, pdf: bytes, *, identity: pki.SigningIdentity, level: str,
             tsa: TsaConfig | None, trust_roots: list, extra_crls=()) -> SignResult:
        """The company's final seal: an invisible approval signature in a new field
        ``CompanySeal`` (``CompanySeal2``... if taken) that locks the document (see ``lock`` in
        :meth:`sign`), then with b_lta a document timestamp."""
        return self.sign(**self._seal_arguments(pdf, identity=identity, level=level, tsa=tsa,
                                                trust_roots=trust_roots, extra_crls=extra_crls))

    def seal_many(self, pdfs: list[bytes], *, identity: pki.SigningIdentity, level: str,
                  tsa: TsaConfig | None, trust_roots: list, extra_crls=()) -> list[SignResult]:
        """:meth:`seal` of each PDF, at once as :meth:`sign_many` (results in order; all or
        nothing)."""
        return self.sign_many([self._seal_arguments(
            pdf, identity=identity, level=level, tsa=tsa, trust_roots=trust_roots,
            extra_crls=extra_crls) for pdf in pdfs])

    @staticmethod
    def _seal_arguments(pdf: bytes, *, identity: pki.SigningIdentity, level: str,
                        tsa: TsaConfig | None, trust_roots: list, extra_crls=()) -> dict:
        """The :meth:`sign` arguments of the seal of ``pdf`` (its free seal field found)."""
        level = _level(level, tsa)

        def field_for(data):
            from pyhanko.pdf_utils.reader import PdfFileReader

            names = {name for name, _, _ in sig_fields.enumerate_sig_fields(
                PdfFileReader(io.BytesIO(data), strict=False))}
            name, n = SEAL_FIELD, 1
            while name in names:
                n += 1
                name = f"{SEAL_FIELD}{n}"
            return name

        try:
            field_name = field_for(pdf)
        except (PyHankoPdfError, ValueError, KeyError) as exc:
            raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
        return {"pdf": pdf, "field_name": field_name, "identity": identity, "level": level,
                "tsa": tsa, "appearance": None, "trust_roots": trust_roots,
                "extra_crls": extra_crls, "lock": True}

    async def _async_sign(self, loop, pdf, *, field_name, identity, level, tsa, appearance,
                          trust_roots, extra_crls=(), reason=None, location=None, lock=False,
                          external=False, field_values=None) -> SignResult | ExternalPrepared:
        timestamper = await self._timestamper(loop, tsa) if level != "b_b" else None
        dummy = await timestamper.async_dummy_response(MD) if timestamper else None
        signer = _external_signer(identity.cert, identity.chain) if external else \
            _KeySigner(identity)
        validation_context = None
        if level in ("b_lt", "b_lta") and not external:
            validation_context = await self._signing_context(loop, trust_roots, extra_crls,
                                                              dummy)
        key_usage = {"non_repudiation"}
        ku = identity.cert.key_usage_value
        if ku is not None and "non_repudiation" not in ku.native:
            key_usage = {"digital_signature"}
        meta = PdfSignatureMetadata(
            field_name=field_name, md_algorithm=MD,
            name=appearance.signer_name if appearance is not None else None,
            subfilter=sig_fields.SigSeedSubFilter.PADES,
            reason=reason, location=location,
            embed_validation_info=validation_context is not None,
            validation_context=validation_context,
            use_pades_lta=level == "b_lta",
            signer_key_usage=key_usage,
            docmdp_permissions=sig_fields.MDPPerm.NO_CHANGES if lock else
            sig_fields.MDPPerm.FILL_FORMS,
        )
        style, text_params = (None, None)
        if appearance is not None:
            style, text_params = _stamp_style(appearance)
        field_spec = None
        if lock:
            field_spec = sig_fields.SigFieldSpec(
                field_name, field_mdp_spec=sig_fields.FieldMDPSpec(sig_fields.FieldMDPAction.ALL),
                doc_mdp_update_value=sig_fields.MDPPerm.NO_CHANGES)
        if external:  # time-stamp, DSS and document time-stamp come when finishing
            meta = dataclasses.replace(meta, embed_validation_info=False,
                                       validation_context=None, use_pades_lta=False)
        pdf_signer = PdfSigner(meta, signer=signer,
                               timestamper=None if external else timestamper,
                               stamp_style=style, new_field_spec=field_spec)
        certs_len = sum(len(c.dump()) for c in (identity.cert, *identity.chain))
        estimate = certs_len + _signature_size(identity.key) + 1600
        if dummy is not None:
            estimate += len(dummy.dump()) + 256
        bytes_reserved = 2 * (estimate + estimate // 8)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except PyHankoPdfError as exc:
            raise PdfError("corrupt", {"reason": str(exc)[:200]}) from None
        if writer.security_handler is not None:
            raise PdfError("encrypted")
        try:
            existing = {name: value for name, value, _ in
                        sig_fields.enumerate_sig_fields(writer.prev, with_name=field_name)}
        except (PyHankoPdfError, KeyError, ValueError) as exc:
            raise PdfError("corrupt", {"reason": str(exc)[:200]}) from None
        if existing.get(field_name) is not None:
            raise SigningError("field_already_signed", {"field_name": field_name})
        fill_form_fields(writer, field_values)
        if external:
            try:
                return await self._prepare_pdf(pdf_signer, writer, bytes_reserved, text_params,
                                                pdf=pdf, level=level, field_name=field_name,
                                                identity=identity)
            except Exception as exc:
                mapped = _signing_error(exc)
                if mapped is exc:
                    raise
                raise mapped from exc
        try:
            try:
                data, system_time, sig_contents = await self._sign_pdf(
                    pdf_signer, writer, bytes_reserved, text_params)
            except PyHankoSigningError as exc:
                if "larger than expected" not in str(exc) or _find_tsa_error(exc):
                    raise
                # our estimate was too small (unexpectedly big TSA token): let pyHanko measure
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
                fill_form_fields(writer, field_values)
                data, system_time, sig_contents = await self._sign_pdf(
                    pdf_signer, writer, None, text_params)
        except Exception as exc:
            mapped = _signing_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        token = _timestamp_token_from_cms(sig_contents) if timestamper else None
        return SignResult(data=data, level=level, signing_time=system_time,
                          timestamp_token=token, signer_cert_der=identity.cert.dump())

    @staticmethod
    async def _digest_revision(pdf_signer: PdfSigner, writer, bytes_reserved, text_params):
        """The signing session's new revision (field, appearance, reserved /Contents: the
        size pyHanko estimates when ``bytes_reserved`` is None) and its digest, shared by
        :meth:`_sign_pdf` and :meth:`_prepare_pdf`: ``(session, tbs, prepared, output)``."""
        session = pdf_signer.init_signing_session(writer, existing_fields_only=False)
        validation_info = await session.perform_presign_validation(writer)
        if bytes_reserved is None:
            bytes_reserved = await session.estimate_signature_container_size(validation_info)
        tbs = session.prepare_tbs_document(validation_info=validation_info,
                                           bytes_reserved=bytes_reserved,
                                           appearance_text_params=text_params)
        prepared, output = tbs.digest_tbs_document(output=io.BytesIO())
        return session, tbs, prepared, output

    @staticmethod
    async def _sign_pdf(pdf_signer: PdfSigner, writer, bytes_reserved, text_params):
        """PdfSigner.async_sign_pdf, keeping the session's signing time and the CMS bytes."""
        session, tbs, prepared, output = await PadesSigner._digest_revision(
            pdf_signer, writer, bytes_reserved, text_params)
        post = await tbs.perform_signature(
            document_digest=prepared.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=session.system_time,
                adobe_revinfo_attr=None,
                cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
            ),
        )
        await post.post_signature_processing(output)
        sig_contents = post.sig_contents
        if isinstance(sig_contents, str):
            sig_contents = bytes.fromhex(sig_contents)
        return output.getvalue(), session.system_time.astimezone(UTC), bytes(sig_contents)

    @staticmethod
    async def _prepare_pdf(pdf_signer: PdfSigner, writer, bytes_reserved, text_params, *, pdf,
                           level, field_name, identity) -> ExternalPrepared:
        """The first half of :meth:`_sign_pdf` for a key held elsewhere: the incremental
        revision with its reserved /Contents, its digest and the signed attributes."""
        session, _tbs, prepared, output = await PadesSigner._digest_revision(
            pdf_signer, writer, bytes_reserved, text_params)
        signed_attrs = await pdf_signer.signer.signed_attrs(
            prepared.document_digest, MD,
            attr_settings=PdfCMSSignedAttributes(
                signing_time=session.system_time, adobe_revinfo_attr=None,
                cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec),
            use_pades=True)
        attrs_der = signed_attrs.dump()
        return ExternalPrepared(to_be_signed=attrs_der, state={
            "version": 1, "level": level, "field_name": field_name,
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            "prepared_pdf": output.getvalue(), "document_digest": prepared.document_digest,
            "reserved_start": prepared.reserved_region_start,
            "reserved_end": prepared.reserved_region_end,
            "signed_attrs": attrs_der,
            "signing_time": session.system_time.astimezone(UTC).isoformat(),
            "cert": identity.cert.dump(), "chain": [c.dump() for c in identity.chain],
        })

    def prepare_external(self, pdf: bytes, *, field_name: str, identity: pki.SigningIdentity,
                         level: str, tsa: TsaConfig | None, appearance: Appearance | None,
                         reason: str | None = None,
                         location: str | None = None,
                         field_values: dict | None = None) -> ExternalPrepared:
        """Step 1 of a signature whose key is held elsewhere (``identity.key`` is None, e.g.
        :func:`pki.issue_one_time_certificate`): the same field, appearance, form field
        values and signed attributes as :meth:`sign` (it runs the same code), stopped before
        the signature value. Step 2 is :meth:`finish_external`."""
        level = _level(level, tsa)
        return self._run(lambda loop: self._async_sign(
            loop, pdf, field_name=field_name, identity=identity, level=level, tsa=tsa,
            appearance=appearance, trust_roots=(), extra_crls=(), reason=reason,
            location=location, external=True, field_values=field_values))

    def finish_external(self, state: dict, signature: bytes, *, tsa: TsaConfig | None,
                        trust_roots: list, extra_crls=()) -> SignResult:
        """Step 2: embed ``signature`` (ECDSA over ``to_be_signed``, raw r||s or DER) in the
        CMS, add the signature time-stamp (b_t and up), the validation data (b_lt) and the
        document time-stamp (b_lta). A signature value that the certificate's key did not
        make raises ``SigningError("external_signature_invalid")`` before anything is built;
        the caller still validates the result before storing it."""
        from pyhanko.sign.signers.pdf_signer import PdfTBSDocument, PostSignInstructions, PreparedByteRangeDigest

        cert = asn1_x509.Certificate.load(state["cert"])
        chain = [asn1_x509.Certificate.load(der) for der in state["chain"]]
        public_key = pki.load_p256_public_key(cert.public_key.dump())
        attrs_der = state["signed_attrs"]
        if not pki.verify_ecdsa(public_key, attrs_der, signature):
            raise SigningError("external_signature_invalid")
        signature_der = pki.ecdsa_signature_der(signature)
        level = _level(state["level"], tsa)
        if level != state["level"]:
            raise SigningError("unknown_level", {"level": state["level"]})

        async def run(loop):
            timestamper = await self._timestamper(loop, tsa) if level != "b_b" else None
            signer = _external_signer(cert, chain, signature_value=signature_der)
            signed_attrs = cms.CMSAttributes.load(attrs_der)
            signature_cms = await signer.async_sign_prescribed_attributes(
                MD, signed_attrs=signed_attrs, timestamper=timestamper)
            prepared = PreparedByteRangeDigest(
                document_digest=state["document_digest"],
                reserved_region_start=state["reserved_start"],
                reserved_region_end=state["reserved_end"])
            output = io.BytesIO(state["prepared_pdf"])
            post_sign, validation_context = None, None
            if level in ("b_lt", "b_lta"):
                dummy = await timestamper.async_dummy_response(MD)
                validation_context = await self._signing_context(loop, trust_roots, extra_crls,
                                                                  dummy)
                post_sign = PostSignInstructions(
                    validation_info=await _presign_validation(
                        cert, chain, validation_context, timestamper, level,
                        state["prepared_pdf"]),
                    timestamper=timestamper if level == "b_lta" else None,
                    timestamp_md_algorithm=MD)
            await PdfTBSDocument.async_finish_signing(
                output, prepared, signature_cms, post_sign_instr=post_sign,
                validation_context=validation_context)
            return output.getvalue(), signature_cms.dump()

        try:
            data, sig_contents = self._run(run)
        except Exception as exc:
            mapped = _signing_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        token = _timestamp_token_from_cms(sig_contents) if level != "b_b" else None
        return SignResult(data=data, level=level,
                          signing_time=datetime.fromisoformat(state["signing_time"]),
                          timestamp_token=token, signer_cert_der=cert.dump())

    async def _signing_context(self, loop, trust_roots, extra_crls, dummy):
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

        roots = list(trust_roots or [])
        if dummy is not None:
            for cert in dummy["content"]["certificates"] or []:
                cert = cert.chosen
                if isinstance(cert, asn1_x509.Certificate) and cert.self_signed != "no":
                    roots.append(cert)
        session = await loop.get_session()
        return ValidationContext(
            trust_roots=roots, crls=list(extra_crls or []), allow_fetching=True,
            fetcher_backend=AIOHttpFetcherBackend(session, per_request_timeout=10),
            revocation_mode="soft-fail",
        )

    # --- detached CMS and timestamps ---------------------------------------------------
    def sign_detached(self, data: bytes, *, identity: pki.SigningIdentity,
                      tsa: TsaConfig | None) -> bytes:
        """Detached CAdES-BES CMS (DER) over ``data``: SHA-256, signing-certificate-v2,
        signing time, plus a signature timestamp when ``tsa`` is given."""

        async def run(loop):
            timestamper = await self._timestamper(loop, tsa) if tsa else None
            signer = _KeySigner(identity)
            result = await signer.async_sign_general_data(
                bytes(data), MD, detached=True, use_cades=True, timestamper=timestamper,
                signed_attr_settings=PdfCMSSignedAttributes(
                    signing_time=datetime.now(UTC).replace(microsecond=0)),
            )
            return result.dump()

        try:
            return self._run(run)
        except Exception as exc:
            mapped = _signing_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def timestamp(self, data: bytes, tsa: TsaConfig) -> bytes:
        """RFC 3161 ``TimeStampResp`` (DER, status granted, the ``.tsr`` format that
        ``openssl ts -reply`` reads) over SHA-256(``data``)."""
        if tsa is None:
            raise SigningError("tsa_required", {"level": "timestamp"})
        digest = hashlib.sha256(bytes(data)).digest()

        async def run(loop):
            timestamper = await self._timestamper(loop, tsa)
            response, _ = await timestamper.async_request_response(digest, MD)
            return response.dump()

        return self._run(run)

    def renew_archive_timestamp(self, pdf: bytes, *, tsa: TsaConfig, trust_roots: list,
                                extra_crls=()) -> SignResult:
        """B-LTA upkeep: validation data of the last document timestamp (its TSA's chain and
        revocation data, in the DSS), then a new document timestamp over the whole file, in one
        incremental update (PAdES "LTA updates", which the seal's lock allows). Raises
        ``TsaError`` when the TSA fails, ``SigningError`` otherwise."""
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

        async def run(loop):
            timestamper = await self._timestamper(loop, tsa)
            dummy = await timestamper.async_dummy_response(MD)
            context = await self._signing_context(loop, trust_roots, extra_crls, dummy)
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            output = io.BytesIO()
            await PdfTimeStamper(timestamper).async_update_archival_timestamp_chain(
                reader, context, in_place=False, output=output)
            return output.getvalue()

        try:
            data = self._run(run)
        except Exception as exc:
            mapped = _signing_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        return SignResult(data=data, level="b_lta", signing_time=datetime.now(UTC),
                          timestamp_token=None, signer_cert_der=b"")

    def test_tsa(self, tsa: TsaConfig) -> dict:
        """Ask ``tsa`` for a token over a test text and say who answered: ``{"authority": the
        subject of the certificate that signed the token, "time": its time (aware datetime),
        "valid_until": that certificate's expiry, "root": the subject of a self-signed
        certificate shipped with the token, or None}``. Raises ``TsaError`` like a signature
        would (unreachable, timeout, bad answer)."""
        from asn1crypto import tsp

        response = tsp.TimeStampResp.load(self.timestamp(b"o2s_esign: timestamp authority test", tsa))
        signed_data = response["time_stamp_token"]["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        certs = [c.chosen for c in signed_data["certificates"] or []
                 if isinstance(c.chosen, asn1_x509.Certificate)]
        sid = signed_data["signer_infos"][0]["sid"]
        signer = None
        for cert in certs:
            if sid.name == "issuer_and_serial_number":
                if cert.issuer == sid.chosen["issuer"] and cert.serial_number == sid.chosen["serial_number"].native:
                    signer = cert
            elif cert.key_identifier == sid.chosen.native:
                signer = cert
        authority = signer.subject.human_friendly if signer is not None else None
        if authority is None and tst_info["tsa"].native:
            authority = str(tst_info["tsa"].native)
        roots = [c for c in certs if c.self_signed != "no"]
        return {
            "authority": authority or "?",
            "time": tst_info["gen_time"].native,
            "valid_until": signer["tbs_certificate"]["validity"]["not_after"].native
            if signer is not None else None,
            "root": roots[0].subject.human_friendly if roots else None,
        }

    def tsa_certificates(self, tsa: TsaConfig) -> list:
        """Certificates the TSA ships in its tokens (asn1crypto), e.g. for evidence files."""

        async def run(loop):
            timestamper = await self._timestamper(loop, tsa)
            dummy = await timestamper.async_dummy_response(MD)
            return [c.chosen for c in dummy["content"]["certificates"] or []
                    if isinstance(c.chosen, asn1_x509.Certificate)]

        return self._run(run)
