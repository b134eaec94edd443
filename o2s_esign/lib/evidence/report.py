"""The report PDFs (reportlab): the evidence report (``evidence.pdf``) and the per-signer
attestation."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

from .. import chain
from .. import validation_report as lib_validation
from ..errors import EvidenceError
from .certificates import COMPANY_CA, _cert_file_name, _cert_summary, _pem_bytes
from .formats import display_date
from .inputs import (
    EvidenceBundle,
    EvidenceDocument,
    EvidenceRequest,
    EvidenceSigner,
    HashStep,
    _consents,
    _generated_at,
)
from .labels import _labels
from .seal import Sealer

_FONT_LOCK = threading.Lock()
_FONTS: dict | None = None


def _fonts() -> dict:
    """Register Bitstream Vera (shipped with reportlab: Latin accents, œ, €) once."""
    global _FONTS
    with _FONT_LOCK:
        if _FONTS is None:
            import reportlab
            from reportlab.lib.fonts import addMapping
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont
            base = Path(reportlab.__file__).parent / "fonts"
            faces = {"normal": ("O2SVera", "Vera.ttf"), "bold": ("O2SVera-Bold", "VeraBd.ttf"),
                     "italic": ("O2SVera-Italic", "VeraIt.ttf"),
                     "bolditalic": ("O2SVera-BoldItalic", "VeraBI.ttf")}
            for face_name, file_name in faces.values():
                pdfmetrics.registerFont(TTFont(face_name, str(base / file_name)))
            addMapping("O2SVera", 0, 0, "O2SVera")
            addMapping("O2SVera", 1, 0, "O2SVera-Bold")
            addMapping("O2SVera", 0, 1, "O2SVera-Italic")
            addMapping("O2SVera", 1, 1, "O2SVera-BoldItalic")
            _FONTS = {key: value[0] for key, value in faces.items()}
        return _FONTS


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value, limit: int = 2000) -> str:
    """Text made safe for reportlab Paragraph markup: control characters dropped, ``&``,
    ``<``, ``>`` escaped, newlines kept as line breaks, capped at ``limit`` characters."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return _xml_escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


class _Report:
    """Builds flowables for the report and the attestation (reportlab platypus)."""

    def __init__(self, labels: dict, title: str, reference: str, generated: str,
                 lang: str = ""):
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle
        fonts = _fonts()
        self.L = labels
        self.title = title
        self.reference = reference
        self.generated = generated
        self.lang = (lang or "").replace("_", "-") or None
        self.colors = colors
        self.story = []
        base = ParagraphStyle("o2s-base", fontName=fonts["normal"], fontSize=8.5, leading=10.5)
        self.styles = {
            "base": base,
            "small": ParagraphStyle("o2s-small", parent=base, fontSize=7.5, leading=9),
            "label": ParagraphStyle("o2s-label", parent=base, fontName=fonts["bold"],
                                    fontSize=8, leading=10),
            "h1": ParagraphStyle("o2s-h1", parent=base, fontName=fonts["bold"], fontSize=17,
                                 leading=21, spaceAfter=4),
            "sub": ParagraphStyle("o2s-sub", parent=base, fontSize=10.5, leading=13,
                                  spaceAfter=8),
            "h2": ParagraphStyle("o2s-h2", parent=base, fontName=fonts["bold"], fontSize=12,
                                 leading=15, spaceBefore=10, spaceAfter=4,
                                 textColor=colors.HexColor("#1f3a5f")),
            "h3": ParagraphStyle("o2s-h3", parent=base, fontName=fonts["bold"], fontSize=9.5,
                                 leading=12, spaceBefore=6, spaceAfter=2),
            "notice": ParagraphStyle("o2s-notice", parent=base, fontName=fonts["bold"],
                                     fontSize=9.5, leading=12, borderPadding=5,
                                     backColor=colors.HexColor("#fff3cd"), spaceBefore=4,
                                     spaceAfter=8),
            "mono": ParagraphStyle("o2s-mono", parent=base, fontName="Courier", fontSize=7.5,
                                   leading=9, wordWrap="CJK"),
            "wrap": ParagraphStyle("o2s-wrap", parent=base, fontSize=7.5, leading=9,
                                   wordWrap="CJK"),
        }

    # text helpers
    def p(self, text, style="base", limit=2000):
        from reportlab.platypus import Paragraph
        return Paragraph(esc(text, limit), self.styles[style])

    def add(self, text, style="base"):
        self.story.append(self.p(text, style))

    def heading(self, key_or_text, level="h2"):
        self.story.append(self.p(self.L.get(key_or_text, key_or_text), level))

    def kv_table(self, rows, label_width=150):
        """Two-column label/value table; values are strings or (text, style)."""
        from reportlab.platypus import Table, TableStyle
        data = []
        for label, value in rows:
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, tuple):
                cell = self.p(value[0], value[1])
            else:
                cell = self.p(value)
            data.append([self.p(self.L.get(label, label), "label"), cell])
        if not data:
            return
        table = Table(data, colWidths=[label_width, 510 - label_width], hAlign="LEFT")
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, self.colors.HexColor("#d0d7de")),
            ("BACKGROUND", (0, 0), (0, -1), self.colors.HexColor("#f4f6f8")),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]))
        self.story.append(table)

    def grid(self, header, rows, widths):
        from reportlab.platypus import Table, TableStyle
        data = [[self.p(h, "label") for h in header]] + rows
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#e8edf3")),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, self.colors.HexColor("#d0d7de")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)

    def build(self, author: str, keywords: str = "") -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate
        fonts = _fonts()
        footer = f"{self.title} \u00b7 {self.reference} \u00b7 {self.generated}"
        page_label = self.L.get("page", "Page")

        def on_page(canvas, doc):
            canvas.saveState()
            canvas.setFont(fonts["normal"], 7)
            canvas.setFillColor(self.colors.HexColor("#57606a"))
            canvas.drawString(15 * mm, 9 * mm, footer[:150])
            canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"{page_label} {doc.page}")
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
            bottomMargin=17 * mm, title=f"{self.title} \u2014 {self.reference}",
            author=author, creator="o2s_esign", producer="o2s_esign (reportlab)",
            invariant=1, lang=self.lang, keywords=keywords,
        )
        doc.build(self.story, onFirstPage=on_page, onLaterPages=on_page)
        return buffer.getvalue()


def _state_label(labels: dict, state: str) -> str:
    return labels.get(f"state_{state}", state or labels["none"])


def _signer_by_ref(bundle: EvidenceBundle) -> dict:
    return {signer.ref: signer for signer in bundle.signers if signer.ref is not None}


def _step_label(step: HashStep, bundle: EvidenceBundle, labels: dict,
                only_signer: EvidenceSigner | None = None) -> str:
    signers = _signer_by_ref(bundle)
    signer = signers.get(step.signer_ref) if step.signer_ref is not None else None
    if only_signer is not None and signer is not None and signer is not only_signer:
        who = labels["other_signature"]
    elif step.label:
        who = step.label
    elif signer is not None:
        who = signer.name
    else:
        who = labels["seal"]
    when = display_date(step.date)
    return f"{labels['step_sha256']} {who}" + (f" ({when})" if when else "")


def _request_rows(request: EvidenceRequest, labels: dict, generated: str, *, full=True):
    rows = [
        ("reference", request.reference),
        ("name", request.name),
        ("company", request.company),
    ]
    if full:
        rows.append(("advisor", request.advisor))
    rows += [
        ("state", _state_label(labels, request.state)),
        ("date_created", display_date(request.date_created)),
        ("date_sent", display_date(request.date_sent)),
        ("date_deadline", display_date(request.date_deadline)),
        ("date_done", display_date(request.date_done)),
        ("level_requested", (request.pades_level_requested or "").upper().replace("_", "-")),
        ("level_achieved", (request.pades_level_achieved or "").upper().replace("_", "-")),
        ("tsa", request.tsa_url or labels["tsa_none"]),
        ("generated_at", generated),
    ]
    return rows


def _id_document(signer: EvidenceSigner, labels: dict) -> str:
    parts = [p for p in (signer.id_doc_type, signer.id_doc_number) if p]
    text = " ".join(str(p) for p in parts)
    if signer.id_doc_expiry:
        text += f" ({labels['id_expiry']} {display_date(signer.id_doc_expiry)})"
    return text.strip()


def _signer_rows(signer: EvidenceSigner, labels: dict):
    return [
        ("name", signer.name),
        ("role", signer.role),
        ("capacity", signer.capacity),
        ("represented_party", signer.represented_party),
        ("email", signer.email),
        ("mobile", signer.mobile),
        ("presence", signer.presence),
        ("id_document", _id_document(signer, labels)),
        ("id_sha256", (signer.id_doc_sha256, "mono") if signer.id_doc_sha256 else ""),
        ("protection", signer.protection),
        ("protection_document", signer.protection_document),
        ("protection_sha256", (signer.protection_sha256, "mono") if signer.protection_sha256 else ""),
        ("authentication", signer.auth_method),
        ("otp_sent", ", ".join(display_date(d) for d in signer.otp_sent)),
        ("otp_verified", ", ".join(display_date(d) for d in signer.otp_verified)),
        ("ip_address", signer.ip_address),
        ("user_agent", (esc_limit(signer.user_agent, 400), "wrap") if signer.user_agent else ""),
        ("consent_sha256", (signer.consent_sha256, "mono") if signer.consent_sha256 else ""),
        ("signer_state", _state_label(labels, signer.state)),
        ("date_signed", display_date(signer.date_signed)),
        ("date_refused", display_date(signer.date_refused)),
        ("refusal_reason", signer.refusal_reason),
        ("certificate", f"certificates/{_cert_file_name(signer.certificate)}"
         if signer.certificate else ""),
    ]


def esc_limit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (escaping happens when it is rendered)."""
    text = str(text or "")
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _document_rows(doc: EvidenceDocument, index: int, bundle: EvidenceBundle, labels: dict,
                   hashes: dict, only_signer: EvidenceSigner | None = None):
    original_sha = hashes.get(("original", index)) or doc.original_sha256
    final_sha = hashes.get(("signed", index)) or doc.final_sha256
    rows = [("doc_type", doc.doc_type)]
    if doc.source is not None or doc.source_sha256:
        source_sha = hashes.get(("source", index)) or doc.source_sha256
        rows += [
            ("source_name", doc.source_name),
            ("source_sha256", (source_sha or labels["none"], "mono")),
            ("conversion", doc.conversion_note),
            ("pdf_sha256", (original_sha or labels["none"], "mono")),
        ]
    else:
        rows.append(("original_sha256", (original_sha or labels["none"], "mono")))
    rows += [
        ("prepared_sha256", (doc.prepared_sha256, "mono") if doc.prepared_sha256 else ""),
    ]
    for step in doc.steps:
        rows.append((_step_label(step, bundle, labels, only_signer), (step.sha256, "mono")))
    rows.append(("final_sha256", (final_sha, "mono") if final_sha else labels["not_signed"]))
    return rows


def _event_details(event: dict, limit: int = 260) -> str:
    payload = event.get("payload")
    if isinstance(payload, dict):
        parts = []
        for key in sorted(payload):
            value = payload[key]
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            parts.append(f"{key}: {value}")
        text = "; ".join(parts)
    elif payload in (None, ""):
        text = ""
    else:
        text = json.dumps(payload, ensure_ascii=False)
    return esc_limit(text, limit)


def render_evidence_pdf(bundle: EvidenceBundle, *, hashes: dict | None = None,
                        files: dict | None = None) -> bytes:
    """The unsealed evidence report (PDF bytes). ``hashes`` maps ("original"|"signed", index)
    to computed SHA-256s; ``files`` maps those keys to ZIP paths."""
    labels = _labels(bundle)
    hashes = hashes or {}
    files = files or {}
    request = bundle.request
    generated = display_date(_generated_at(bundle))
    report = _Report(labels, labels["title"], request.reference, generated,
                     request.lang or bundle.lang)
    signers = _signer_by_ref(bundle)

    report.add(labels["title"], "h1")
    report.add(f"{request.name} \u2014 {request.reference}" if request.name
               else request.reference, "sub")
    notice = labels.get(f"notice_{request.state}")
    if notice and request.state != "signed":
        report.add(notice, "notice")
    if not request.tsa_url:
        report.add(labels["notice_no_tsa"], "notice")

    report.heading("request")
    report.kv_table(_request_rows(request, labels, generated))

    report.heading("documents")
    for index, doc in enumerate(bundle.documents, start=1):
        report.add(f"{index}. {doc.name}", "h3")
        rows = _document_rows(doc, index, bundle, labels, hashes)
        paths = [files.get(("source", index)), files.get(("original", index)),
                 files.get(("signed", index))]
        rows.append(("files", ", ".join(p for p in paths if p)))
        report.kv_table(rows)
        _fields_table(report, doc, signers, labels)

    report.heading("signers")
    for index, signer in enumerate(bundle.signers, start=1):
        report.add(f"{index}. {signer.name}", "h3")
        report.kv_table(_signer_rows(signer, labels))
        _signature_image(report, signer, labels)

    report.heading("timeline")
    rows = []
    for event in bundle.events:
        signer = signers.get(event.get("signer"))
        who = signer.name if signer else ("" if event.get("signer") is None
                                          else str(event.get("signer")))
        details = _event_details(event)
        digest = str(event.get("hash") or "")[:16]
        rows.append([
            report.p(event.get("sequence"), "small"),
            report.p(display_date(event.get("date")), "small"),
            report.p(labels.get(f"event_{event.get('event_type')}", event.get("event_type")),
                     "small"),
            report.p(who, "small", 120),
            report.p(event.get("ip_address") or "", "wrap", 60),
            report.p(details + (f" [{digest}\u2026]" if digest else ""), "wrap", 400),
        ])
    report.grid([labels["col_seq"], labels["col_date"], labels["col_event"],
                 labels["col_signer"], labels["col_ip"], labels["col_details"]],
                rows, [24, 78, 78, 84, 66, 180])

    _chain_section(report, bundle, labels)
    _validation_section(report, bundle, labels, files)

    report.heading("consent_texts")
    consents = _consents(bundle)
    if consents:
        report.kv_table([(c.label or f"#{i}", (c.sha256, "mono"))
                         for i, c in enumerate(consents, start=1)])
    else:
        report.add(labels["consent_none"])

    report.heading("certificates")
    cert_rows = []
    for name, value in sorted(bundle.certificates.items()):
        for subject, fp in _cert_summary(_pem_bytes(value)):
            cert_rows.append((f"certificates/{_cert_file_name(name)}",
                              (f"{subject}\n{labels['fingerprint']}: {fp}", "wrap")))
    report.kv_table(cert_rows, label_width=170)

    report.heading("eidas")
    report.add(labels["eidas_text"])

    report.heading("verification")
    report.add(labels["verification_text"])
    ca_fingerprints = [fp for name, value in sorted(bundle.certificates.items())
                       if _cert_file_name(name) == COMPANY_CA
                       for _subject, fp in _cert_summary(_pem_bytes(value))]
    report.kv_table([("company_ca_fingerprint", ("\n".join(ca_fingerprints), "mono"))
                     if ca_fingerprints else ("company_ca_fingerprint", labels["none"])],
                    label_width=170)
    return report.build(author=request.company or "o2s_esign",
                        keywords=report_keywords(bundle))


#: the drawn signature is shown at most this big (points) in the reports
_IMAGE_BOX = (170.0, 60.0)
_IMAGE_MAX_PIXELS = 16_000_000


def _signature_image(report, signer: EvidenceSigner, labels: dict):
    """The signature the signer drew or typed (``signer.signature_image``), aspect kept."""
    if not signer.signature_image:
        return
    from PIL import Image as PilImage
    from reportlab.platypus import Image, Table, TableStyle

    try:
        with PilImage.open(io.BytesIO(bytes(signer.signature_image))) as probe:
            width, height = probe.size
            if not width or not height or width * height > _IMAGE_MAX_PIXELS:
                raise ValueError("size")
            probe.load()
        scale = min(_IMAGE_BOX[0] / width, _IMAGE_BOX[1] / height)
        cell = Image(io.BytesIO(bytes(signer.signature_image)), width=width * scale,
                     height=height * scale, hAlign="LEFT")
    except (OSError, ValueError, PilImage.DecompressionBombError):
        cell = report.p(labels["signature_image_unreadable"])
    table = Table([[report.p(labels["signature_image"], "label"), cell]],
                  colWidths=[150, 360], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), report.colors.HexColor("#f4f6f8")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, report.colors.HexColor("#d0d7de")),
    ]))
    report.story.append(table)


def _field_value(value, labels: dict) -> str:
    if value is True:
        return labels["checkbox_checked"]
    if value is False:
        return labels["checkbox_unchecked"]
    return "" if value is None else str(value)


def _fields_table(report, doc: EvidenceDocument, signers: dict, labels: dict):
    """The fields placed on the document: page, rectangle, signer, type, value, time."""
    if not doc.fields:
        return
    rows = []
    for item in doc.fields:
        signer = signers.get(item.get("signer"))
        who = signer.name if signer is not None else str(item.get("signer") or "")
        rect = ", ".join(f"{float(v):.1f}" for v in item.get("rect") or ())
        kind = str(item.get("type") or "")
        rows.append([
            report.p(item.get("page"), "small"),
            report.p(rect, "small"),
            report.p(who, "small", 120),
            report.p(f"{labels.get('field_' + kind, kind)} ({item.get('name') or ''})",
                     "wrap", 120),
            report.p(_field_value(item.get("value"), labels), "wrap", 220),
            report.p(display_date(item.get("filled_at")), "small"),
        ])
    report.add(labels["fields"], "label")
    report.grid([labels["col_page"], labels["col_rect"], labels["col_signer"],
                 labels["col_type"], labels["col_value"], labels["col_filled_at"]],
                rows, [30, 110, 90, 90, 110, 80])


def report_keywords(bundle: EvidenceBundle) -> str:
    """The evidence report's metadata statement of its audit trail, which verify.py compares
    with the manifest (check ``evidence_report``): the chain head and the event count."""
    return f"o2s-esign-evidence chain_head={_chain_head(bundle)} event_count={len(bundle.events)}"


def _chain_head(bundle: EvidenceBundle) -> str:
    """The audit chain's head as the report states it (metadata and chain section alike)."""
    return bundle.events[-1].get("hash") if bundle.events else chain.GENESIS_HASH


def _validation_section(report, bundle, labels, files):
    """The validation report of each signed document, on a page of its own."""
    from reportlab.platypus import PageBreak

    report.story.append(PageBreak())
    report.heading("validation")
    report.add(labels["validation_intro"])
    if bundle.validated_at:
        report.kv_table([("validated_at", display_date(bundle.validated_at))])
    shown = False
    for index, doc in enumerate(bundle.documents, start=1):
        results = bundle.validation.get(index)
        if results is None:
            continue
        shown = True
        path = files.get(("validation", index))
        report.add(f"{index}. {doc.name}" + (f" ({path})" if path else ""), "h3")
        rows = []
        for result in results:
            who = result.signer_name or ""
            what = labels["doc_timestamp"] if result.kind == "doc_timestamp" else who
            verdict = result.indication + (f" / {result.sub_indication}"
                                           if result.sub_indication else "")
            if result.covers_document is False:
                verdict += f" ({labels['covers_no']})"
            when = display_date(result.signing_time) if result.signing_time else ""
            if result.timestamp_time:
                stamped = display_date(result.timestamp_time)
                when = f"{when} ({stamped})" if when else stamped
            rows.append([
                report.p(f"{result.field_name}\n{what}", "wrap", 160),
                report.p(verdict, "small", 200),
                report.p(when, "small"),
                report.p("EN 319 102-1 " + lib_validation.SECTIONS.get(result.process, ""),
                         "small"),
            ])
        report.grid([labels["col_signature"], labels["col_indication"], labels["col_time"],
                     labels["col_process"]], rows, [150, 170, 130, 60])
    if not shown:
        report.add(labels["validation_none"])


def render_attestation_pdf(bundle: EvidenceBundle, signer_index: int) -> bytes:
    """The unsealed attestation of one signer (0-based index into ``bundle.signers``): that
    signer's data and events, the documents and their hashes, and only the number of other
    signers (none of their personal data)."""
    if not isinstance(signer_index, int) or not 0 <= signer_index < len(bundle.signers):
        raise EvidenceError("bad_signer_index", {"index": signer_index})
    labels = _labels(bundle)
    signer = bundle.signers[signer_index]
    request = bundle.request
    generated = display_date(_generated_at(bundle))
    report = _Report(labels, labels["attestation_title"], request.reference, generated,
                     request.lang or bundle.lang)

    report.add(labels["attestation_title"], "h1")
    report.add(f"{request.name} \u2014 {request.reference}" if request.name
               else request.reference, "sub")
    report.add(labels["attestation_intro"])
    notice = labels.get(f"notice_{request.state}")
    if notice and request.state != "signed":
        report.add(notice, "notice")

    report.heading("request")
    report.kv_table(_request_rows(request, labels, generated, full=False))

    report.heading("signer")
    report.kv_table(_signer_rows(signer, labels))
    _signature_image(report, signer, labels)

    report.heading("documents")
    for index, doc in enumerate(bundle.documents, start=1):
        report.add(f"{index}. {doc.name}", "h3")
        report.kv_table(_document_rows(doc, index, bundle, labels, {}, only_signer=signer))

    others = [s for s in bundle.signers if s is not signer]
    report.heading("other_signers")
    report.add(labels["other_signers_text"].format(
        count=len(others), signed=sum(1 for s in others if s.state == "signed")))

    report.heading("signer_events")
    rows = []
    for event in bundle.events:
        if signer.ref is None or event.get("signer") != signer.ref:
            continue
        rows.append([
            report.p(event.get("sequence"), "small"),
            report.p(display_date(event.get("date")), "small"),
            report.p(labels.get(f"event_{event.get('event_type')}", event.get("event_type")),
                     "small"),
            report.p(event.get("ip_address") or "", "wrap", 60),
            report.p(str(event.get("hash") or ""), "mono"),
        ])
    report.grid([labels["col_seq"], labels["col_date"], labels["col_event"], labels["col_ip"],
                 "SHA-256"], rows, [24, 90, 100, 80, 216])

    _chain_section(report, bundle, labels)
    return report.build(author=request.company or "o2s_esign")


def build_signer_attestation(bundle: EvidenceBundle, signer_index: int, *,
                             sealer: Sealer) -> bytes:
    """Sealed per-signer attestation PDF (see :func:`render_attestation_pdf`)."""
    return sealer.seal_pdf(render_attestation_pdf(bundle, signer_index))


def _chain_section(report, bundle, labels):
    """The audit trail's hash chain: its head, its length and how it is built."""
    report.heading("chain")
    report.kv_table([
        ("chain_head", (_chain_head(bundle), "mono")),
        ("event_count", str(len(bundle.events))),
    ])
    report.add(labels["chain_rule"], "small")
