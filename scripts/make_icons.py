"""Draw the app icons into static/icons/ with Pillow (run by `make icons`; the PNGs are committed).

Three kinds, because launchers treat them differently:
- `icon-<size>.png` (purpose "any"): a rounded blue tile on a transparent background, shown as it is;
- `maskable-<size>.png` (purpose "maskable"): full-bleed blue, the artwork inside the central safe zone
  (a circle of 40 % of the size around the centre), since a launcher may cut it to any shape;
- `apple-touch-icon.png` (180×180): full-bleed and opaque, iOS rounds the corners itself and would fill
  transparency with black.
"""

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
BLUE = (11, 79, 172, 255)
WHITE = (255, 255, 255, 255)
YELLOW = (255, 214, 0, 255)
SUPERSAMPLE = 4  # drawn large and downscaled: smooth edges without an anti-aliasing drawing library
ANY_SIZES = (192, 512)
MASKABLE_SIZES = (192, 512)
APPLE_SIZE = 180
# The artwork's extent as a share of the icon's side: "any" fills most of the tile; in a maskable icon a
# square of side 0.5 has its corners at 0.354 from the centre, well inside the 0.40 safe circle (the
# margin takes the line width and the resampling).
ANY_ARTWORK = 0.78
MASKABLE_ARTWORK = 0.5


def _artwork(draw: ImageDraw.ImageDraw, size: int, share: float) -> None:
    """A map pin over a walked path, fitted into a centred square of side share × size."""
    box = size * share
    x0 = (size - box) / 2
    y0 = (size - box) / 2

    def at(fx: float, fy: float) -> tuple[float, float]:
        return x0 + fx * box, y0 + fy * box

    # The pin: a circle head and a triangle point, with a hole in the head.
    cx, cy = at(0.5, 0.36)
    radius = box * 0.28
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=WHITE)
    draw.polygon([at(0.255, 0.46), at(0.745, 0.46), at(0.5, 0.86)], fill=WHITE)
    hole = box * 0.1
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=BLUE)
    # The walked path under the pin.
    draw.line(
        [at(0.0, 1.0), at(0.3, 0.9), at(0.5, 0.96), at(0.75, 0.88), at(1.0, 0.94)],
        fill=YELLOW,
        width=max(1, round(box * 0.05)),
        joint="curve",
    )


def draw_icon(size: int, *, maskable: bool) -> Image.Image:
    """One icon of size × size pixels: maskable (full bleed, safe-zone artwork) or "any" (rounded tile)."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=BLUE)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=BLUE)
    _artwork(draw, big, MASKABLE_ARTWORK if maskable else ANY_ARTWORK)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every icon file the manifest and base.html name."""
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in ANY_SIZES:
        draw_icon(size, maskable=False).save(ICONS / f"icon-{size}.png", optimize=True)
    for size in MASKABLE_SIZES:
        draw_icon(size, maskable=True).convert("RGB").save(ICONS / f"maskable-{size}.png", optimize=True)
    draw_icon(APPLE_SIZE, maskable=True).convert("RGB").save(ICONS / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
