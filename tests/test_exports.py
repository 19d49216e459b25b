"""Exports: CSV and XLSX open with the list's exact rows, GeoJSON validates, filters and access hold."""

import csv
import io
import json
import math
import re
from datetime import date, datetime, timedelta

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.config import DEV_BASE_URL
from fieldwalk.exports.formats import defuse
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import (
    ActionStatus,
    AuditEntry,
    Category,
    PositionSource,
    Priority,
    ResponsibleParty,
    Role,
    Severity,
    User,
    Walk,
    WalkStatus,
)
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.walks import operations as walks
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

ACTION_HEADER = [
    "Id",
    "Rubrik",
    "Beskrivning",
    "Status",
    "Prioritet",
    "Ansvarig part",
    "Klart senast",
    "Försenad",
    "Vandring",
    "Område",
    "Kategorier",
    "Antal fynd",
    "Skapad",
    "Åtgärdad",
    "Latitud",
    "Longitud",
    "Länk",
]
FINDING_HEADER = [
    "Id",
    "UUID",
    "Vandring",
    "Område",
    "Kategori",
    "Beskrivning",
    "Allvarlighet",
    "Plats",
    "Latitud",
    "Longitud",
    "Noggrannhet (m)",
    "Positionskälla",
    "Loggad",
    "Antal foton",
    "Åtgärder",
    "Ingen åtgärd",
    "Länk",
    "Rapporterad av",
    "Organisation",
]
GATA, POLIS = "Gatu- och parkavdelningen", "Polisen, kommunpolis"


def _party(name):
    return db.session.scalar(select(ResponsibleParty).filter_by(name=name))


def _category(slug):
    return db.session.scalar(select(Category).filter_by(slug=slug))


@pytest.fixture
def data(app, client, auth):
    """A coordinator logged in; two walks with findings (some without a position) and four action items.

    n1 Byt lampor        walk A, Gatan, assigned, overdue, lighting finding with a GPS position
    n2 =2+3 sanera       walk A, no party (new), graffiti finding without a position
    n3 Ny skylt          walk B, Polisen, assigned, signage finding positioned on the map
    n4 Klipp häcken      walk A, Gatan, done, vegetation finding with a position west of Greenwich
    """
    coordinator_id = auth.login(Role.COORDINATOR)
    with app.app_context():
        coordinator = db.session.get(User, coordinator_id)
        walk_a = walks.create_walk(
            coordinator,
            title="Vandring i centrum",
            area="Centrum",
            starts_at=datetime(2026, 11, 23, 17),
            status=WalkStatus.ONGOING,
        )
        walk_b = walks.create_walk(
            coordinator,
            title="Vandring i norr",
            area="Norr",
            starts_at=datetime(2026, 12, 2, 17),
            status=WalkStatus.ONGOING,
        )
        f1, _ = findings.create_finding(
            walk_a,
            coordinator,
            FindingInput(
                category=_category("belysning"),
                description="Mörk gång vid skolan",
                severity=Severity.HIGH,
                lat=56.8790,
                lon=14.8059,
                accuracy_m=8.0,
                position_source=PositionSource.GPS,
                place="Skolgången",
                reporter_name="Anna Andersson",
                reporter_org="Boende",
            ),
            photos=[process_photo(jpeg_bytes((640, 480)))],
        )
        f2, _ = findings.create_finding(
            walk_a,
            coordinator,
            FindingInput(
                category=_category("klotter"),
                description='=HYPERLINK("http://evil.example")',
                place="@tunneln",
                reporter_name="Bo",
                reporter_org="Polisen",
            ),
        )
        f3, _ = findings.create_finding(
            walk_b,
            coordinator,
            FindingInput(
                category=_category("skyltning"),
                description="Skylten saknas\x0bhelt",
                lat=56.9,
                lon=14.9,
                position_source=PositionSource.MAP,
            ),
        )
        f4, _ = findings.create_finding(
            walk_a,
            coordinator,
            FindingInput(
                category=_category("vegetation"),
                description="-Häcken skymmer",
                lat=-33.86,
                lon=-151.2,
                position_source=PositionSource.MAP,
            ),
        )
        f5, _ = findings.create_finding(
            walk_a, coordinator, FindingInput(category=_category("bra-plats"), description="Fint")
        )
        # Logged times in UTC: f1 late on 30 Nov UTC is 1 Dec in Stockholm; f2 the same day in both.
        f1.created_at, f2.created_at = datetime(2026, 11, 30, 23, 30), datetime(2026, 11, 30, 12, 0)
        f3.created_at, f4.created_at = datetime(2026, 12, 2, 18, 0), datetime(2026, 11, 29, 18, 0)
        f5.created_at = datetime(2026, 12, 1, 23, 30)  # 2 Dec 00:30 in Stockholm
        f5.no_action = True
        n1 = actions.create_action_item(
            [f1],
            coordinator,
            ActionItemInput(
                title="Byt lampor", description="Två armaturer", responsible_party=_party(GATA), priority=Priority.HIGH
            ),
        )
        n1.due_date = date.today() - timedelta(days=3)  # overdue by now
        n2 = actions.create_action_item(
            [f2], coordinator, ActionItemInput(title="=2+3 sanera", due_date=date.today() + timedelta(days=10))
        )
        n3 = actions.create_action_item(
            [f3],
            coordinator,
            ActionItemInput(
                title="Ny skylt", responsible_party=_party(POLIS), due_date=date.today() + timedelta(days=30)
            ),
        )
        n4 = actions.create_action_item(
            [f4], coordinator, ActionItemInput(title="Klipp häcken", responsible_party=_party(GATA))
        )
        actions.transition(n4, ActionStatus.DONE, coordinator, text="Klippt")
        db.session.commit()
        ids = {
            "walk_a": walk_a.id,
            "walk_b": walk_b.id,
            "n1": n1.id,
            "n2": n2.id,
            "n3": n3.id,
            "n4": n4.id,
            "f1": f1.id,
            "f2": f2.id,
            "f3": f3.id,
            "f4": f4.id,
            "f5": f5.id,
            "f1_uuid": f1.uuid,
            "belysning": f1.category_id,
            "klotter": f2.category_id,
            "gata": n1.responsible_party_id,
            "n4_resolved": n4.resolved_at,
        }
    return ids


def list_ids(client, query: str) -> list[int]:
    """The action item ids the /actions/ page shows for the query, in its order."""
    page = client.get(f"/actions/?{query}").get_data(as_text=True)
    return [int(i) for i in re.findall(r'<h2><a href="/actions/(\d+)">', page)]


def get_csv(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))


def get_xlsx(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data)).active


def get_geojson(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/geo+json"
    collection = json.loads(response.data)
    assert_valid_geojson(collection)
    return collection


def assert_valid_geojson(collection: dict) -> None:
    """An RFC 7946 FeatureCollection of Points with [lon, lat] in range; no crs member."""
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    assert isinstance(collection["features"], list)
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        coordinates = geometry["coordinates"]
        assert len(coordinates) == 2
        assert all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in coordinates)
        lon, lat = coordinates
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        # The geometry is the row's own position, in RFC 7946 order (longitude first).
        assert [feature["properties"]["lon"], feature["properties"]["lat"]] == coordinates


FILTERS = [
    "",
    "status=assigned",
    "walk={walk_a}",
    "walk={walk_a}&status=done",
    "overdue=y",
    "category={klotter}",
    "party={gata}",
    "status=rejected",
    "walk=abc&status=zzz&party=-1",
]


@pytest.mark.parametrize("query", FILTERS)
def test_action_exports_hold_exactly_the_filtered_list(client, data, query):
    query = query.format(**data)
    shown = list_ids(client, query)
    rows = get_csv(client, f"/exports/actions.csv?{query}")
    assert rows[0] == ACTION_HEADER
    assert [int(r[0]) for r in rows[1:]] == shown
    sheet = get_xlsx(client, f"/exports/actions.xlsx?{query}")
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == ACTION_HEADER
    assert [r[0] for r in values[1:]] == shown
    collection = get_geojson(client, f"/exports/actions.geojson?{query}")
    without_position = {data["n2"]}  # its only finding has no position
    assert [f["id"] for f in collection["features"]] == [i for i in shown if i not in without_position]
    assert collection["fieldwalk"]["without_position"] == len(set(shown) & without_position)


def test_filters_select_what_they_say(client, data):
    assert list_ids(client, "status=assigned") == [data["n1"], data["n3"]]  # overdue first, then by due date
    assert list_ids(client, f"walk={data['walk_a']}") == [data["n1"], data["n2"], data["n4"]]
    assert list_ids(client, "overdue=y") == [data["n1"]]
    assert list_ids(client, "") == [data["n1"], data["n2"], data["n3"], data["n4"]]


def test_action_csv_row_values(client, data):
    rows = {int(r[0]): dict(zip(ACTION_HEADER, r, strict=True)) for r in get_csv(client, "/exports/actions.csv")[1:]}
    assert rows[data["n1"]] == {
        "Id": str(data["n1"]),
        "Rubrik": "Byt lampor",
        "Beskrivning": "Två armaturer",
        "Status": "Tilldelad",
        "Prioritet": "Hög",
        "Ansvarig part": GATA,
        "Klart senast": (date.today() - timedelta(days=3)).isoformat(),
        "Försenad": "Ja",
        "Vandring": "Vandring i centrum",
        "Område": "Centrum",
        "Kategorier": "Belysning",
        "Antal fynd": "1",
        "Skapad": rows[data["n1"]]["Skapad"],
        "Åtgärdad": "",
        "Latitud": "56,879",
        "Longitud": "14,8059",
        "Länk": f"{DEV_BASE_URL}/actions/{data['n1']}",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[data["n1"]]["Skapad"])
    assert rows[data["n2"]]["Rubrik"] == "'=2+3 sanera"  # formula injection defused
    assert rows[data["n2"]]["Status"] == "Ny" and rows[data["n2"]]["Ansvarig part"] == ""
    assert rows[data["n2"]]["Latitud"] == rows[data["n2"]]["Longitud"] == ""
    assert rows[data["n4"]]["Status"] == "Åtgärdad" and rows[data["n4"]]["Försenad"] == "Nej"
    assert rows[data["n4"]]["Longitud"] == "-151,2"  # a number, not text: no apostrophe
    # resolved_at is stored in UTC and exported in Stockholm time (+1 h in winter, +2 h in summer).
    resolved = datetime.strptime(rows[data["n4"]]["Åtgärdad"], "%Y-%m-%d %H:%M")
    assert timedelta(minutes=59) <= resolved - data["n4_resolved"] <= timedelta(hours=2)


def test_an_item_of_several_findings_lists_each_category_once_and_the_first_position(app, client, data):
    """The findings' categories in the findings' order, each once; the position of the first finding that has
    one (the first has none); the count of all of them: in the CSV, the XLSX and the GeoJSON."""
    with app.app_context():
        coordinator = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        walk = db.session.get(Walk, data["walk_a"])
        made = [
            findings.create_finding(walk, coordinator, FindingInput(category=_category(slug), **position))[0]
            for slug, position in (
                ("klotter", {}),
                ("vegetation", {"lat": 56.1, "lon": 14.1, "position_source": PositionSource.MAP}),
                ("klotter", {"lat": 57.2, "lon": 15.3, "position_source": PositionSource.MAP}),
            )
        ]
        item = actions.create_action_item(made, coordinator, ActionItemInput(title="Tre fynd"))
        db.session.commit()
        item_id = item.id
        names = f"{_category('klotter').name_sv}, {_category('vegetation').name_sv}"
    row = next(r for r in get_csv(client, "/exports/actions.csv")[1:] if r[0] == str(item_id))
    values = dict(zip(ACTION_HEADER, row, strict=True))
    assert (values["Kategorier"], values["Antal fynd"], values["Latitud"], values["Longitud"]) == (
        names,
        "3",
        "56,1",
        "14,1",
    )
    sheet = get_xlsx(client, "/exports/actions.xlsx")
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == item_id)
    picked = [cells[ACTION_HEADER.index(name)].value for name in ("Kategorier", "Antal fynd", "Latitud", "Longitud")]
    assert picked == [names, 3, 56.1, 14.1]
    feature = next(f for f in get_geojson(client, "/exports/actions.geojson")["features"] if f["id"] == item_id)
    assert feature["geometry"]["coordinates"] == [14.1, 56.1]
    assert feature["properties"]["categories"] == names and feature["properties"]["findings"] == 3


def test_action_xlsx_is_a_real_spreadsheet(client, data):
    sheet = get_xlsx(client, "/exports/actions.xlsx")
    assert sheet.title == "Åtgärder"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{sheet.max_row}"
    assert sheet.column_dimensions["B"].width == 36
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    due = rows[data["n1"]][ACTION_HEADER.index("Klart senast")]
    assert due.is_date and due.value.date() == date.today() - timedelta(days=3) and due.number_format == "yyyy-mm-dd"
    created = rows[data["n1"]][ACTION_HEADER.index("Skapad")]
    assert created.is_date and created.number_format == "yyyy-mm-dd hh:mm"
    assert rows[data["n1"]][ACTION_HEADER.index("Latitud")].value == 56.879
    title = rows[data["n2"]][ACTION_HEADER.index("Rubrik")]
    # A string cell, never evaluated: no formula-guard apostrophe in the text (the CSV keeps its guard).
    assert title.value == "=2+3 sanera" and title.data_type == "s"
    link = rows[data["n1"]][ACTION_HEADER.index("Länk")]
    assert link.hyperlink.target == f"{DEV_BASE_URL}/actions/{data['n1']}"


def test_action_export_headers(client, data):
    for fmt in ("csv", "xlsx", "geojson"):
        response = client.get(f"/exports/actions.{fmt}")
        assert re.fullmatch(
            rf'attachment; filename="fieldwalk-atgarder-\d{{4}}-\d\d-\d\d\.{fmt}"',
            response.headers["Content-Disposition"],
        )
        assert "no-store" in response.headers["Cache-Control"]


def test_party_member_exports_only_its_own_items(app, client, auth, data):
    auth.login(Role.RESPONSIBLE, party_name=GATA)
    own = [data["n1"], data["n4"]]
    # Without filters a party member's list (and so its download) holds the party's open items; n4 is done.
    assert list_ids(client, "") == [data["n1"]]
    assert [int(r[0]) for r in get_csv(client, "/exports/actions.csv")[1:]] == [data["n1"]]
    assert list_ids(client, "status=") == own
    assert [int(r[0]) for r in get_csv(client, "/exports/actions.csv?status=")[1:]] == own
    assert [
        r[0] for r in get_xlsx(client, "/exports/actions.xlsx?status=").iter_rows(min_row=2, values_only=True)
    ] == own
    assert [f["id"] for f in get_geojson(client, "/exports/actions.geojson?status=")["features"]] == own
    # Asking for another party's items gives nothing, not them.
    with app.app_context():
        police = _party(POLIS).id
    assert list_ids(client, f"party={police}") == []
    assert get_csv(client, f"/exports/actions.csv?party={police}")[1:] == []
    assert get_geojson(client, f"/exports/actions.geojson?party={police}")["features"] == []
    assert client.get("/exports/findings.csv").status_code == 403


def test_participant_cannot_export(client, auth, data):
    auth.login(Role.PARTICIPANT)
    assert client.get("/exports/actions.csv").status_code == 403
    assert client.get("/exports/findings.geojson").status_code == 403


def test_findings_csv_of_a_walk(client, data):
    rows = get_csv(client, f"/exports/findings.csv?walk={data['walk_a']}")
    assert rows[0] == FINDING_HEADER
    by_id = {int(r[0]): dict(zip(FINDING_HEADER, r, strict=True)) for r in rows[1:]}
    # Oldest first: f4 (29 Nov), f2 (30 Nov noon), f1 (30 Nov 23:30 UTC), f5; walk B's f3 is not there.
    assert [int(r[0]) for r in rows[1:]] == [data["f4"], data["f2"], data["f1"], data["f5"]]
    assert by_id[data["f1"]] == {
        "Id": str(data["f1"]),
        "UUID": data["f1_uuid"],
        "Vandring": "Vandring i centrum",
        "Område": "Centrum",
        "Kategori": "Belysning",
        "Beskrivning": "Mörk gång vid skolan",
        "Allvarlighet": "Hög",
        "Plats": "Skolgången",
        "Latitud": "56,879",
        "Longitud": "14,8059",
        "Noggrannhet (m)": "8",
        "Positionskälla": "GPS",
        "Loggad": "2026-12-01 00:30",
        "Antal foton": "1",
        "Åtgärder": str(data["n1"]),
        "Ingen åtgärd": "Nej",
        "Länk": f"{DEV_BASE_URL}/findings/{data['f1']}",
        "Rapporterad av": "Anna Andersson",
        "Organisation": "Boende",
    }
    assert by_id[data["f2"]]["Beskrivning"] == '\'=HYPERLINK("http://evil.example")'
    assert by_id[data["f2"]]["Plats"] == "'@tunneln"
    assert by_id[data["f4"]]["Beskrivning"] == "'-Häcken skymmer"
    assert by_id[data["f5"]]["Ingen åtgärd"] == "Ja" and by_id[data["f5"]]["Åtgärder"] == ""


def test_findings_date_range_is_in_stockholm_time(client, data):
    def ids(query):
        return [int(r[0]) for r in get_csv(client, f"/exports/findings.csv?{query}")[1:]]

    # f1 was logged 30 Nov 23:30 UTC, which is 1 Dec 00:30 in Stockholm.
    assert ids("from=2026-12-01&to=2026-12-01") == [data["f1"]]
    assert ids("to=2026-11-30") == [data["f4"], data["f2"]]
    assert ids("from=2026-12-02") == [data["f5"], data["f3"]]
    assert ids(f"from=2026-11-30&category={data['klotter']}") == [data["f2"]]
    assert ids(f"walk={data['walk_b']}&from=&to=") == [data["f3"]]


def test_findings_xlsx_and_geojson(client, data):
    sheet = get_xlsx(client, f"/exports/findings.xlsx?walk={data['walk_b']}")
    assert sheet.title == "Fynd"
    header, row = list(sheet.iter_rows(values_only=True))
    assert list(header) == FINDING_HEADER
    assert row[0] == data["f3"] and row[FINDING_HEADER.index("Beskrivning")] == "Skylten saknashelt"
    assert row[FINDING_HEADER.index("Loggad")] == datetime(2026, 12, 2, 19, 0)

    collection = get_geojson(client, "/exports/findings.geojson")
    positioned = [data["f4"], data["f1"], data["f3"]]  # oldest first; f2 and f5 have no position
    assert [f["id"] for f in collection["features"]] == positioned
    assert collection["fieldwalk"]["without_position"] == 2
    f4 = collection["features"][0]
    assert f4["geometry"]["coordinates"] == [-151.2, -33.86]  # [lon, lat]
    assert f4["properties"]["description"] == "-Häcken skymmer"  # GeoJSON is data, not a spreadsheet
    assert f4["properties"]["no_action"] is False
    f1 = collection["features"][1]["properties"]
    assert f1["created_at"] == "2026-12-01T00:30:00+01:00" and "reporter_name" not in f1  # not unless asked
    asked = get_geojson(client, "/exports/findings.geojson?reporters=1")["features"][1]["properties"]
    assert asked["reporter_name"] == "Anna Andersson"
    response = client.get("/exports/findings.geojson")
    assert re.fullmatch(
        r'attachment; filename="fieldwalk-fynd-\d{4}-\d\d-\d\d\.geojson"', response.headers["Content-Disposition"]
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ("walk=abc", "Det finns ingen vandring med id ”abc”."),
        ("walk=99999", "Det finns ingen vandring med id ”99999”."),
        ("category=-1", "Det finns ingen kategori med id ”-1”."),
        ("category=123456789012345678901234", "Det finns ingen kategori med id ”123456789012345678901234”."),
        ("walk=%EF%BC%91", "Det finns ingen vandring med id ”１”."),  # a full-width digit is no id
        ("from=2026-13-01", "Datumet ”2026-13-01” går inte att läsa. Skriv det som ÅÅÅÅ-MM-DD"),
        ("to=23/11/2026", "Datumet ”23/11/2026” går inte att läsa."),
        ("from=20261123", "Datumet ”20261123” går inte att läsa."),
        ("from=2026-12-02&to=2026-12-01", "Från-datumet (2026-12-02) är senare än till-datumet (2026-12-01)."),
    ],
)
def test_bad_findings_filter_is_400_with_a_message(client, data, query, message):
    for fmt in ("csv", "geojson"):
        response = client.get(f"/exports/findings.{fmt}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_unknown_format_is_404(client, data):
    for url in ("/exports/actions.pdf", "/exports/findings.txt", "/exports/actions.", "/exports/actions"):
        assert client.get(url).status_code == 404


def test_download_links_carry_the_filters(client, data):
    page = client.get(f"/actions/?walk={data['walk_a']}&status=assigned&overdue=y&page=1").get_data(as_text=True)
    for fmt, name in (("csv", "CSV"), ("xlsx", "Excel-fil"), ("geojson", "GeoJSON")):
        match = re.search(rf'href="(/exports/actions\.{fmt}\?[^"]*)" download\s+aria-label="([^"]*)"', page)
        assert match, fmt
        assert set(match.group(1).split("?")[1].replace("&amp;", "&").split("&")) == {
            f"walk={data['walk_a']}",
            "status=assigned",
            "overdue=y",
        }
        assert match.group(2).startswith(f"Ladda ner åtgärderna som {name}")  # the name holds the visible text
    # A stray query argument named like a url_for parameter does not break the page.
    assert client.get("/actions/?fmt=pdf&_external=1").status_code == 200
    walk_page = client.get(f"/walks/{data['walk_a']}").get_data(as_text=True)
    assert f'href="/exports/findings.csv?walk={data["walk_a"]}"' in walk_page
    assert "Ladda ner vandringens fynd som CSV" in walk_page


def test_guest_sees_no_finding_download_on_the_walk_page(client, data, guest):
    guest(data["walk_a"])
    page = client.get(f"/walks/{data['walk_a']}")
    assert page.status_code == 200 and "/exports/findings" not in page.get_data(as_text=True)


def test_exports_are_audited(app, client, data):
    client.get(f"/exports/findings.xlsx?walk={data['walk_a']}")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="export.findings"))
        assert entry is not None and f"walk={data['walk_a']}" in entry.detail and "rows=4" in entry.detail


@pytest.mark.parametrize(
    "text, expected",
    [
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Lampa = trasig", "Lampa = trasig"),
        ("", ""),
    ],
)
def test_defuse(text, expected):
    assert defuse(text) == expected


def test_csv_decimals_have_a_comma_and_no_float_noise():
    from fieldwalk.exports.formats import FLOAT, Column, to_csv

    body = to_csv([Column("lon", "Longitud", FLOAT)], [[14.804300000000001], [-151.2], [59.33261234567]])
    assert body.decode("utf-8-sig").split("\r\n")[1:4] == ["14,8043", "-151,2", "59,332612"]


def test_xlsx_cells_are_typed_and_text_is_never_a_formula():
    """Read the workbook back with openpyxl and look into the sheet XML: text that starts like a formula or
    an error code is a plain string cell (no apostrophe, no <f>), numbers numeric, dates dates."""
    import zipfile

    from fieldwalk.exports.formats import BOOL, DATE, DATETIME, FLOAT, INT, TEXT, URL, Column, to_xlsx

    columns = [
        Column("text", "=Rubrik", TEXT),
        Column("n", "Antal", INT),
        Column("x", "Longitud", FLOAT),
        Column("d", "Datum", DATE),
        Column("t", "Tid", DATETIME),
        Column("b", "Klar", BOOL),
        Column("u", "Länk", URL),
    ]
    hostile = ['=HYPERLINK("http://evil.example")', "+46 70", "-x", "@SUM(A1)", "#N/A", "=1+1\x0b"]
    rows = [
        [text, 3, 14.804300000000001, date(2026, 12, 2), datetime(2026, 12, 2, 19, 5), True, "https://example.se/a"]
        for text in hostile
    ]
    rows.append([None, None, float("nan"), None, None, None, None])
    body = to_xlsx(columns, rows, "Fynd")

    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.cell(1, 1).value == "=Rubrik" and sheet.cell(1, 1).data_type == "s"
    texts = [sheet.cell(r, 1) for r in range(2, 2 + len(hostile))]
    assert [c.value for c in texts] == hostile[:-1] + ["=1+1"]  # exactly as typed, control character dropped
    assert {c.data_type for c in texts} == {"s"}
    number, decimal, day, time = (sheet.cell(2, c) for c in (2, 3, 4, 5))
    assert number.value == 3 and number.data_type == "n"
    assert decimal.value == 14.8043 and decimal.data_type == "n"
    assert day.is_date and day.value == datetime(2026, 12, 2) and day.number_format == "yyyy-mm-dd"
    assert time.is_date and time.value == datetime(2026, 12, 2, 19, 5)
    assert sheet.cell(2, 6).value == "Ja" and sheet.cell(2, 7).hyperlink.target == "https://example.se/a"
    assert sheet.cell(2 + len(hostile), 3).value is None  # NaN has no Excel value
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and 't="e"' not in xml


def test_streamed_pieces_are_the_whole_file_once():
    """CSV and GeoJSON made in pieces of CHUNK_ROWS rows join to one well-formed file: one BOM and header,
    every row once, and for GeoJSON the exact bytes json.dumps writes for the collection (rows without a
    position counted, not listed), also across piece boundaries."""
    from fieldwalk.exports.formats import CHUNK_ROWS, FLOAT, INT, Column, csv_chunks, geojson_chunks

    columns = [Column("id", "Id", INT), Column("lat", "Latitud", FLOAT), Column("lon", "Longitud", FLOAT)]
    rows = [(n, None if n % 7 == 0 else 56.87 + n / 1e5, 14.8) for n in range(1, 2 * CHUNK_ROWS + 2)]
    pieces = list(csv_chunks(columns, iter(rows)))
    assert len(pieces) == 3
    body = b"".join(pieces)
    assert body.count(b"\xef\xbb\xbf") == 1 and body.count(b"\r\n") == len(rows) + 1
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert parsed[0] == ["Id", "Latitud", "Longitud"] and [int(r[0]) for r in parsed[1:]] == [r[0] for r in rows]
    for some in (rows, rows[: CHUNK_ROWS + 3], rows[6:7], []):
        body = b"".join(geojson_chunks(columns, iter(some), name="fieldwalk-fynd"))
        collection = json.loads(body)
        assert body == json.dumps(collection, ensure_ascii=False, allow_nan=False).encode()
        assert [f["id"] for f in collection["features"]] == [r[0] for r in some if r[1] is not None]
        assert collection["fieldwalk"] == {"without_position": sum(1 for r in some if r[1] is None)}


def test_exports_are_streamed_in_pieces(app, client, auth):
    """A download of more than CHUNK_ROWS rows is sent in pieces while it is read (not built whole), holds
    every row, and a body that is never read leaves the next request unharmed."""
    from fieldwalk.bulk_data import fill
    from fieldwalk.exports.formats import CHUNK_ROWS

    auth.login()
    with app.app_context():
        counts = fill(db.session, 3, CHUNK_ROWS // 2 + 20)
        db.session.commit()
    assert counts.findings > CHUNK_ROWS
    for url, rows in (("/exports/findings.csv", counts.findings), ("/exports/findings.geojson", None)):
        response = client.get(url, buffered=False)
        assert response.is_streamed
        pieces = [piece for piece in response.response if piece]
        response.close()
        assert len(pieces) >= 2
        if rows:
            assert b"".join(pieces).count(b"\r\n") == rows + 1
        else:
            assert len(json.loads(b"".join(pieces))["features"]) <= counts.findings
    client.get("/exports/actions.csv")  # never read on
    assert len(get_csv(client, "/exports/actions.csv")) == counts.items + 1
    sheet = get_xlsx(client, "/exports/actions.xlsx")
    assert sheet.max_row == counts.items + 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_exports_arrive_whole_from_a_real_server(app, auth, data, live_server, fmt):
    """Over HTTP the body is made after the view has returned (no request or app context any more): every
    export must still arrive whole, whatever compression the client asks for (found by a tester: the action
    CSV and XLSX broke off with 'Working outside of application context')."""
    _user_id, email = auth.make_user(Role.COORDINATOR)
    with requests.Session() as browser:
        page = browser.get(f"{live_server}/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        assert browser.post(f"{live_server}/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).ok
        for encoding in ("identity", "gzip"):
            for url in (f"/exports/actions.{fmt}", f"/exports/findings.{fmt}"):
                response = browser.get(f"{live_server}{url}", headers={"Accept-Encoding": encoding})
                assert response.status_code == 200, url
                if fmt == "csv":
                    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
                    assert len(rows) >= 2, url
                elif fmt == "xlsx":
                    assert load_workbook(io.BytesIO(response.content)).active.max_row >= 2, url
                else:
                    assert json.loads(response.content)["features"], url
