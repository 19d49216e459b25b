"""A large protocol's PDF laid out in parts (followup/layout.py) made one tagged PDF/UA file with pikepdf: each
part's structure made compact (in the process that laid it out), then the parts joined and their pages numbered.
Nothing of the app is imported: the layout processes import this module too."""

from collections.abc import Sequence
from pathlib import Path


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


def compact_part(path: str) -> None:
    """The part's file at path with fewer and smaller structure elements, the same tree for a reader: qpdf
    holds every element of the joined file in memory (about 1.4 kB each, 126,000 at a 553-page quarter, the
    join's peak), and a part's are made compact in the process that laid it out, at the same time as the others.
    WeasyPrint wraps each line of text in a Span of its own (K [mcid], nothing else): such a Span gives its MCID
    to its parent, on the same page, and the parent tree names the parent. An element with one kid has it without
    an array (but the Document element, whose kids the join appends to), and the optional /Type /StructElem is
    left out."""
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        document = _document_element(pdf.Root.StructTreeRoot)
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        for i in range(1, len(nums), 2):
            owners = nums[i]  # a page's MCIDs, in order (an annotation's entry is one element)
            if isinstance(owners, pikepdf.Array):
                _give_spans_mcids_to_parents(owners)
        for element in pdf.objects:
            if not isinstance(element, pikepdf.Dictionary) or element.get("/Type") != "/StructElem":
                continue
            del element["/Type"]
            kids = element.get("/K")
            if isinstance(kids, pikepdf.Array) and len(kids) == 1 and not _same(element, document):
                element.K = kids[0]
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def _give_spans_mcids_to_parents(owners) -> None:
    import pikepdf

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


def _same(value, element) -> bool:
    """value is the indirect object element (not an equal one)."""
    import pikepdf

    return isinstance(value, pikepdf.Object) and value.is_indirect and value.objgen == element.objgen


def _document_element(tree):
    import pikepdf

    return tree.K[0] if isinstance(tree.K, pikepdf.Array) else tree.K


_PAGINATION = b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"


def _number_pages(joined, numbers: list) -> None:
    """Each page of joined with its page of numbers (one page each, followup.layout.lay_out_page_numbers) drawn
    on top, marked as a pagination artifact: the number is seen, and a screen reader skips it as it skips the
    footer of a document laid out at once."""
    import pikepdf

    if len(numbers) != len(joined.pages):
        raise ValueError(f"{len(numbers)} page numbers for {len(joined.pages)} pages")
    for page, number in zip(joined.pages, numbers, strict=True):
        number.contents_add(_PAGINATION, prepend=True)
        number.contents_add(b"\nEMC")
        # WeasyPrint gives a part's pages one resource dictionary: each page gets its own, holding its number
        resources = pikepdf.Dictionary(page.obj.Resources)
        resources.XObject = pikepdf.Dictionary(resources.get("/XObject", {}))  # type: ignore[arg-type]
        page.obj.Resources = resources
        page.add_overlay(number, pikepdf.Rectangle(*page.mediabox))


def join_tagged_pdfs(parts: Sequence[Path], target: Path, page_numbers: Sequence[Path] = ()) -> None:
    """target: one PDF/UA file of several parts, each laid out by followup.layout.lay_out_part (made compact,
    compact_part) in order: the pages one after the other and one structure tree, each part's elements appended
    to the first part's Document element, its pages' /StructParents keys and the parent tree's entries moved
    past the earlier ones; then the pages are numbered from page_numbers when given (_number_pages). Language,
    title, metadata and viewer settings are the first part's (every part has the same). Each part's bookmarks
    follow the earlier ones. Each part embeds its own font subsets (whole fonts shared between parts were
    measured: a larger file, more time and memory, docs/benchmarks.md). The objects are written in object
    streams, as WeasyPrint writes a part's (the struct tree's elements uncompressed made the file 3.6 times as
    large), and straight to the file. A file is read by qpdf as it needs it (a stream's data when it is copied),
    not held whole."""
    import pikepdf

    joined = pikepdf.open(parts[0])
    tree = joined.Root.StructTreeRoot
    document = _document_element(tree)
    nums = tree.ParentTree.Nums
    next_key = max(int(nums[i]) for i in range(0, len(nums), 2)) + 1 if len(nums) else 0
    # qpdf keeps each file it copied from until the joined one is saved (saving and opening it again every
    # few parts was measured: more memory and ten times the time, docs/benchmarks.md).
    for data in parts[1:]:
        with pikepdf.open(data) as part:
            part_tree = part.Root.StructTreeRoot
            part_nums = part_tree.ParentTree.Nums
            part_document = _document_element(part_tree)
            # Every element whose parent is the Document is one of its kids (a part's pages have no number,
            # which WeasyPrint would parent there without listing it).
            kids = list(part_document.K) if isinstance(part_document.K, pikepdf.Array) else [part_document.K]
            children = [kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and "/P" in kid]
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
            for kid in _copy_foreign(joined, pikepdf.Array(kids)):
                document.K.append(kid)
            for child in children:
                joined.copy_foreign(child).P = document  # the copy made just now
            next_key = highest + 1
            _append_outline(joined, part)
            del part_tree, part_nums, part_document, kids, children  # the part's objects go with it
    _recount_outline(joined.Root.get("/Outlines"))
    numbers = [pikepdf.open(path) for path in page_numbers]  # open until the joined file (copied from them) is saved
    try:
        if numbers:
            _number_pages(joined, [page for pdf in numbers for page in pdf.pages])
        joined.save(target, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    finally:
        for pdf in numbers:
            pdf.close()
        joined.close()
