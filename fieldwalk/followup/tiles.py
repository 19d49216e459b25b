"""Background map for the protocol: tiles from the operator's tile server, fetched on the server at render
time and kept in a disk cache (keyed by z/x/y, with an age and a size limit).

Off unless PROTOCOL_TILES_URL is set. Any failure (server down, slow, not an image) gives None, and the
protocol falls back to the schematic map: a protocol is never refused because a tile server is.
"""

import io
import math
import os
import tempfile
import time
import urllib.request
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

from fieldwalk.followup.charts import TILE_PX

MAX_TILE_BYTES = 1024 * 1024  # an OSM tile is 10-60 kB; anything far larger is not a tile


class TileError(Exception):
    """A tile could not be had from the cache or the server."""


class TileBackground:
    """Callable background for charts.findings_map: the map image of a pixel window at one zoom."""

    def __init__(
        self,
        url: str,
        cache_dir: Path,
        timeout: float,
        total_timeout: float,
        max_age_s: float,
        max_cache_bytes: int,
        user_agent: str,
    ):
        self.url, self.cache_dir, self.timeout, self.total_timeout = url, cache_dir, timeout, total_timeout
        self.max_age_s, self.max_cache_bytes, self.user_agent = max_age_s, max_cache_bytes, user_agent
        self.fetched = 0  # tiles asked of the server during this render (the rest came from the cache)

    @classmethod
    def from_config(cls) -> "TileBackground | None":
        """The background the operator configured, or None (the default: the schematic map only)."""
        config = current_app.config
        if not config.get("PROTOCOL_TILES_URL"):
            return None
        cache = config.get("PROTOCOL_TILES_CACHE_DIR") or os.path.join(current_app.instance_path, "tile-cache")
        return cls(
            config["PROTOCOL_TILES_URL"],
            Path(cache),
            float(config["PROTOCOL_TILES_TIMEOUT"]),
            float(config["PROTOCOL_TILES_TOTAL_TIMEOUT"]),
            float(config["PROTOCOL_TILES_MAX_AGE_DAYS"]) * 86400,
            int(config["PROTOCOL_TILES_CACHE_MB"]) * 1024 * 1024,
            f"fieldwalk protocol map ({config['BASE_URL']})",
        )

    def __call__(self, zoom: int, left: float, top: float, width: int, height: int) -> tuple[bytes, str] | None:
        """The window [left, left+width) × [top, top+height) of the world at `zoom` as a JPEG, or None."""
        deadline = time.monotonic() + self.total_timeout
        try:
            canvas = Image.new("RGB", (width, height), (244, 246, 248))
            count = 2**zoom
            for ty in range(math.floor(top / TILE_PX), math.floor((top + height - 1) / TILE_PX) + 1):
                if not 0 <= ty < count:
                    continue  # beyond the poles: leave the canvas colour
                for tx in range(math.floor(left / TILE_PX), math.floor((left + width - 1) / TILE_PX) + 1):
                    tile = self.tile(zoom, tx % count, ty, deadline)  # x wraps round the date line
                    canvas.paste(tile, (round(tx * TILE_PX - left), round(ty * TILE_PX - top)))
            out = io.BytesIO()
            canvas.save(out, "JPEG", quality=82, optimize=True)
        except (TileError, OSError, ValueError) as error:
            current_app.logger.warning("Protocol map: no background tiles (%s); the schematic map is used", error)
            return None
        if self.fetched:
            self.prune()
        return out.getvalue(), "image/jpeg"

    def _path(self, zoom: int, x: int, y: int) -> Path:
        return self.cache_dir / str(zoom) / str(x) / f"{y}.png"

    def tile(self, zoom: int, x: int, y: int, deadline: float) -> Image.Image:
        """One tile as an RGB image, from the cache while it is fresh, else from the server (then cached)."""
        path = self._path(zoom, x, y)
        try:
            if time.time() - path.stat().st_mtime < self.max_age_s:
                return _decode(path.read_bytes())
        except (FileNotFoundError, TileError):
            pass  # not cached, or a damaged file: fetch it again
        left = deadline - time.monotonic()
        if left <= 0:
            raise TileError("the tile server took too long")
        url = self.url.format(z=zoom, x=x, y=y)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=min(self.timeout, left)) as response:
                data = response.read(MAX_TILE_BYTES + 1)
        except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts and refused connections
            raise TileError(f"{url}: {error}") from error
        self.fetched += 1
        if len(data) > MAX_TILE_BYTES:
            raise TileError(f"{url}: larger than {MAX_TILE_BYTES} bytes")
        image = _decode(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all: a render running beside this one never reads half a tile.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
        return image

    def prune(self) -> None:
        """Keep the cache under its size limit: the least recently written tiles go first."""
        try:
            files = [(p.stat(), p) for p in self.cache_dir.rglob("*.png")]
        except OSError:
            return
        total = sum(stat.st_size for stat, _ in files)
        for stat, path in sorted(files, key=lambda pair: pair[0].st_mtime):
            if total <= self.max_cache_bytes:
                break
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # another render pruned it first
            total -= stat.st_size


def _decode(data: bytes) -> Image.Image:
    """A tile's bytes as a 256×256 RGB image; TileError when they are not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size != (TILE_PX, TILE_PX):
                raise TileError(f"a tile of {image.size[0]}×{image.size[1]} px, not {TILE_PX}×{TILE_PX}")
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise TileError(f"not an image: {error}") from error
