"""Changes made to a signed PDF after its signatures, as a forger or a careless tool would:
incremental updates written with pyHanko (the signed bytes stay intact)."""

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import ArrayObject, FloatObject, NameObject, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def add_annotation(data: bytes, text: str = "Added after signing", page: int = 0) -> bytes:
    """``data`` plus an incremental update that puts a text annotation (a sticky note) on a
    page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(page)
    page_obj = page_ref.get_object()
    annotation = writer.add_object(generic.DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): ArrayObject([FloatObject(40), FloatObject(40), FloatObject(60),
                                          FloatObject(60)]),
        NameObject("/Contents"): pdf_string(text),
    }))
    annotations = page_obj.get("/Annots")
    if annotations is None:
        page_obj[NameObject("/Annots")] = ArrayObject([annotation])
    else:
        annotations.get_object().append(annotation)
        if isinstance(page_obj.raw_get("/Annots"), generic.IndirectObject):
            writer.mark_update(page_obj.raw_get("/Annots"))
    writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
