"""A period's protocol PDF is made by a background job (issue 12): asked for with a POST, followed on a progress
page that works without JavaScript, downloaded by the person who asked only, removed after
PROTOCOL_PDF_KEEP_HOURS, a failure shown with "Försök igen"; a large one is laid out in parts and joined into
one tagged PDF. The jobs run in-process after the response, as in the embedded default (test_jobs.py and
test_two_servers.py cover RQ)."""

import io
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup.protocol_files import plan_parts, protocol_store
from fieldwalk.models import (
    Category,
    FailedJob,
    ProtocolFile,
    ProtocolFileState,
    ResponsibleParty,
    Role,
    User,
    Walk,
    WalkStatus,
)
from tests.helpers import protocol_pdf_by_job

QUARTER = "from=2026-10-01&to=2026-12-31"
TITLES = ["Byt lampan vid torget", "Sanera klottret på muren", "Laga trappan till parken"]


@pytest.fixture
def quarter(app, auth):
    """A coordinator logged in, and a walk in 2026-Q4 with three findings, each with its action item."""
    user_id = auth.login()
    with app.app_context():
        actor = db.session.get(User, user_id)
        party = db.session.scalar(select(ResponsibleParty))
        walk = Walk(
            title="Kvällsvandring Östra torget",
            area="Öster",
            starts_at=datetime(2026, 10, 1, 17),
            status=WalkStatus.COMPLETED,
            created_by=actor,
        )
        db.session.add(walk)
        category = db.session.scalar(select(Category).filter_by(slug="belysning"))
        for n, title in enumerate(TITLES):
            finding, _ = findings.create_finding(
                walk, actor, FindingInput(category=category, description=f"Fynd nummer {n}", lat=56.88, lon=14.80)
            )
            actions.create_action_item(
                [finding], actor, ActionItemInput(title=title, responsible_party=party, due_date=date(2027, 1, 15))
            )
        db.session.commit()
        return {"user": user_id, "walk": walk.id}


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _row(app, file_id: int) -> ProtocolFile:
    with app.app_context():
        row = db.session.get(ProtocolFile, file_id)
        assert row is not None
        db.session.expunge(row)
        return row


def _id(url: str) -> int:
    return int(re.search(r"/protocol-files/(\d+)", url).group(1))


def test_the_period_pdf_link_asks_for_a_job_and_makes_no_pdf_in_the_request(client, quarter):
    page = client.get(f"/followup/protocol?{QUARTER}").get_data(as_text=True)
    assert f'action="/followup/protocol-files?{QUARTER.replace("&", "&amp;")}"' in page  # a POST button
    asked = client.get(f"/followup/protocol.pdf?{QUARTER}")
    assert asked.status_code == 200 and asked.mimetype == "text/html"  # an old link or bookmark: the button
    assert "Gör en PDF" in asked.get_data(as_text=True)


def test_the_pdf_is_made_by_a_job_and_downloaded_from_either_store(app, client, quarter, store_backend):
    page_url, response = protocol_pdf_by_job(client, QUARTER)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'filename="protokoll-2026-K4.pdf"' in response.headers["Content-Disposition"]
    text = _text(response.data)
    assert all(title in text for title in TITLES)
    page = client.get(page_url).get_data(as_text=True)
    pages = re.search(r"PDF:en är klar: (\d+) sid(a|or), (\d+),(\d) MB\.", page)  # "0,1 MB": a decimal comma
    assert pages and (pages.group(2) == "a") == (pages.group(1) == "1"), page
    assert "Uppdatera" not in page  # nothing left to wait for
    row = _row(app, _id(page_url))
    assert row.state == ProtocolFileState.DONE and row.items == 3 and row.findings == 3 and row.pages
    assert row.size == len(response.data)
    with app.app_context():  # in the protocol store's own namespace, not among the photos
        stream, size = protocol_store().open_file(row.file_key)
        assert stream.read() == response.data and size == len(response.data)
        stream.close()
        if store_backend == "s3":
            assert row.file_key.startswith(app.config["PROTOCOL_S3_PREFIX"] + "/")
        else:
            assert (Path(app.config["PROTOCOL_DIR"]) / row.file_key).is_file()
            assert not Path(app.config["PHOTO_DIR"]).exists() or not any(Path(app.config["PHOTO_DIR"]).rglob("*.pdf"))


def test_the_progress_page_works_without_javascript_and_asking_again_joins_the_job(app, client, quarter):
    made = client.post(f"/followup/protocol-files?{QUARTER}")  # not closed: the job has not run yet
    assert made.status_code == 303
    page_url = made.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert 'aria-live="polite"' in page and "I kö" in page
    assert f'href="{page_url}"' in page and "Uppdatera" in page  # reload by hand without scripts
    assert "/download" not in page
    again = client.post(f"/followup/protocol-files?{QUARTER}")
    assert again.headers["Location"] == page_url  # the same job, not a second one
    other = client.post("/followup/protocol-files?from=2026-10-01&to=2026-11-30")
    assert other.headers["Location"] != page_url
    assert client.get(page_url + "/download").status_code == 409  # not ready
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ProtocolFile.id))) == 2


def test_only_the_person_who_asked_gets_the_file(app, client, auth, quarter):
    page_url, response = protocol_pdf_by_job(client, QUARTER)
    assert response.status_code == 200
    auth.login(Role.COORDINATOR)  # another coordinator
    assert client.get(page_url).status_code == 404
    assert client.get(page_url + "/download").status_code == 404
    auth.login(Role.PARTICIPANT)
    assert client.get(page_url).status_code == 403
    assert client.get(page_url + "/download").status_code == 403
    assert client.post(f"/followup/protocol-files?{QUARTER}").status_code == 403


def test_bad_scopes_are_refused_with_a_message(client, quarter):
    assert client.post("/followup/protocol-files?from=2026-12-31&to=2026-10-01").status_code == 400
    assert client.post("/followup/protocol-files?from=nej").status_code == 400
    assert client.post("/followup/protocol-files?walk=999999").status_code == 404
    assert client.get("/followup/protocol-files/999999").status_code == 404


def test_an_expired_file_is_removed_and_says_so(app, client, runner, quarter):
    page_url, _response = protocol_pdf_by_job(client, QUARTER)
    file_id = _id(page_url)
    key = _row(app, file_id).file_key
    with app.app_context():
        hours = app.config["PROTOCOL_PDF_KEEP_HOURS"]
        db.session.execute(
            update(ProtocolFile)
            .where(ProtocolFile.id == file_id)
            .values(created_at=datetime.utcnow() - timedelta(hours=hours, minutes=1))
        )
        db.session.commit()
    # Expired, not yet purged: gone for the person too.
    assert client.get(page_url + "/download").status_code == 410
    assert "Gör en ny PDF" in client.get(page_url).get_data(as_text=True)
    result = runner.invoke(args=["purge-protocols"])
    assert result.exit_code == 0 and "1 protocol PDFs older than" in result.output
    assert client.get(page_url).status_code == 404
    assert not (Path(app.config["PROTOCOL_DIR"]) / key).exists()


def test_asking_for_a_new_one_removes_the_expired_ones(app, client, quarter):
    page_url, _response = protocol_pdf_by_job(client, QUARTER)
    key = _row(app, _id(page_url)).file_key
    app.config["PROTOCOL_PDF_KEEP_HOURS"] = 0
    try:
        client.post("/followup/protocol-files?from=2026-10-01&to=2026-11-30").close()
    finally:
        app.config["PROTOCOL_PDF_KEEP_HOURS"] = 24
    with app.app_context():  # the old row went (SQLite may give its id to the new one)
        rows = list(db.session.scalars(select(ProtocolFile)))
        assert [row.period_end for row in rows] == [date(2026, 11, 30)]
    assert not (Path(app.config["PROTOCOL_DIR"]) / key).exists()


def test_a_failed_job_is_shown_with_try_again(app, client, quarter, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the protocol folder should be: nothing can be written under it")
    app.config["PROTOCOL_DIR"] = str(blocked)
    made = client.post(f"/followup/protocol-files?{QUARTER}")
    made.close()  # the job runs, and fails on writing the file
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "PDF:en kunde inte göras" in page and "Försök igen" in page and "/download" not in page
    row = _row(app, _id(made.headers["Location"]))
    assert row.state == ProtocolFileState.FAILED and row.error
    download = client.get(made.headers["Location"].rstrip("/") + "/download")
    assert download.status_code == 409 and "PDF:en kunde inte göras" in download.get_data(as_text=True)
    with app.app_context():  # and the admin sees it among the failed jobs: tried once, the person retries
        failed = db.session.scalar(select(FailedJob).where(FailedJob.function.like("%make_protocol_file")))
        assert failed is not None and failed.attempts == 1
    app.config["PROTOCOL_DIR"] = str(tmp_path / "protocols")
    _page, response = protocol_pdf_by_job(client, QUARTER)  # "Försök igen" posts the same scope
    assert response.status_code == 200 and all(title in _text(response.data) for title in TITLES)


def test_a_large_walk_is_made_by_a_job_too_and_a_small_one_at_once(app, client, quarter):
    assert client.get(f"/followup/protocol.pdf?walk={quarter['walk']}").mimetype == "application/pdf"
    app.config["PROTOCOL_PDF_DIRECT_MAX_FINDINGS"] = 2
    try:
        asked = client.get(f"/followup/protocol.pdf?walk={quarter['walk']}")
        assert asked.mimetype == "text/html" and "Gör en PDF" in asked.get_data(as_text=True)
        _page, response = protocol_pdf_by_job(client, f"walk={quarter['walk']}")
        assert response.mimetype == "application/pdf" and all(title in _text(response.data) for title in TITLES)
    finally:
        app.config["PROTOCOL_PDF_DIRECT_MAX_FINDINGS"] = 200


def test_parts_are_planned_within_their_sizes():
    assert plan_parts(list(range(3)), list(range(3)), 5, 5) is None
    parts = plan_parts(list(range(5)), list(range(3)), 2, 2)
    assert [p.findings for p in parts] == [[0, 1], [2, 3], [4], [], []]
    assert [p.items for p in parts] == [None, None, None, [0, 1], [2]]
    assert [p.head for p in parts] == [True, False, False, False, False]
    assert [p.tail for p in parts] == [False, False, False, False, True]
    assert plan_parts([], list(range(3)), 2, 1)[0].findings == []


def _tree(pdf: pikepdf.Pdf):
    order = []

    def walk(node):
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                order.append(kid)
                walk(kid)

    walk(pdf.Root.StructTreeRoot)
    return order


def test_a_pdf_in_parts_is_one_tagged_document_in_reading_order(app, client, quarter, tmp_path):
    sizes = {name: app.config[name] for name in ("PROTOCOL_PDF_PART_ROWS", "PROTOCOL_PDF_PART_ITEMS")}
    app.config.update(PROTOCOL_PDF_PART_ROWS=1, PROTOCOL_PDF_PART_ITEMS=1)  # 3 + 3 parts
    try:
        page_url, response = protocol_pdf_by_job(client, QUARTER)
    finally:
        app.config.update(sizes)
    assert _row(app, _id(page_url)).parts == 6
    text = _text(response.data)
    positions = [text.index(title) for title in TITLES]
    assert positions == sorted(positions)  # the items in the protocol's order
    assert text.index("Fynd nummer 0") < text.index("Fynd nummer 2") < positions[0]
    assert "Fynd, fortsättning" in text and "Åtgärder, fortsättning" in text
    with pikepdf.open(io.BytesIO(response.data)) as pdf:
        assert str(pdf.Root.Lang) == "sv" and pdf.Root.MarkInfo.Marked
        assert "2026" in str(pdf.open_metadata().get("dc:title", "")) or "Protokoll" in str(pdf.docinfo.Title)
        pages = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}
        keys = [int(page.obj.StructParents) for page in pdf.pages]
        assert len(set(keys)) == len(keys) == len(pdf.pages) >= 6  # each part starts on a page of its own
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        assert sorted(int(nums[i]) for i in range(0, len(nums), 2)) == sorted(keys)
        elements = _tree(pdf)
        tags = [str(e.S) for e in elements]
        assert tags.count("/H1") == 1 and tags.index("/H1") < tags.index("/H2")
        assert tags.count("/H3") == 3  # one heading per item, all in the one tree
        for element in elements:  # every element's page is a page of the document, not a left-over copy
            if "/Pg" in element:
                assert element.Pg.objgen in pages
        # One tree: every element that owns marked content holds its MCID and leads up (/P) to the one Document
        # element, a part's page numbers too (WeasyPrint parents them there without listing them).
        [document] = [e for e in elements if e.S == "/Document"]
        assert [o.objgen for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and "/ParentTree" in o] == [
            pdf.Root.StructTreeRoot.objgen
        ]
        for i in range(0, len(nums), 2):
            for mcid, owner in enumerate(nums[i + 1] if int(nums[i]) in keys else []):  # a page's MCIDs
                assert mcid in (owner.K if isinstance(owner.K, pikepdf.Array) else [owner.K])
                while owner.objgen != document.objgen:
                    assert owner.get("/Type") != "/StructTreeRoot"  # not a part's tree, left over
                    owner = owner.P
        with pdf.open_outline() as outline:  # every part's bookmarks, in order, under the protocol's heading
            [top] = outline.root
            items = [child.title for section in top.children for child in section.children]
            assert items == [f"#{n} {title}" for n, title in enumerate(TITLES, 1)]
            assert [section.title for section in top.children][-3:] == ["Åtgärder"] + ["Åtgärder, fortsättning"] * 2
            pages_of = {page.obj.objgen for page in pdf.pages}
            assert all(section.destination[0].objgen in pages_of for section in top.children)
        # Page numbers go on from part to part, with the total, as in a PDF laid out at once ("2 / 3"); each is
        # a pagination artifact, which a screen reader skips (no element of the tree holds it).
        footer = [" ".join(page.extract_text().split()[-3:]) for page in PdfReader(io.BytesIO(response.data)).pages]
        assert footer == [f"{n} / {len(pages)}" for n in range(1, len(pages) + 1)]
        for page in pdf.pages:
            [number] = [obj for obj in page.Resources.XObject.values() if b"/Pagination" in obj.read_bytes()]
            assert number.read_bytes().startswith(b"/Artifact <</Type /Pagination")
            assert b"MCID" not in number.read_bytes() and number.read_bytes().rstrip().endswith(b"EMC")
    if shutil.which("pdfinfo"):
        path = tmp_path / "parts.pdf"
        path.write_bytes(response.data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"Tagged:\s+yes", info) and re.search(rf"Pages:\s+{len(pages)}", info)


def test_erasing_a_person_removes_every_protocol_pdf(app, client, auth, quarter):
    """A PDF may name the person (a timeline's actor, a comment): erasure takes every one, they are copies."""
    page_url, response = protocol_pdf_by_job(client, QUARTER)
    key = _row(app, _id(page_url)).file_key
    assert (Path(app.config["PROTOCOL_DIR"]) / key).is_file()
    person_id = quarter["user"]
    auth.login(Role.ADMIN)
    assert client.post(f"/admin/users/{person_id}/erase").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ProtocolFile.id))) == 0
    assert not (Path(app.config["PROTOCOL_DIR"]) / key).exists()


def test_a_pdf_job_is_not_retried_behind_the_persons_back(app):
    """Its failure is shown with "Försök igen": an RQ retry an hour later would make a second file the
    person did not ask for (found by a tester). Mail keeps its retries."""
    from fieldwalk.followup.protocol_files import make_protocol_file
    from fieldwalk.jobs import retry_intervals
    from fieldwalk.mail import send_mail

    intervals = app.config["JOB_RETRY_INTERVALS"]
    app.config["JOB_RETRY_INTERVALS"] = [60, 600]
    try:
        assert retry_intervals(app, make_protocol_file) == [] and retry_intervals(app, send_mail) == [60, 600]
    finally:
        app.config["JOB_RETRY_INTERVALS"] = intervals


def test_layout_processes_report_a_failure_and_end(tmp_path):
    """A part that cannot be laid out fails the job with the reason (not a hang); a process that died is
    told apart from a task that failed; on leaving, every process has ended and the tasks not begun are
    dropped."""
    from fieldwalk.followup.layout import Processes

    html = '<!doctype html><html lang="sv"><title>t</title><p>Hej</p></html>'
    with pytest.raises(RuntimeError, match="FileNotFoundError"):
        with Processes(2) as pool:
            assert pool.submit("lay_out", html, str(tmp_path / "ok.pdf")).result() == 1
            pool.submit("lay_out", html, str(tmp_path / "no-such-folder" / "part.pdf")).result()
    assert (tmp_path / "ok.pdf").read_bytes().startswith(b"%PDF")
    children = list(pool._children)
    assert children and all(child.poll() is not None for child in children)
    with Processes(1) as pool:
        first = pool.submit("lay_out", html, str(tmp_path / "a.pdf"))
        first.result()
        pool._children[0].kill()
        with pytest.raises(RuntimeError, match="layout process ended"):
            pool.submit("lay_out", html, str(tmp_path / "b.pdf")).result()
    assert not (tmp_path / "b.pdf").exists()
