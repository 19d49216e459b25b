"""HTML → PDF with WeasyPrint: no browser, and no network — only data: URIs are fetched."""

from weasyprint import HTML
from weasyprint.urls import URLFetcher


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained page (stylesheet inline, images as data: URIs)."""
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()
