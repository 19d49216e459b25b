"""The protocol map: findings at one spot keep every number legible; place or coordinates in the table;
the optional tile background fetched from a real local tile server, cached, and given up on a dead one."""

import io
import math
import re
import socket
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup.charts import MapPoint, findings_map, number_label
from fieldwalk.models import Category, Role, User, Walk, WalkStatus


def test_number_label_joins_runs():
    assert number_label([6, 1, 4, 3, 5]) == "1, 3–6"
    assert number_label([2, 3]) == "2, 3"
    assert number_label([7]) == "7"


def _marker_numbers(svg: str) -> list[set[int]]:
    return [set(map(int, m.split())) for m in re.findall(r'data-numbers="([^"]+)"', svg)]


def test_findings_at_one_spot_share_a_marker_listing_every_number():
    same = (56.8790, 14.8060)
    points = [MapPoint(n, *same) for n in (1, 3, 4, 5, 6)] + [MapPoint(2, 56.8830, 14.8120)]
    svg = str(findings_map(points, "Karta"))
    groups = _marker_numbers(svg)
    assert {1, 3, 4, 5, 6} in groups and {2} in groups and len(groups) == 2
    texts = re.findall(r">([^<>]+)</text>", svg)
    assert "1, 3–6" in texts and "2" in texts  # drawn as text, none hidden under another marker


def test_many_findings_at_one_spot_wrap_and_stay_inside_the_map():
    points = [MapPoint(n, 56.8790, 14.8060) for n in range(1, 60, 2)]  # 1, 3, 5 … 59: no runs
    svg = str(findings_map(points, "Karta"))
    texts = " ".join(re.findall(r">([^<>]+)</text>", svg))
    for n in range(1, 60, 2):
        assert re.search(rf"\b{n}\b", texts)
    for x, y, w, h in re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx', svg):
        assert 0 <= float(x) and float(x) + float(w) <= 640 and 0 <= float(y) and float(y) + float(h) <= 400


def test_nearby_markers_never_overlap():
    points = [MapPoint(n, 56.8790 + n * 0.00002, 14.8060) for n in range(1, 20)] + [MapPoint(20, 56.89, 14.82)]
    svg = str(findings_map(points, "Karta"))
    seen = sorted(n for group in _marker_numbers(svg) for n in group)
    assert seen == list(range(1, 21))


@pytest.fixture
def walk_with_findings(app, auth):
    auth.login()
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))
        category = db.session.scalar(db.select(Category).filter_by(slug="belysning"))
        walk = Walk(
            title="Kartvandring", starts_at=datetime(2026, 10, 1, 17), status=WalkStatus.COMPLETED, created_by=actor
        )
        db.session.add(walk)
        for n in range(5):
            findings.create_finding(
                walk,
                actor,
                FindingInput(
                    category=category,
                    description=f"Lampa {n}",
                    lat=56.879012,
                    lon=14.806034,
                    place="Storgatan 3" if n == 0 else "",
                ),
            )
        findings.create_finding(walk, actor, FindingInput(category=category, description="Utan plats"))
        db.session.commit()
        return walk.id


def test_protocol_table_lists_place_or_coordinates_in_the_readers_decimals(client, walk_with_findings):
    html = client.get(f"/followup/protocol?walk={walk_with_findings}").get_data(as_text=True)
    assert '<td class="place">Storgatan 3</td>' in html
    assert html.count('<td class="place">56,879012; 14,806034</td>') == 4
    assert '<td class="place">–</td>' in html
    assert "1–5" in html  # the five findings at one spot share one marker
    client.post("/language", data={"language": "en", "next": "/"})
    html = client.get(f"/followup/protocol?walk={walk_with_findings}").get_data(as_text=True)
    assert '<td class="place">56.879012, 14.806034</td>' in html


class TileServer:
    """A real HTTP tile server on a local port serving generated 256 px PNG tiles; counts requests."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                match = re.fullmatch(r"/(\d+)/(\d+)/(\d+)\.png", self.path)
                if not match:
                    self.send_error(404)
                    return
                out = io.BytesIO()
                Image.new("RGB", (256, 256), (200, 230, 200)).save(out, "PNG")
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(out.getvalue())))
                self.end_headers()
                self.wfile.write(out.getvalue())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def tile_server():
    server = TileServer()
    yield server
    server.close()


@pytest.fixture
def tiles_config(app, tmp_path):
    keys = ("PROTOCOL_TILES_URL", "PROTOCOL_TILES_CACHE_DIR", "PROTOCOL_TILES_TIMEOUT")
    saved = {k: app.config[k] for k in keys}
    app.config["PROTOCOL_TILES_CACHE_DIR"] = str(tmp_path / "tiles")
    app.config["PROTOCOL_TILES_TIMEOUT"] = 2
    yield app.config
    app.config.update(saved)


def test_background_tiles_come_from_the_tile_server_then_from_the_cache(
    client, walk_with_findings, tile_server, tiles_config, tmp_path
):
    tiles_config["PROTOCOL_TILES_URL"] = tile_server.url
    html = client.get(f"/followup/protocol?walk={walk_with_findings}").get_data(as_text=True)
    assert 'href="data:image/jpeg;base64,' in html and "OpenStreetMap" in html
    first = len(tile_server.requests)
    assert first >= 4 and all(re.fullmatch(r"/18/\d+/\d+\.png", p) for p in tile_server.requests)
    assert len(list((tmp_path / "tiles").rglob("*.png"))) == first
    html = client.get(f"/followup/protocol?walk={walk_with_findings}").get_data(as_text=True)
    assert 'href="data:image/jpeg;base64,' in html
    assert len(tile_server.requests) == first  # the second render used the cache only
    pdf = client.get(f"/followup/protocol.pdf?walk={walk_with_findings}")
    assert pdf.status_code == 200 and b"/Image" in pdf.data


def test_a_dead_tile_server_gives_the_schematic_map(client, walk_with_findings, tiles_config):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tiles_config["PROTOCOL_TILES_URL"] = f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"
    response = client.get(f"/followup/protocol?walk={walk_with_findings}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<image" not in html and 'stroke="#dde3e8"' in html and "1–5" in html
    assert client.get(f"/followup/protocol.pdf?walk={walk_with_findings}").status_code == 200


def test_a_tile_server_answering_garbage_gives_the_schematic_map(client, walk_with_findings, tiles_config, tile_server):
    tiles_config["PROTOCOL_TILES_URL"] = tile_server.url.replace(".png", ".txt")  # the server answers 404
    html = client.get(f"/followup/protocol?walk={walk_with_findings}").get_data(as_text=True)
    assert "<image" not in html and "1–5" in html


def _label_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """Each marker's outline from the SVG: its rounded rect, or its circle's square."""
    boxes = []
    for group in re.findall(r'<g class="marker"[^>]*>(.*?)</g>', svg):
        if rect := re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', group):
            x, y, w, h = map(float, rect.groups())
            boxes.append((x, y, x + w, y + h))
        else:
            cx, cy, r = map(float, re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"', group).groups())
            boxes.append((cx - r, cy - r, cx + r, cy + r))
    return boxes


def _assert_no_label_overlaps(svg: str):
    boxes = _label_boxes(svg)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
        assert 0 <= a[0] and a[2] <= 640 and 0 <= a[1] and a[3] <= 400


def test_a_walk_of_30_findings_keeps_them_apart_each_near_its_spot():
    # The big_walk fixture's positions: about 15 px apart on the map, which used to chain into one "1–30".
    points = [MapPoint(n + 1, 56.88 + n / 2000, 14.80 + n / 1500) for n in range(30)]
    svg = str(findings_map(points, "Karta"))
    groups = _marker_numbers(svg)
    assert len(groups) >= 10
    assert sorted(n for g in groups for n in g) == list(range(1, 31))
    _assert_no_label_overlaps(svg)
    # Every moved label has a leader line to its spot, and stays near it.
    for x1, y1, x2, y2 in re.findall(
        r'<line class="leader" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" '
        r'y2="([\d.]+)"',
        svg,
    ):
        assert math.dist((float(x1), float(y1)), (float(x2), float(y2))) < 80


def test_one_exact_spot_beside_a_crowded_walk_still_reads_1_3_to_6():
    same = (56.8790, 14.8060)
    points = [MapPoint(n, *same) for n in (1, 3, 4, 5, 6)]
    points += [MapPoint(n, 56.8790 + (n - 6) / 4000, 14.8060 + (n - 6) / 3000) for n in (2, *range(7, 25))]
    svg = str(findings_map(points, "Karta"))
    groups = _marker_numbers(svg)
    assert {1, 3, 4, 5, 6} in groups and len(groups) >= 10
    assert sorted(n for g in groups for n in g) == list(range(1, 25))
    assert "1, 3–6" in re.findall(r">([^<>]+)</text>", svg)
    _assert_no_label_overlaps(svg)


def test_a_crowd_too_big_for_the_map_merges_rather_than_overlaps():
    points = [MapPoint(n, 56.8790 + (n % 20) / 20000, 14.8060 + (n // 20) / 15000) for n in range(1, 401)]
    svg = str(findings_map(points, "Karta"))
    assert sorted(n for g in _marker_numbers(svg) for n in g) == list(range(1, 401))
    _assert_no_label_overlaps(svg)
