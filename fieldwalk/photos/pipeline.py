"""Photo ingest: turn an uploaded phone photo into an upright, metadata-free JPEG plus thumbnail."""

import contextlib
import hashlib
import io
import math
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without littlecms: colours are then kept as they are
    COLOUR_MANAGED = False
else:
    COLOUR_MANAGED = True

try:
    import pillow_heif  # type: ignore[import-not-found]
except ImportError:
    pillow_heif = None
else:
    pillow_heif.register_heif_opener()

HEIF_SUPPORTED = pillow_heif is not None

ERROR_CODES = frozenset(
    {
        "empty",
        "too_large",
        "not_image",
        "unsupported_format",
        "truncated",
        "too_many_pixels",
        # Over the lower limit for formats that are always decoded at full size (PNG, WebP, ...).
        "too_many_pixels_full_decode",
        # The request's photos together would decode more pixels than its DecodeBudget allows.
        "decode_budget",
    }
)

# Only these Pillow plugins ever see upload bytes: restricting Image.open keeps the other ~40
# header parsers (a recurring source of Pillow CVEs) away from untrusted input.
_OPEN_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP") + (("HEIF",) if HEIF_SUPPORTED else ())
# Pillow reports multi-picture JPEGs (phone shots with an embedded depth map or preview) as "MPO".
_ACCEPTED_FORMATS = frozenset(_OPEN_FORMATS) | {"MPO"}
# Only libjpeg can decode at a reduced scale (draft); every other format costs its full pixel count.
_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_OTHER_IMAGE_BRANDS = (b"avif", b"avis", b"jxl ", b"crx ")
_OTHER_IMAGE_MAGIC = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"\x00\x00\x02\x00",  # CUR
    b"8BPS",
    b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000
    b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
    b"\x00\x00\x00\x0cJXL \r\n\x87\n",  # JPEG XL container
    b"\xff\x0a",  # JPEG XL codestream
    b"qoif",
    b"icns",
    b"DDS ",
    b"\x76\x2f\x31\x01",  # OpenEXR
)
_NETPBM_MAGIC = re.compile(rb"P[1-7]\s")

# Everything Pillow's decoders are known to raise on malformed input. Anything else (e.g. a
# NameError) is a bug in this module and should surface as one, not as a rejected upload.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
)

_TAG_ORIENTATION = 0x0112
_TAG_EXIF_IFD = 0x8769
_TAG_GPS_IFD = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
# A regex and int() rather than strptime, which imports _strptime on the first upload.
_EXIF_DATETIME = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# warnings.catch_warnings() swaps the process-global filter list; two threads interleaving
# their enter/exit could leave our "error" filter installed for good, so serialise it.
_WARNINGS_LOCK = threading.Lock()

# With reducing_gap >= 3 Pillow documents the result as indistinguishable from a plain
# LANCZOS resize, while the cheap integer reduce() does most of the work on big reductions.
_REDUCING_GAP = 3.0
# A 5x thumbnail reduction with plain LANCZOS costs more than half as much as the decode;
# gap 1.5 (reduce(3), then LANCZOS) is ~3x cheaper and measured 47.6 dB PSNR against plain
# LANCZOS on the benchmark photo (docs/benchmarks.md).
_THUMB_REDUCING_GAP = 1.5


class PhotoError(Exception):
    """A photo that cannot be accepted; .code is machine-readable, the web layer translates it."""

    code: str
    detail: str

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown PhotoError code {code!r}")
        # Both go to args so the exception survives pickling (e.g. a task queue).
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass(frozen=True)
class ProcessedPhoto:
    """The normalized photo, its thumbnail and the metadata worth keeping."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    sha256: str
    source_sha256: str
    gps: tuple[float, float] | None
    taken_at: datetime | None
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class PhotoLimits:
    """Size limits and output settings for process_photo."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    # PNG, WebP and HEIF are decoded at full size (a 134-byte PNG can declare 49 MP), so they get
    # a lower limit than JPEG, which libjpeg decodes at 1/2, 1/4 or 1/8 scale.
    max_pixels_full_decode: int = 24_000_000
    min_long_side: int = 1600
    max_long_side: int = 2048
    thumb_long_side: int = 400
    quality: int = 85
    thumb_quality: int = 80

    def __post_init__(self) -> None:
        if not 0 < self.min_long_side <= self.max_long_side:
            raise ValueError("need 0 < min_long_side <= max_long_side")
        if self.max_bytes < 1 or self.max_pixels < 1 or self.max_pixels_full_decode < 1 or self.thumb_long_side < 1:
            raise ValueError("max_bytes, max_pixels, max_pixels_full_decode and thumb_long_side must be positive")
        if not (1 <= self.quality <= 100 and 1 <= self.thumb_quality <= 100):
            raise ValueError("JPEG qualities must be within 1..100")


class DecodeBudget:
    """How many more pixels one request may decode; process_photo spends it before decoding."""

    def __init__(self, pixels: int) -> None:
        if pixels < 0:
            raise ValueError("a decode budget cannot be negative")
        self.remaining = pixels

    def spend(self, pixels: int) -> None:
        """Take pixels from the budget, or raise PhotoError("decode_budget") and take nothing."""
        if pixels > self.remaining:
            raise PhotoError("decode_budget", f"{pixels} pixels > {self.remaining} left")
        self.remaining -= pixels


def process_photo(
    data: bytes,
    limits: PhotoLimits = PhotoLimits(),
    budget: DecodeBudget | None = None,
    source_sha256: str | None = None,
) -> ProcessedPhoto:
    """Validate an upload and return it as an upright, metadata-free JPEG with a thumbnail. A caller that has
    hashed the upload already passes its hex SHA-256 as source_sha256 (hashing 3 MB again costs ~2 ms)."""
    if not data:
        raise PhotoError("empty", "no data")
    if len(data) > limits.max_bytes:
        raise PhotoError("too_large", f"{len(data)} bytes > {limits.max_bytes}")

    webp_size = _webp_canvas_size(data)
    # The WebP decoder allocates its canvas inside Image.open, so check (and pay) before opening.
    if webp_size:
        _check_pixels(webp_size, limits, draftable=False)
        if budget is not None:
            budget.spend(webp_size[0] * webp_size[1])

    im = _open(data)
    width, height = im.size
    draftable = im.format in _DRAFT_FORMATS
    # Image.open only parsed the header; nothing has been decoded yet.
    _check_pixels(im.size, limits, draftable=draftable)

    if draftable:
        _draft_for(im, limits.min_long_side, limits.max_long_side)
    if budget is not None and not (webp_size and im.format == "WEBP"):
        # A progressive JPEG's coefficients are entropy-decoded for every source pixel even when
        # the output is drafted, so it costs its full size; a baseline JPEG costs what draft left.
        progressive = draftable and bool(im.info.get("progressive") or im.info.get("progression"))
        decoded = width * height if progressive else im.size[0] * im.size[1]
        budget.spend(decoded)
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise PhotoError("too_many_pixels", str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoError("truncated", f"{type(exc).__name__}: {exc}") from exc

    orientation, gps, taken_at, icc = _read_metadata(im)

    img = _to_rgb(im)
    # No second name for the decoded source, so the first resize/transpose below frees it.
    del im
    img = _fit_long_side(img, limits.max_long_side, _REDUCING_GAP)
    if icc is not None:
        img = _to_srgb(img, icc)
    if orientation in _ORIENTATION_TRANSPOSE:
        # Rotating after the reduction moves a quarter of the pixels a full-size rotate would.
        img = img.transpose(_ORIENTATION_TRANSPOSE[orientation])
    thumb = _fit_long_side(img, limits.thumb_long_side, _THUMB_REDUCING_GAP)

    # optimize=True doubles encode time of the big image for ~1% smaller files; on the
    # thumbnail, served most often, it costs well under a millisecond.
    image_bytes = _encode_jpeg(img, limits.quality, optimize=False)
    thumb_bytes = _encode_jpeg(thumb, limits.thumb_quality, optimize=True)
    return ProcessedPhoto(
        image=image_bytes,
        thumbnail=thumb_bytes,
        width=img.width,
        height=img.height,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        sha256=hashlib.sha256(image_bytes).hexdigest(),
        source_sha256=source_sha256 or hashlib.sha256(data).hexdigest(),
        gps=gps,
        taken_at=taken_at,
    )


def _check_pixels(size: tuple[int, int], limits: PhotoLimits, *, draftable: bool) -> None:
    """Refuse a declared size over the pixel limit (the lower one for full-size decoders)."""
    pixels = size[0] * size[1]
    if pixels > limits.max_pixels:
        raise PhotoError("too_many_pixels", f"{size[0]}x{size[1]} > {limits.max_pixels} pixels")
    if not draftable and pixels > limits.max_pixels_full_decode:
        raise PhotoError(
            "too_many_pixels_full_decode",
            f"{size[0]}x{size[1]} > {limits.max_pixels_full_decode} pixels",
        )


def _open(data: bytes) -> Image.Image:
    """Open the header of an accepted format, mapping every failure to a PhotoError."""
    try:
        with _pillow_warnings():
            # Pillow's own bomb check only warns between MAX_IMAGE_PIXELS and twice that;
            # escalate locally instead of touching the global Image.MAX_IMAGE_PIXELS.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError("too_many_pixels", str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoError(_classify_unreadable(data), f"{type(exc).__name__}: {exc}") from exc
    if im.format not in _ACCEPTED_FORMATS:
        raise PhotoError("unsupported_format", str(im.format))
    return im


@contextlib.contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Silence Pillow's UserWarnings about broken metadata while parsing untrusted headers."""
    # Corrupt EXIF in an upload is routine, not something to log (or, under
    # filterwarnings=error, to crash on): it only costs us the metadata.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def _classify_unreadable(data: bytes) -> str:
    """Tell a damaged accepted file from another image format or from non-image bytes."""
    head = data[:64]
    is_ftyp = head[4:8] == b"ftyp"
    brand = head[8:12]
    looks_accepted = (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or (HEIF_SUPPORTED and is_ftyp and brand in _HEIF_BRANDS)
    )
    if looks_accepted:
        return "truncated"
    if (
        head.startswith(_OTHER_IMAGE_MAGIC)
        or _NETPBM_MAGIC.match(head)
        or (is_ftyp and brand in _HEIF_BRANDS + _OTHER_IMAGE_BRANDS)
    ):
        return "unsupported_format"
    text_head = data[:1024].lstrip().lower()
    if text_head.startswith((b"<svg", b"<?xml")) and b"<svg" in text_head:
        return "unsupported_format"
    return "not_image"


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Read a WebP canvas size from the first bytes, or None if this is not a WebP."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    return None


def _draft_for(im: Image.Image, min_long_side: int, max_long_side: int) -> None:
    """Let libjpeg decode at a reduced DCT scale: the coarsest one that still gives at least max_long_side
    (the result is then LANCZOS-resampled to it), else half scale if that keeps the long side >= min_long_side
    (used as it is: a 12 MP 4032 px photo comes out at 2016 px). A 1/4 or 1/8 scale decode is never the output
    itself: its DCT-domain scaling is visibly softer (37.8 dB PSNR on a 48 MP photo against a full decode
    and LANCZOS; 1/2 scale is above 40 dB)."""
    width, height = im.size
    long_side = max(width, height)
    for scale in (8, 4, 2):
        if long_side // scale >= max_long_side:
            break
    else:
        if long_side // 2 < min_long_side:
            return
        scale = 2
    # draft() picks the largest scale s with size // request >= s in both dimensions, so
    # asking for the floor-divided size selects exactly `scale` (asking for (2048, 2048)
    # on a 4032x3024 photo would select no scaling at all). A side shorter than `scale` (a
    # 16000x4 strip) would ask for 0 and divide by zero inside draft(); asking for 1 instead
    # lets draft() fall back to the largest scale that side allows.
    im.draft("RGB", (max(1, width // scale), max(1, height // scale)))


def _read_metadata(
    im: Image.Image,
) -> tuple[int, tuple[float, float] | None, datetime | None, bytes | None]:
    """Return orientation, GPS, DateTimeOriginal and ICC profile of the source, best effort."""
    icc = im.info.get("icc_profile") or None
    try:
        with _pillow_warnings():
            exif = im.getexif()
            orientation = exif.get(_TAG_ORIENTATION, 1)
            gps_ifd = exif.get_ifd(_TAG_GPS_IFD)
            exif_ifd = exif.get_ifd(_TAG_EXIF_IFD)
        gps = _parse_gps(gps_ifd)
        taken_at = _parse_exif_datetime(exif_ifd.get(_TAG_DATETIME_ORIGINAL))
    except Exception:  # EXIF is untrusted and optional: broken EXIF never rejects a photo
        return 1, None, None, icc
    if not isinstance(orientation, int):
        orientation = 1
    return orientation, gps, taken_at, icc


def _parse_gps(gps_ifd: dict[int, Any]) -> tuple[float, float] | None:
    """Decimal (lat, lon) from an EXIF GPS IFD, or None if absent or implausible."""
    if not gps_ifd:
        return None
    lat = _dms_to_degrees(gps_ifd.get(_GPS_LAT), gps_ifd.get(_GPS_LAT_REF), "N", "S")
    lon = _dms_to_degrees(gps_ifd.get(_GPS_LON), gps_ifd.get(_GPS_LON_REF), "E", "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    # Cameras without a fix write 0/0; a safety walk in the Gulf of Guinea is not plausible.
    if lat == 0 and lon == 0:
        return None
    return lat, lon


def _dms_to_degrees(value: Any, ref: Any, positive: str, negative: str) -> float | None:
    """Convert EXIF degree/minute/second rationals plus a hemisphere ref to signed degrees."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str):
        return None
    # Without a valid ref the sign is unknown, and a wrong hemisphere is worse than none.
    ref = ref.strip("\x00 ").upper()
    if ref not in (positive, negative):
        return None
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # A zero denominator makes Pillow's IFDRational NaN.
    if not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    return -degrees if ref == negative else degrees


def _parse_exif_datetime(value: Any) -> datetime | None:
    """Parse an EXIF 'YYYY:MM:DD HH:MM:SS' string into a naive datetime, or None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    match = _EXIF_DATETIME.match(value.strip("\x00 "))
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:  # out-of-range fields, including the "0000:00:00 00:00:00" placeholder
        return None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any decoded mode to RGB, flattening transparency onto white."""
    if im.mode == "RGB" and "transparency" not in im.info:
        return im
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # A plain convert() clips 16-bit samples to white; scale them to 8 bits instead.
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    try:
        return im.convert("RGB")
    except ValueError as exc:
        raise PhotoError("unsupported_format", f"mode {im.mode}") from exc


def _fit_long_side(img: Image.Image, long_side: int, reducing_gap: float) -> Image.Image:
    """Downscale so the longest side is at most long_side; never upscale."""
    width, height = img.size
    if max(width, height) <= long_side:
        return img
    ratio = long_side / max(width, height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded RGB profile (e.g. iPhone Display P3) to sRGB, best effort."""
    # The profile is stripped from the output, so the pixels must already be sRGB or
    # wide-gamut photos would look washed out.
    if not COLOUR_MANAGED:
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return img
        converted = ImageCms.profileToProfile(img, source, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img
    return converted if converted is not None else img


_SRGB_PROFILE: "ImageCms.ImageCmsProfile | None" = None


def _srgb_profile() -> "ImageCms.ImageCmsProfile":
    """Build the sRGB target profile once."""
    global _SRGB_PROFILE
    if _SRGB_PROFILE is None:
        _SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB_PROFILE


def _encode_jpeg(img: Image.Image, quality: int, *, optimize: bool) -> bytes:
    """Encode as a JPEG carrying no metadata at all."""
    # save() falls back to im.info for some keys (e.g. the JPEG comment), so start from an
    # empty info dict and pass nothing but encoder settings.
    img.info = {}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=optimize)
    return out.getvalue()
