"""HTML → PDF with WeasyPrint: no browser, and no network — only data: URIs are fetched.

The PDF is PDF/UA-1 (tagged, with a structure tree, language, title and alternative texts): a public body's
documents must be accessible (DOS-lagen, EN 301 549). WeasyPrint takes the title from <title>, the language
from <html lang>, author and subject from <meta name="author"/"description">, an image's /Alt from its alt
attribute and an inline SVG's from its <title>.
"""

import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from urllib.parse import quote

from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from fieldwalk.followup.queries import quarter_of

# Importing WeasyPrint makes Pillow accept truncated images process-wide; our upload pipeline must keep
# refusing them (a half-uploaded photo is an error, not a grey band). The PDF only embeds our own
# complete thumbnails, so it does not need the setting.
ImageFile.LOAD_TRUNCATED_IMAGES = False

PDF_VARIANT = "pdf/ua-1"


def render_pdf(html: str) -> bytes:
    """The tagged PDF/UA-1 of a self-contained page (stylesheet inline, images as data: URIs)."""
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(pdf_variant=PDF_VARIANT)


def _slug(text: str) -> str:
    """Lower case words joined by hyphens, letters such as å, ä, ö kept (the RFC 6266 filename* carries them)."""
    return re.sub(r"[\W_]+", "-", text.casefold()).strip("-")[:60].strip("-") or "protokoll"


def protocol_filename(
    *, walk_title: str | None = None, day: date | None = None, start: date | None = None, end: date | None = None
) -> str:
    """The file name that says what the protocol covers: protokoll-<walk>-<date>.pdf for a walk,
    protokoll-2026-K3.pdf for a calendar quarter, protokoll-<start>--<end>.pdf for any other period."""
    if walk_title is not None:
        return f"protokoll-{_slug(walk_title)}-{day.isoformat() if day else ''}".rstrip("-") + ".pdf"
    if start and end:
        if quarter_of(start) == (start, end):
            return f"protokoll-{start.year}-K{(start.month - 1) // 3 + 1}.pdf"
        return f"protokoll-{start.isoformat()}--{end.isoformat()}.pdf"
    return "protokoll.pdf"


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download: an ASCII filename for old clients and filename*=UTF-8'' (RFC 6266)
    with the real name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = fallback.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _copy_foreign(pdf, value):
    """value of another file copied into pdf: indirect objects through qpdf (one copy each), direct arrays
    and dictionaries item by item (qpdf copies only indirect ones)."""
    import pikepdf

    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return pdf.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copy_foreign(pdf, item) for item in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copy_foreign(pdf, item) for key, item in value.items()})
    return value


def _append_outline(joined, part) -> None:
    """part's bookmarks after joined's (its pages already copied, so their destinations are the copies):
    under the one top-level bookmark (the protocol's heading) when joined has one, else at the top level.
    The counts are made again at the end (_recount_outline)."""
    import pikepdf

    source = part.Root.get("/Outlines")
    if source is None or "/First" not in source:
        return
    if "/Outlines" not in joined.Root:
        joined.Root.Outlines = joined.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    parent = joined.Root.Outlines
    if "/First" in parent and parent.First.objgen == parent.Last.objgen:
        parent = parent.First
    first = joined.copy_foreign(source.First)
    item = first
    while True:
        item.Parent = parent
        last = item
        if "/Next" not in item:
            break
        item = item.Next
    if "/Last" in parent:
        parent.Last.Next = first
        first.Prev = parent.Last
    else:
        parent.First = first
    parent.Last = last


def _recount_outline(item) -> int:
    """Set /Count of item and its descendants (an open item counts its visible descendants, a closed one
    is negative); returns how many of item's descendants are visible."""
    if item is None or "/First" not in item:
        return 0
    visible = 0
    child = item.First
    while True:
        below = _recount_outline(child)
        visible += 1 + (below if int(child.get("/Count", 0)) > 0 else 0)
        if "/Next" not in child:
            break
        child = child.Next
    closed = "/Count" in item and int(item.Count) < 0 and "/Parent" in item
    item.Count = -visible if closed else visible
    return visible


_PLAIN = {"/Type", "/S", "/K", "/P", "/Pg"}  # a Span with these keys only marks its content


def _compact_structure(pdf, document) -> list:
    """Fewer and smaller structure elements in pdf, the same tree for a reader: qpdf holds every element of the
    joined file in memory (about 1.4 kB each, 126,000 at a 553-page quarter, the join's peak). WeasyPrint wraps
    each line of text in a Span of its own (K [mcid], nothing else): such a Span gives its MCID to its parent, on
    the same page, and the parent tree names the parent. An element with one kid has it without an array, and
    the optional /Type /StructElem is left out. Returns the elements whose parent is document: its kids and
    the ones WeasyPrint parents there without listing them (each page's number, a NonStruct)."""
    import pikepdf

    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    for i in range(1, len(nums), 2):
        owners = nums[i]  # a page's MCIDs, in order (an annotation's entry is one element)
        if not isinstance(owners, pikepdf.Array):
            continue
        for mcid in range(len(owners)):
            span = owners[mcid]
            if not isinstance(span, pikepdf.Dictionary) or span.get("/S") != "/Span" or set(span.keys()) - _PLAIN:
                continue
            if not isinstance(span.K, pikepdf.Array) or list(span.K) != [mcid]:
                continue
            parent, kids = span.P, span.P.get("/K")
            if not isinstance(kids, pikepdf.Array) or "/Pg" not in span or not _same(parent.get("/Pg"), span.Pg):
                continue
            place = next((n for n, kid in enumerate(kids) if _same(kid, span)), None)
            if place is not None:
                kids[place] = mcid
                owners[mcid] = parent
    children = []
    for element in pdf.objects:
        if not isinstance(element, pikepdf.Dictionary) or element.get("/Type") != "/StructElem":
            continue
        del element["/Type"]
        kids = element.get("/K")
        if isinstance(kids, pikepdf.Array) and len(kids) == 1 and not _same(element, document):
            element.K = kids[0]
        if _same(element.get("/P"), document):
            children.append(element)
    return children


def _same(value, element) -> bool:
    """value is the indirect object element (not an equal one)."""
    import pikepdf

    return isinstance(value, pikepdf.Object) and value.is_indirect and value.objgen == element.objgen


def _document_element(tree):
    import pikepdf

    return tree.K[0] if isinstance(tree.K, pikepdf.Array) else tree.K


def join_tagged_pdfs(parts: Sequence[bytes | Path], target: Path) -> None:
    """target: one PDF/UA file of several made by render_pdf in order (a large protocol is laid out in parts, so
    that WeasyPrint holds one part's boxes at a time): the pages one after the other and one structure tree,
    each part's elements appended to the first part's Document element, its pages' /StructParents keys and
    the parent tree's entries moved past the earlier ones. Language, title, metadata and viewer settings
    are the first part's (every part has the same). Each part's bookmarks follow the earlier ones. Each part
    embeds its own font subsets (whole fonts shared between parts were measured: a larger file, more time and
    memory, docs/benchmarks.md). Every part's structure is made compact first (_compact_structure: half the
    elements at a quarter, the join's memory 222 → 136 MiB). The objects are written in object streams, as
    WeasyPrint writes a part's (the struct tree's elements uncompressed made the file 3.6 times as large), and
    straight to the file."""
    import pikepdf

    def opened(part: bytes | Path) -> pikepdf.Pdf:
        # A file is read by qpdf as it needs it (a stream's data when it is copied), not held whole.
        return pikepdf.open(io.BytesIO(part) if isinstance(part, bytes) else part)

    if len(parts) == 1:
        target.write_bytes(parts[0] if isinstance(parts[0], bytes) else parts[0].read_bytes())
        return
    joined = opened(parts[0])
    tree = joined.Root.StructTreeRoot
    document = _document_element(tree)
    _compact_structure(joined, document)
    nums = tree.ParentTree.Nums
    next_key = max(int(nums[i]) for i in range(0, len(nums), 2)) + 1 if len(nums) else 0
    # qpdf keeps each file it copied from until the joined one is saved (saving and opening it again every
    # few parts was measured: more memory and ten times the time, docs/benchmarks.md).
    for data in parts[1:]:
        with opened(data) as part:
            part_tree = part.Root.StructTreeRoot
            part_nums = part_tree.ParentTree.Nums
            part_document = _document_element(part_tree)
            children = _compact_structure(part, part_document)
            for child in children:  # the copies stop at them (not the part's Document and tree)
                del child["/P"]
            first_page = len(joined.pages)
            # The pages and then the elements are copied from the same foreign file, so an element's /Pg
            # points to the copy of its page (qpdf keeps one copy per foreign object).
            joined.pages.extend(part.pages)
            for page in joined.pages[first_page:]:
                if "/StructParents" in page.obj:
                    page.obj.StructParents = int(page.obj.StructParents) + next_key
                for annot in page.obj.get("/Annots", []):
                    if "/StructParent" in annot:
                        annot.StructParent = int(annot.StructParent) + next_key
            highest = next_key - 1
            for i in range(0, len(part_nums), 2):
                key = int(part_nums[i]) + next_key
                nums.append(key)
                nums.append(_copy_foreign(joined, part_nums[i + 1]))
                highest = max(highest, key)
            kids = part_document.K if isinstance(part_document.K, pikepdf.Array) else pikepdf.Array([part_document.K])
            for kid in _copy_foreign(joined, kids):
                document.K.append(kid)
            for child in children:
                joined.copy_foreign(child).P = document
            next_key = highest + 1
            _append_outline(joined, part)
            del part_tree, part_nums, part_document, children, kids  # the part's objects go with it
    _recount_outline(joined.Root.get("/Outlines"))
    joined.save(target, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    joined.close()
