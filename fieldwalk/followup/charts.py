"""Server-rendered SVG: the findings map of a protocol and the dashboard's bar charts.

Plain SVG needs no script, no CDN and no network, so the same markup works on screen, in print and
in the PDF. Every chart has a title for screen readers, and the pages show the figures as text too.
"""

import math
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
    return (EARTH_RADIUS_M * math.radians(lon),
            EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def _nice_length(metres: float) -> int:
    """A round scale-bar length not longer than metres (10, 20, 50, 100, 200, 500 …)."""
    if metres <= 1:
        return 1
    base = 10 ** int(math.floor(math.log10(metres)))
    return max(step * base for step in (1, 2, 5) if step * base <= metres)


def findings_map(points: list[MapPoint], title: str) -> Markup:
    """The points scaled into a box, numbered like the list beside it, with a scale bar and north arrow."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" '
             f'class="points-map" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="#f4f6f8" stroke="#5f6b76"/>']
    if points:
        xy = [_mercator(p.lat, p.lon) for p in points]
        xs, ys = [x for x, _ in xy], [y for _, y in xy]
        span = max(max(xs) - min(xs), (max(ys) - min(ys)) * (MAP_WIDTH / MAP_HEIGHT), 200.0)
        scale = (MAP_WIDTH - 2 * PAD) / span  # px per mercator metre, equal on both axes
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        # Mercator stretches distances by 1/cos(lat); the scale bar shows true metres on the ground.
        ground = math.cos(math.radians(sum(p.lat for p in points) / len(points)))
        for i in range(1, 4):  # a light grid, so the eye can compare distances
            parts.append(f'<line x1="{MAP_WIDTH * i / 4:.0f}" y1="0" x2="{MAP_WIDTH * i / 4:.0f}" '
                         f'y2="{MAP_HEIGHT}" stroke="#dde3e8"/>'
                         f'<line x1="0" y1="{MAP_HEIGHT * i / 4:.0f}" x2="{MAP_WIDTH}" '
                         f'y2="{MAP_HEIGHT * i / 4:.0f}" stroke="#dde3e8"/>')
        for point, (x, y) in sorted(zip(points, xy, strict=True), key=lambda pair: -pair[1][1]):
            px, py = MAP_WIDTH / 2 + (x - cx) * scale, MAP_HEIGHT / 2 - (y - cy) * scale
            fill = "#1c6b35" if point.positive else "#b3261e"
            parts.append(f'<g><circle cx="{px:.1f}" cy="{py:.1f}" r="11" fill="{fill}" stroke="#fff" '
                         f'stroke-width="2"/><text x="{px:.1f}" y="{py + 4:.1f}" text-anchor="middle" '
                         f'font-size="11" font-weight="700" fill="#fff">{point.number}</text></g>')
        metres = _nice_length((MAP_WIDTH / 4) / scale * ground)
        bar = metres / ground * scale
        parts.append(f'<g font-size="12" fill="#1f2328"><rect x="{PAD - 6}" y="{MAP_HEIGHT - 30}" '
                     f'width="{bar + 60:.0f}" height="24" fill="#fff" opacity=".85"/>'
                     f'<line x1="{PAD}" y1="{MAP_HEIGHT - 14}" x2="{PAD + bar:.1f}" y2="{MAP_HEIGHT - 14}" '
                     f'stroke="#1f2328" stroke-width="3"/><text x="{PAD + bar + 6:.1f}" '
                     f'y="{MAP_HEIGHT - 10}">{metres} m</text></g>')
    parts.append(f'<g font-size="14" font-weight="700" fill="#1f2328"><text x="{MAP_WIDTH - 22}" y="22" '
                 f'text-anchor="middle">N</text><path d="M{MAP_WIDTH - 22} 28 l-6 14 h12 z"/></g></svg>')
    return Markup("".join(parts))


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
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {row * len(bars) + 4}" '
             f'class="bar-chart" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, bar in enumerate(bars):
        y = i * row
        length = usable * bar.value / top
        met = bar.target is None or bar.value >= bar.target
        text = bar.label if len(bar.label) <= 48 else bar.label[:47] + "…"
        parts.append(f'<text x="0" y="{y + 14}" font-size="12" fill="#1f2328">{escape(text)}</text>')
        if bar.target is not None:
            parts.append(f'<rect x="0.5" y="{y + 19}" width="{usable * bar.target / top:.1f}" height="18" '
                         f'fill="none" stroke="#5f6b76" stroke-dasharray="4 3"/>')
        parts.append(f'<rect x="0.5" y="{y + 19}" width="{length:.1f}" height="18" '
                     f'fill="{"#1c6b35" if met else "#8a4b00"}"/>')
        parts.append(f'<text x="{max(length, usable * (bar.target or 0) / top) + 6:.1f}" y="{y + 33}" '
                     f'font-size="12" font-weight="700" fill="#1f2328">{escape(bar.text or f"{bar.value:g}")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
