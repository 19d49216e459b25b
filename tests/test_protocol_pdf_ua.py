"""The protocol PDF is accessible (PDF/UA-1): tagged, with language, title, metadata, alternative texts and a
logical reading order, checked with poppler's pdfinfo and by reading the structure tree with pikepdf."""

import io
import shutil
import subprocess
from datetime import date, datetime, timedelta
from urllib.parse import unquote

import pikepdf
import pytest
from pypdf import PdfReader

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import ActionStatus, Category, ResponsibleParty, Role, User, Walk, WalkStatus
from fieldwalk.photos.pipeline import process_photo
from tests.helpers import jpeg_bytes, protocol_pdf_by_job


@pytest.fixture
def small_walk(app, auth):
    """A completed walk: two findings with photos and items, the first with an after-photo."""
    auth.login()
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))
        party = db.session.scalar(db.select(ResponsibleParty))
        walk = Walk(
            title="Kvällsvandring Östra torget",
            area="Öster",
            starts_at=datetime(2026, 10, 1, 17),
            status=WalkStatus.COMPLETED,
            created_by=actor,
        )
        db.session.add(walk)
        for n, slug in enumerate(["belysning", "klotter"]):
            category = db.session.scalar(db.select(Category).filter_by(slug=slug))
            finding, _ = findings.create_finding(
                walk,
                actor,
                FindingInput(category=category, description=f"Beskrivning {n}", lat=56.88 + n / 1000, lon=14.80),
                photos=[process_photo(jpeg_bytes((400 + n, 300)))],
            )
            item = actions.create_action_item(
                [finding],
                actor,
                ActionItemInput(
                    title=f"Punkt {n}", responsible_party=party, due_date=date.today() + timedelta(days=30)
                ),
            )
            if n == 0:
                actions.transition(
                    item, ActionStatus.DONE, actor, text="Lampan bytt", photo=process_photo(jpeg_bytes((500, 300)))
                )
        db.session.commit()
        return walk.id


def _tree(pdf: pikepdf.Pdf):
    """The structure elements in document (reading) order, each as (type, element, parent)."""
    order = []

    def walk(node, parent):
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                order.append((str(kid.S), kid, node))
                walk(kid, kid)

    walk(pdf.Root.StructTreeRoot, None)
    return order


@pytest.fixture
def protocol(client, small_walk, tmp_path):
    """The walk's protocol PDF: the response and the file on disk."""
    response = client.get(f"/followup/protocol.pdf?walk={small_walk}")
    assert response.status_code == 200
    path = tmp_path / "protocol.pdf"
    path.write_bytes(response.data)
    return response, path


def test_protocol_pdf_response_headers_name_the_walk(protocol):
    response, _ = protocol
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="protokoll-kvallsvandring-ostra-torget-2026-10-01.pdf"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "protokoll-kvällsvandring-östra-torget-2026-10-01.pdf"


def test_protocol_of_a_quarter_is_named_for_it(client, small_walk):
    _page, response = protocol_pdf_by_job(client, "from=2026-10-01&to=2026-12-31")
    assert response.status_code == 200
    assert 'filename="protokoll-2026-K4.pdf"' in response.headers["Content-Disposition"]
    _page, other = protocol_pdf_by_job(client, "from=2026-10-01&to=2026-11-15")
    assert 'filename="protokoll-2026-10-01--2026-11-15.pdf"' in other.headers["Content-Disposition"]


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils (pdfinfo) not installed")
def test_pdfinfo_reports_a_tagged_pdf_with_title(protocol):
    _, path = protocol
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in info.splitlines() if ":" in line)}
    assert fields["Tagged"] == "yes"
    assert fields["Title"] == "Protokoll: Kvällsvandring Östra torget"
    assert fields["Author"]  # the person who made it
    assert fields["Subject"] == "Protokoll från uppföljning av trygghetsvandring"


def test_structure_tree_language_title_and_alt_texts(protocol):
    response, _ = protocol
    with pikepdf.open(io.BytesIO(response.data)) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert pdf.Root.MarkInfo.Marked is True
        assert str(pdf.Root.Lang) == "sv"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True  # the title, not the file name, in the bar
        with pdf.open_metadata() as xmp:
            assert xmp["dc:title"] == "Protokoll: Kvällsvandring Östra torget"
            assert xmp.get("pdfuaid:part") == "1"
        figures = [element for kind, element, _ in _tree(pdf) if kind == "/Figure"]
        alts = [str(f.get("/Alt", "")) for f in figures]
    assert all(alt.strip() for alt in alts), alts  # every figure has a text alternative
    assert "Karta över fynden, numrerade som i listan" in alts
    assert "Foto till fynd 1: Belysning" in alts and "Foto till fynd 2: Klotter" in alts
    assert any(alt.startswith("Foto efter åtgärd") for alt in alts)
    assert len(figures) == 4  # the map, two before-photos, one after-photo


def test_reading_order_puts_labels_before_their_figures(protocol):
    response, _ = protocol
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    assert "Fynd 2 Åtgärder 2 Åtgärdade (1 st) 50 % Försenade 0" in text
    assert text.startswith("Protokoll: Kvällsvandring Östra torget Vandringar Kvällsvandring Östra torget")
    assert text.index("Före") < text.index("Efter")
    with pikepdf.open(io.BytesIO(response.data)) as pdf:
        tree = _tree(pdf)
    # Each photo comes right after its own caption ("Före", "Efter") in the structure tree's order.
    kinds = [(kind, str(element.get("/Alt", ""))) for kind, element, _ in tree]
    photos = [i for i, (kind, alt) in enumerate(kinds) if kind == "/Figure" and alt.startswith("Foto")]
    the_map = next(i for i, (kind, alt) in enumerate(kinds) if alt.startswith("Karta"))
    assert len(photos) == 3
    for previous, index in zip([the_map, *photos], photos, strict=False):
        assert "/Caption" in [kind for kind, _ in kinds[previous + 1 : index]], kinds[previous:index]
