"""HTML → PDF with WeasyPrint: no browser, and no network — only data: URIs are fetched.

The PDF is PDF/UA-1 (tagged, with a structure tree, language, title and alternative texts): a public body's
documents must be accessible (DOS-lagen, EN 301 549). WeasyPrint takes the title from <title>, the language
from <html lang>, author and subject from <meta name="author"/"description">, an image's /Alt from its alt
attribute and an inline SVG's from its <title>.
"""

import re
import unicodedata
from datetime import date
from urllib.parse import quote

from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from fieldwalk.followup.queries import quarter_of

# Importing WeasyPrint makes Pillow accept truncated images process-wide; our upload pipeline must keep
# refusing them (a half-uploaded photo is an error, not a grey band). The PDF only embeds our own
# complete thumbnails, so it does not need the setting.
ImageFile.LOAD_TRUNCATED_IMAGES = False

PDF_VARIANT = "pdf/ua-1"


def render_pdf(html: str) -> bytes:
    """The tagged PDF/UA-1 of a self-contained page (stylesheet inline, images as data: URIs)."""
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(pdf_variant=PDF_VARIANT)


def _slug(text: str) -> str:
    """Lower case words joined by hyphens, letters such as å, ä, ö kept (the RFC 6266 filename* carries them)."""
    return re.sub(r"[\W_]+", "-", text.casefold()).strip("-")[:60].strip("-") or "protokoll"


def protocol_filename(
    *, walk_title: str | None = None, day: date | None = None, start: date | None = None, end: date | None = None
) -> str:
    """The file name that says what the protocol covers: protokoll-<walk>-<date>.pdf for a walk,
    protokoll-2026-K3.pdf for a calendar quarter, protokoll-<start>--<end>.pdf for any other period."""
    if walk_title is not None:
        return f"protokoll-{_slug(walk_title)}-{day.isoformat() if day else ''}".rstrip("-") + ".pdf"
    if start and end:
        if quarter_of(start) == (start, end):
            return f"protokoll-{start.year}-K{(start.month - 1) // 3 + 1}.pdf"
        return f"protokoll-{start.isoformat()}--{end.isoformat()}.pdf"
    return "protokoll.pdf"


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download: an ASCII filename for old clients and filename*=UTF-8'' (RFC 6266)
    with the real name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = fallback.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
