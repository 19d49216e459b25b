"""HTML → PDF with WeasyPrint: no browser, and no network — only data: URIs are fetched."""

from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

# Importing WeasyPrint makes Pillow accept truncated images process-wide; our upload pipeline must keep
# refusing them (a half-uploaded photo is an error, not a grey band). The PDF only embeds our own
# complete thumbnails, so it does not need the setting.
ImageFile.LOAD_TRUNCATED_IMAGES = False


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained page (stylesheet inline, images as data: URIs)."""
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()
