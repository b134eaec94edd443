# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Files advisors really have (issue 16), made in code: phone photos, scans, Office documents,
insurers' fillable forms with scripts, protected and damaged PDFs, and hostile ones."""
import io
import zipfile

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from .common import make_pdf

WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
PACKAGE_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="%s"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>' % REL_NS)


def phone_jpeg(width=1200, height=800, orientation=6):
    """A landscape-sensor photo a phone took upright: EXIF says "rotate 90°"."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 40, 40))
    for x in range(0, width, 40):  # some texture, so it is a real photo-sized JPEG
        image.paste((x % 255, 80, 160), (x, 0, x + 20, height))
    exif = image.getexif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def png_with_alpha(width=500, height=900):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def tiff_pages(count=3, size=(600, 800)):
    """A multi-page TIFF scan of ``count`` pages."""
    from PIL import Image, TiffImagePlugin  # noqa: F401  (Odoo registers few Pillow plugins)

    frames = [Image.new("L", size, 40 * (i % 6)) for i in range(count)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def heic_photo():
    import pillow_heif
    from PIL import Image

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (300, 200), (10, 200, 10))).save(out, quality=50)
    return out.getvalue()


def bomb_png(side=20000):
    """A tiny PNG declaring ``side`` x ``side`` pixels (400 MP): a decompression bomb."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


def docx(text="Lettre de mission", link_url=None):
    """A minimal Word document; with ``link_url``, it also shows an image linked from there
    (an external link LibreOffice must not fetch)."""
    rels = '<?xml version="1.0"?><Relationships xmlns="%s">' % REL_NS
    drawing = ""
    if link_url:
        rels += ('<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/'
                 'officeDocument/2006/relationships/image" Target="%s" TargetMode="External"/>'
                 % link_url)
        drawing = (
            '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr '
            'id="1" name="P"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/'
            'drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="P"/>'
            '<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:link="rId5"/></pic:blipFill>'
            '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>'
            '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic>'
            '</wp:inline></w:drawing></w:r></w:p>')
    rels += "</Relationships>"
    body = (
        '<?xml version="1.0"?><w:document xmlns:w="%s" xmlns:r="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships" xmlns:wp="http://schemas.openxmlformats.org/'
        'drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/'
        'drawingml/2006/main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/'
        'picture"><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p>%s</w:body></w:document>'
        % (WORD_NS, text, drawing))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", PACKAGE_RELS)
        zf.writestr("word/_rels/document.xml.rels", rels)
        zf.writestr("word/document.xml", body)
    return out.getvalue()


def zip_bomb_docx(size=300 * 1024 * 1024):
    """A DOCX whose one part inflates to ``size`` bytes of zeros (a few hundred KB zipped)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", PACKAGE_RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()


def form_with_scripts(amount="150000 EUR"):
    """An insurer's subscription form: a pre-filled text field and a ticked box, a Submit
    button posting the form, JavaScript at opening and in the name tree, and a Launch action
    when the page opens."""
    import pikepdf

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.drawString(72, 760, "Bulletin de souscription")
    c.acroForm.textfield(name="montant", value=amount, x=72, y=700, width=200, height=20)
    c.acroForm.checkbox(name="accepte", checked=True, x=72, y=660)
    c.showPage()
    c.save()
    pdf = pikepdf.open(io.BytesIO(buffer.getvalue()))
    script = pdf.make_indirect(pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('formatting')")))
    pdf.Root.OpenAction = script
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("format"), script])))
    submit = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Btn, Ff=65536,
        T=pikepdf.String("Envoyer"), Rect=[300, 700, 400, 720],
        A=pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.Dictionary(
            FS=pikepdf.Name.URL, F=pikepdf.String("http://127.0.0.1:9/submit")))))
    pdf.pages[0].obj.Annots.append(submit)
    pdf.Root.AcroForm.Fields.append(submit)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def encrypted(data, user=""):
    """``data`` encrypted with an owner password (and ``user`` as the user password)."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(
            owner="owner-secret", user=user, allow=pikepdf.Permissions(modify_other=False)))
    return out.getvalue()


def damaged_xref(data=None):
    """A PDF whose startxref points nowhere (qpdf rebuilds the cross-references)."""
    data = data or make_pdf("Document réparé")
    at = data.rfind(b"startxref")
    return data[:at] + b"startxref\n999999\n%%EOF\n"


def no_page_tree():
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def dangerous_keys(data):
    """The keys and action types of active content left anywhere in the PDF ``data``."""
    import pikepdf

    found = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary):
                continue
            for key in ("/JS", "/JavaScript", "/AA", "/XFA", "/EmbeddedFiles"):
                if key in obj:
                    found.add(key)
            kind = str(obj.get("/S", ""))
            if kind in ("/Launch", "/SubmitForm", "/JavaScript", "/ImportData"):
                found.add(kind)
    return found


# --- producers -------------------------------------------------------------------------------

def reportlab_rich():
    """reportlab: outlines, a link annotation, a sticky note and an attached file."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.bookmarkPage("p1")
    c.addOutlineEntry("Conditions générales", "p1", level=0)
    c.drawString(72, 760, "Conditions générales — page 1")
    c.linkURL("https://example.com/cg", (72, 740, 300, 755), relative=0)
    c.showPage()
    c.bookmarkPage("p2")
    c.addOutlineEntry("Annexe", "p2", level=0)
    c.drawString(72, 760, "Annexe — page 2")
    c.showPage()
    c.save()
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(buffer.getvalue()))
    pdf.attachments["notice.txt"] = pikepdf.AttachedFileSpec(pdf, b"notice", mime_type="text/plain")
    pdf.docinfo["/Title"] = "Conditions générales"
    pdf.docinfo["/Producer"] = "pikepdf metadata"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pillow_pdf():
    """An image saved as PDF by Pillow (a scanner's or ImageMagick's kind of PDF)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (850, 1100), (240, 240, 240)).save(out, "PDF", resolution=100.0)
    return out.getvalue()


def odt_with_macro(marker_path):
    """An OpenDocument text whose Basic macro, bound to the document's load event, writes
    ``marker_path``: converting it must not run it."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
        'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.'
        'oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="Basic/'
        'script-lc.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-'
        'path="Basic/Standard/script-lb.xml" manifest:media-type="text/xml"/><manifest:file-'
        'entry manifest:full-path="Basic/Standard/Module1.xml" manifest:media-type="text/xml"/>'
        '</manifest:manifest>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
        'names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:'
        'xmlns:text:1.0" xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2"><office:scripts>'
        '<office:event-listeners><script:event-listener script:language="ooo:script" '
        'script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main?'
        'language=Basic&amp;location=document"/></office:event-listeners></office:scripts>'
        '<office:body><office:text><text:p>Document with a macro</text:p></office:text>'
        '</office:body></office:document-content>')
    libraries = (
        '<?xml version="1.0" encoding="UTF-8"?><library:libraries xmlns:library="http://'
        'openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink"><library:'
        'library library:name="Standard" xlink:href="Basic/Standard/script-lb.xml/" '
        'xlink:type="simple" library:link="false"/></library:libraries>')
    library = (
        '<?xml version="1.0" encoding="UTF-8"?><library:library xmlns:library="http://'
        'openoffice.org/2000/library" library:name="Standard" library:readonly="false" '
        'library:passwordprotected="false"><library:element library:name="Module1"/>'
        '</library:library>')
    module = (
        '<?xml version="1.0" encoding="UTF-8"?><script:module xmlns:script="http://'
        'openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">'
        'Sub Main\n  Open "%s" For Output As #1\n  Print #1, "ran"\n  Close #1\nEnd Sub\n'
        '</script:module>' % marker_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
        zf.writestr("Basic/script-lc.xml", libraries)
        zf.writestr("Basic/Standard/script-lb.xml", library)
        zf.writestr("Basic/Standard/Module1.xml", module)
    return out.getvalue()
