"""Server-rendered SVG: the findings map of a protocol and the dashboard's bar charts.

Plain SVG needs no script, no CDN and no network, so the same markup works on screen, in print and
in the PDF. Every chart has a title for screen readers, and the pages show the figures as text too.
"""

import base64
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

MAP_WIDTH, MAP_HEIGHT, PAD = 640, 400, 28
EARTH_RADIUS_M = 6_378_137


@dataclass(frozen=True)
class MapPoint:
    """A numbered point on the protocol map."""

    number: int
    lat: float
    lon: float
    positive: bool = False


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    """Web Mercator in metres (y grows northwards)."""
    lat = max(min(lat, 85.0), -85.0)
    return (
        EARTH_RADIUS_M * math.radians(lon),
        EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)),
    )


def _nice_length(metres: float) -> int:
    """A round scale-bar length not longer than metres (10, 20, 50, 100, 200, 500 …)."""
    if metres <= 1:
        return 1
    base = 10 ** int(math.floor(math.log10(metres)))
    return max(step * base for step in (1, 2, 5) if step * base <= metres)


def number_label(numbers: list[int]) -> str:
    """Numbers as a short list with runs joined: [1, 3, 4, 5, 6] → "1, 3–6"."""
    parts: list[str] = []
    run: list[int] = []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            parts.append(_run_text(run))
        run = [n]
    if run:
        parts.append(_run_text(run))
    return ", ".join(parts)


def _run_text(run: list[int]) -> str:
    if len(run) == 1:
        return str(run[0])
    if len(run) == 2:
        return f"{run[0]}, {run[1]}"
    return f"{run[0]}–{run[-1]}"


@dataclass
class _Marker:
    """Findings drawn as one marker (those at nearly the same point), and where its label is drawn."""

    points: list[MapPoint]
    xy: list[tuple[float, float]]
    at: tuple[float, float] | None = None  # the label's centre when it was moved off the spot

    @property
    def centre(self) -> tuple[float, float]:
        """The true spot: the mean of the findings' positions."""
        return (sum(x for x, _ in self.xy) / len(self.xy), sum(y for _, y in self.xy) / len(self.xy))

    def lines(self) -> list[str]:
        """The label, broken into lines short enough for the map (about 24 characters each)."""
        lines, line = [], ""
        for part in number_label([p.number for p in self.points]).split(", "):
            if line and len(line) + len(part) + 2 > LABEL_LINE_CHARS:
                lines.append(line + ",")
                line = part
            else:
                line = f"{line}, {part}" if line else part
        return lines + [line]

    def size(self) -> tuple[float, float]:
        """The label's width and height in pixels."""
        lines = self.lines()
        width = max(22.0, max(len(line) for line in lines) * CHAR_PX + 12)
        height = 22.0 if len(lines) == 1 else LINE_PX * len(lines) + 8
        return width, height

    def box(self) -> tuple[float, float, float, float]:
        """The label's outline (x0, y0, x1, y1) where it is drawn, kept inside the map (_place computes the
        same for every place it tries)."""
        width, height = self.size()
        x, y = self.at or self.centre
        x = min(max(x, width / 2 + 2), MAP_WIDTH - width / 2 - 2)
        y = min(max(y, height / 2 + 2), MAP_HEIGHT - height / 2 - 2)
        return x - width / 2, y - height / 2, x + width / 2, y + height / 2


LABEL_LINE_CHARS = 24
CHAR_PX, LINE_PX = 6.6, 13  # bold 11 px digits are about 6.2 px wide
MERGE_PX = 4  # findings closer than this on the map are one place: one marker lists them all
LABEL_GAP = 2  # white space kept between two labels
RING_STEP = 8  # px between the rings of candidate places around a crowded spot
MAX_LEADER_PX = 72  # no label further than this from its spot


def _overlap(a: tuple, b: tuple, gap: float = LABEL_GAP) -> bool:
    """Boxes closer than gap px (or overlapping)."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _merge_same_spot(points: list[MapPoint], xy: list[tuple[float, float]]) -> list[_Marker]:
    """Findings within MERGE_PX of each other (chained), one marker each group."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Grid buckets keep this near-linear: only points in neighbouring cells can be that close.
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(xy):
        buckets.setdefault((int(x // MERGE_PX), int(y // MERGE_PX)), []).append(i)
    for (gx, gy), members in buckets.items():
        near = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in buckets.get((gx + dx, gy + dy), [])]
        for i in members:
            for j in near:
                if j > i and math.dist(xy[i], xy[j]) <= MERGE_PX:
                    parent[root(j)] = root(i)
    groups: dict[int, _Marker] = {}
    for i, (point, spot) in enumerate(zip(points, xy, strict=True)):
        group = groups.setdefault(root(i), _Marker([], []))
        group.points.append(point)
        group.xy.append(spot)
    return list(groups.values())


def _ring_offsets() -> list[tuple[float, float]]:
    """Where a label may go, from its spot: the spot itself, then places on widening rings around it (more
    places on the wider rings), no further than MAX_LEADER_PX: a label far from its spot would no longer say
    where the finding is."""
    offsets = [(0.0, 0.0)]
    for ring in range(1, MAX_LEADER_PX // RING_STEP + 1):
        radius = ring * RING_STEP + 6
        count = max(8, int(2 * math.pi * radius / 12))
        turn = ring * 0.5  # each ring starts a little further round, so the leader lines do not line up
        for k in range(count):
            angle = turn + 2 * math.pi * k / count
            offsets.append((radius * math.cos(angle), radius * math.sin(angle)))
    return offsets


_OFFSETS = _ring_offsets()


class _Taken:
    """Label boxes already placed, in grid cells so a test looks only at its neighbours."""

    CELL = 64

    def __init__(self):
        self.cells: dict[tuple[int, int], list[tuple]] = {}

    def _keys(self, box: tuple):
        """The cells a box (grown by the gap kept between labels) touches."""
        for gx in range(int((box[0] - LABEL_GAP) // self.CELL), int((box[2] + LABEL_GAP) // self.CELL) + 1):
            for gy in range(int((box[1] - LABEL_GAP) // self.CELL), int((box[3] + LABEL_GAP) // self.CELL) + 1):
                yield gx, gy

    def hits(self, box: tuple, gap: float = LABEL_GAP, skip: tuple | None = None) -> bool:
        """Whether the box comes closer than gap to a box taken (other than skip). Written out (the cells of
        _keys, the test of _overlap): placement asks this some 170,000 times for a quarter's 4,000 findings."""
        x0, y0, x1, y1 = box
        cells, cell = self.cells, self.CELL
        for gx in range(int((x0 - LABEL_GAP) // cell), int((x1 + LABEL_GAP) // cell) + 1):
            for gy in range(int((y0 - LABEL_GAP) // cell), int((y1 + LABEL_GAP) // cell) + 1):
                for other in cells.get((gx, gy), ()):
                    if (
                        x0 < other[2] + gap
                        and other[0] < x1 + gap
                        and y0 < other[3] + gap
                        and other[1] < y1 + gap
                        and other != skip
                    ):
                        return True
        return False

    def add(self, box: tuple):
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)


def _place(markers: list[_Marker], reserved: Sequence[tuple] = ()) -> list[_Marker]:
    """Give every marker a label place that overlaps no other label, no reserved box (scale bar, north
    arrow) nor another spot's dot, as close to its spot as possible; returns the markers that found no
    place near their spot."""
    taken, stuck = _Taken(), []
    for box in reserved:
        taken.add(box)
    spots = _Taken()  # other findings' true spots, as small boxes a moved label must keep off
    for marker in markers:
        x, y = marker.centre
        spots.add((x - 3, y - 3, x + 3, y + 3))
    for marker in markers:
        (ox, oy), (width, height) = marker.centre, marker.size()
        own_spot = (ox - 3, oy - 3, ox + 3, oy + 3)
        # marker.box() at every place tried, written out (some 170,000 places for 4,000 findings)
        low_x, high_x = width / 2 + 2, MAP_WIDTH - width / 2 - 2
        low_y, high_y = height / 2 + 2, MAP_HEIGHT - height / 2 - 2
        for dx, dy in _OFFSETS:
            x, y = min(max(ox + dx, low_x), high_x), min(max(oy + dy, low_y), high_y)
            box = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
            if taken.hits(box):
                continue
            moved = dx or dy
            # a moved label must not hide another finding's spot (a 6 px box round it)
            if moved and spots.hits(box, gap=0, skip=own_spot):
                continue
            marker.at = (x, y) if moved else None
            taken.add(box)
            break
        else:
            stuck.append(marker)
    return stuck


def group_markers(
    points: list[MapPoint], xy: list[tuple[float, float]], reserved: Sequence[tuple] = ()
) -> list[_Marker]:
    """Findings at (nearly) the same point share one marker listing all their numbers; a marker that
    would cover another is moved to a free place on a ring around its spot, joined to it by a leader
    line, so every number stays legible and near where the finding is."""
    markers = _merge_same_spot(points, xy)
    while True:
        # Crowded spots first (their labels are the widest), then in number order.
        markers.sort(key=lambda m: (-len(m.points), min(p.number for p in m.points)))
        stuck = _place(markers, reserved)
        if not stuck:
            return sorted(markers, key=lambda m: min(p.number for p in m.points))
        # Too crowded to keep them apart near their spots: each stuck marker joins its nearest
        # neighbour's label (the last resort; the numbers stay legible, together).
        ids = {id(m) for m in stuck}
        free = [m for m in markers if id(m) not in ids]
        if not free:
            free, stuck = stuck[:1], stuck[1:]
        nearest = _Nearest(free)
        for marker in stuck:
            target = nearest.to(marker.centre)
            target.points += marker.points
            target.xy += marker.xy
            nearest.moved(target)  # its centre is now the mean of more findings
        markers = free


class _Nearest:
    """The nearest of some markers to a point, by their centres in grid cells: a search looks at the cells
    ring by ring around the point and stops once no nearer centre can be further out. Ties go to the
    marker earlier in the list, like min() over it."""

    CELL = 32.0

    def __init__(self, markers: list[_Marker]):
        self.cells: dict[tuple[int, int], list[tuple[int, tuple[float, float], _Marker]]] = {}
        self.entries: dict[int, tuple[int, tuple[float, float], _Marker]] = {}
        for order, marker in enumerate(markers):
            self._add((order, marker.centre, marker))

    def _key(self, xy: tuple[float, float]) -> tuple[int, int]:
        return int(xy[0] // self.CELL), int(xy[1] // self.CELL)

    def _add(self, entry: tuple[int, tuple[float, float], _Marker]):
        self.entries[id(entry[2])] = entry
        self.cells.setdefault(self._key(entry[1]), []).append(entry)

    def moved(self, marker: _Marker):
        """The marker took in more findings: file it under its new centre."""
        entry = self.entries[id(marker)]
        self.cells[self._key(entry[1])].remove(entry)
        self._add((entry[0], marker.centre, marker))

    def to(self, xy: tuple[float, float]) -> _Marker:
        gx, gy = self._key(xy)
        keys = [key for key, entries in self.cells.items() if entries]
        x0, x1 = min(k[0] for k in keys), max(k[0] for k in keys)
        y0, y1 = min(k[1] for k in keys), max(k[1] for k in keys)
        widest = max(abs(gx - x0), abs(gx - x1), abs(gy - y0), abs(gy - y1))
        best: tuple[float, int, _Marker] | None = None
        for ring in range(widest + 1):
            # Every centre in a cell of this ring or further out is at least (ring - 1) cells away.
            if best is not None and best[0] < (ring - 1) * self.CELL:
                break
            for dx in range(-ring, ring + 1):
                for dy in range(-ring, ring + 1):
                    if max(abs(dx), abs(dy)) != ring:
                        continue
                    for order, centre, marker in self.cells.get((gx + dx, gy + dy), ()):
                        candidate = (math.dist(centre, xy), order, marker)
                        if best is None or candidate[:2] < best[:2]:
                            best = candidate
        assert best is not None
        return best[2]


# background(zoom, left, top, width, height) → image bytes of that part of the world at that zoom
# (Web Mercator pixels, 256 px tiles), or None when it cannot be had: the schematic map is drawn then.
Background = Callable[[int, float, float, int, int], "tuple[bytes, str] | None"]
TILE_PX = 256


def findings_map(
    points: list[MapPoint], title: str, background: Background | None = None, attribution: str = "", max_zoom: int = 18
) -> Markup:
    """The points scaled into a box, numbered like the list beside it, with a scale bar and north arrow.

    Findings at (nearly) the same spot share one marker that lists all their numbers ("1, 3–6"); markers
    that would cover each other are moved apart with a leader line to their spot. With a
    background, the map is drawn on map tiles at the largest zoom that fits every point; when the tiles
    cannot be had, the schematic map is drawn instead.
    """
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" '
        f'class="points-map" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="#f4f6f8" stroke="#5f6b76"/>',
    ]
    if points:
        xy = [_mercator(p.lat, p.lon) for p in points]
        xs, ys = [x for x, _ in xy], [y for _, y in xy]
        span = max(max(xs) - min(xs), (max(ys) - min(ys)) * (MAP_WIDTH / MAP_HEIGHT), 200.0)
        scale = (MAP_WIDTH - 2 * PAD) / span  # px per mercator metre, equal on both axes
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        image = None
        if background is not None:
            world = 2 * math.pi * EARTH_RADIUS_M
            zoom = max(0, min(max_zoom, int(math.floor(math.log2(scale * world / TILE_PX)))))
            tile_scale = TILE_PX * 2**zoom / world
            left = (cx + world / 2) * tile_scale - MAP_WIDTH / 2
            top = (world / 2 - cy) * tile_scale - MAP_HEIGHT / 2
            image = background(zoom, left, top, MAP_WIDTH, MAP_HEIGHT)
            if image is not None:
                scale = tile_scale
        # Mercator stretches distances by 1/cos(lat); the scale bar shows true metres on the ground.
        ground = math.cos(math.radians(sum(p.lat for p in points) / len(points)))
        if image is not None:
            data, mimetype = image
            parts.append(
                f'<image x="0" y="0" width="{MAP_WIDTH}" height="{MAP_HEIGHT}" '
                f'href="data:{mimetype};base64,{base64.b64encode(data).decode()}"/>'
            )
        else:
            for i in range(1, 4):  # a light grid, so the eye can compare distances
                parts.append(
                    f'<line x1="{MAP_WIDTH * i / 4:.0f}" y1="0" x2="{MAP_WIDTH * i / 4:.0f}" '
                    f'y2="{MAP_HEIGHT}" stroke="#dde3e8"/>'
                    f'<line x1="0" y1="{MAP_HEIGHT * i / 4:.0f}" x2="{MAP_WIDTH}" '
                    f'y2="{MAP_HEIGHT * i / 4:.0f}" stroke="#dde3e8"/>'
                )
        pixels = [(MAP_WIDTH / 2 + (x - cx) * scale, MAP_HEIGHT / 2 - (y - cy) * scale) for x, y in xy]
        # The scale bar (at most a quarter of the width plus its text) and the north arrow stay clear.
        reserved = [
            (PAD - 6, MAP_HEIGHT - 30, PAD + MAP_WIDTH / 4 + 54, MAP_HEIGHT - 6),
            (MAP_WIDTH - 32, 6, MAP_WIDTH - 12, 44),
        ]
        markers = group_markers(points, pixels, reserved)
        parts.append('<g class="leaders">' + "".join(_leader_svg(m) for m in markers) + "</g>")  # under labels
        parts.extend(_marker_svg(m) for m in markers)
        metres = _nice_length((MAP_WIDTH / 4) / scale * ground)
        bar = metres / ground * scale
        parts.append(
            f'<g font-size="12" fill="#1f2328"><rect x="{PAD - 6}" y="{MAP_HEIGHT - 30}" '
            f'width="{bar + 60:.0f}" height="24" fill="#fff" opacity=".85"/>'
            f'<line x1="{PAD}" y1="{MAP_HEIGHT - 14}" x2="{PAD + bar:.1f}" y2="{MAP_HEIGHT - 14}" '
            f'stroke="#1f2328" stroke-width="3"/><text x="{PAD + bar + 6:.1f}" '
            f'y="{MAP_HEIGHT - 10}">{metres} m</text></g>'
        )
        if image is not None and attribution:
            width = len(attribution) * 5.6 + 8
            parts.append(
                f'<g font-size="10" fill="#1f2328"><rect x="{MAP_WIDTH - width:.0f}" '
                f'y="{MAP_HEIGHT - 16}" width="{width:.0f}" height="16" fill="#fff" opacity=".85"/>'
                f'<text x="{MAP_WIDTH - 4}" y="{MAP_HEIGHT - 4}" text-anchor="end">'
                f"{escape(attribution)}</text></g>"
            )
    parts.append(
        f'<g font-size="14" font-weight="700" fill="#1f2328"><text x="{MAP_WIDTH - 22}" y="22" '
        f'text-anchor="middle">N</text><path d="M{MAP_WIDTH - 22} 28 l-6 14 h12 z"/></g></svg>'
    )
    return Markup("".join(parts))


def _fill(marker: _Marker) -> str:
    return "#1c6b35" if all(p.positive for p in marker.points) else "#b3261e"


def _leader_svg(marker: _Marker) -> str:
    """A thin line from a moved label to its true spot, which gets a small dot ("" when not moved)."""
    x0, y0, x1, y1 = marker.box()
    x, y = (x0 + x1) / 2, (y0 + y1) / 2
    cxs, cys = marker.centre
    if abs(cxs - x) <= 1 and abs(cys - y) <= 1:
        return ""
    fill = _fill(marker)
    return (
        f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{cxs:.1f}" y2="{cys:.1f}" stroke="{fill}" '
        f'stroke-width="1.5"/><circle cx="{cxs:.1f}" cy="{cys:.1f}" r="3" fill="{fill}" stroke="#fff" '
        f'stroke-width="1"/>'
    )


def _marker_svg(marker: _Marker) -> str:
    """A circle for one finding, a rounded label listing the numbers for findings at one spot."""
    fill = _fill(marker)
    x0, y0, x1, y1 = marker.box()
    x, y = (x0 + x1) / 2, (y0 + y1) / 2
    lines = marker.lines()
    numbers = " ".join(str(p.number) for p in sorted(marker.points, key=lambda p: p.number))
    out = [f'<g class="marker" data-numbers="{numbers}">']
    if len(marker.points) == 1 and len(lines[0]) <= 2:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="{fill}" stroke="#fff" stroke-width="2"/>')
    else:
        out.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="11" '
            f'fill="{fill}" stroke="#fff" stroke-width="2"/>'
        )
    first = y - (len(lines) - 1) * LINE_PX / 2 + 4
    for n, line in enumerate(lines):
        out.append(
            f'<text x="{x:.1f}" y="{first + n * LINE_PX:.1f}" text-anchor="middle" font-size="11" '
            f'font-weight="700" fill="#fff">{escape(line)}</text>'
        )
    out.append("</g>")
    return "".join(out)


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: a label, the value, and an optional target drawn as a marker."""

    label: str
    value: float
    target: float | None = None
    text: str = ""  # shown after the bar; defaults to the value


def bar_chart(bars: list[Bar], title: str, width: int = 360) -> Markup:
    """Horizontal bars, each under its label (long labels keep their width on a phone); a target is a
    dashed outline, and a bar that reached it is green."""
    row, right = 46, 70
    usable = width - right
    top = max([b.value for b in bars] + [b.target or 0 for b in bars] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {row * len(bars) + 4}" '
        f'class="bar-chart" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = i * row
        length = usable * bar.value / top
        met = bar.target is None or bar.value >= bar.target
        text = bar.label if len(bar.label) <= 48 else bar.label[:47] + "…"
        parts.append(f'<text x="0" y="{y + 14}" font-size="12" fill="#1f2328">{escape(text)}</text>')
        if bar.target is not None:
            parts.append(
                f'<rect x="0.5" y="{y + 19}" width="{usable * bar.target / top:.1f}" height="18" '
                f'fill="none" stroke="#5f6b76" stroke-dasharray="4 3"/>'
            )
        parts.append(
            f'<rect x="0.5" y="{y + 19}" width="{length:.1f}" height="18" fill="{"#1c6b35" if met else "#8a4b00"}"/>'
        )
        parts.append(
            f'<text x="{max(length, usable * (bar.target or 0) / top) + 6:.1f}" y="{y + 33}" '
            f'font-size="12" font-weight="700" fill="#1f2328">{escape(bar.text or f"{bar.value:g}")}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
