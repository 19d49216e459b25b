"""HTML → PDF with WeasyPrint: no browser, and no network — only data: URIs are fetched.

This module imports WeasyPrint and nothing of the app: the processes that lay out the parts of a large
protocol at once (`Processes`, followup/protocol_files.py) run it alone, `python -m fieldwalk.followup.layout`,
so that each holds WeasyPrint and the one part it lays out.

The PDF is PDF/UA-1 (tagged, with a structure tree, language, title and alternative texts): a public body's
documents must be accessible (DOS-lagen, EN 301 549). WeasyPrint takes the title from <title>, the language
from <html lang>, author and subject from <meta name="author"/"description">, an image's /Alt from its alt
attribute and an inline SVG's from its <title>.
"""

import ctypes
import gc
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from fieldwalk.followup.pdf import compact_part

# Importing WeasyPrint makes Pillow accept truncated images process-wide; our upload pipeline must keep
# refusing them (a half-uploaded photo is an error, not a grey band). The PDF only embeds our own
# complete thumbnails, so it does not need the setting.
ImageFile.LOAD_TRUNCATED_IMAGES = False

PDF_VARIANT = "pdf/ua-1"


def _document(html: str):
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).render()


def render_pdf(html: str) -> bytes:
    """The tagged PDF/UA-1 of a self-contained page (stylesheet inline, images as data: URIs)."""
    return _document(html).write_pdf(pdf_variant=PDF_VARIANT)


def lay_out(html: str, target: str) -> int:
    """render_pdf of html written to the file target, the memory of its layout given back; returns its
    number of pages."""
    document = _document(html)
    del html
    pages = len(document.pages)
    document.write_pdf(target, pdf_variant=PDF_VARIANT)
    del document
    return_freed_memory()
    return pages


def lay_out_part(html: str, target: str) -> int:
    """lay_out of one part of a PDF laid out in parts, its structure made compact for the join
    (followup.pdf.compact_part); returns its number of pages."""
    pages = lay_out(html, target)
    compact_part(target)
    return_freed_memory()
    return pages


def lay_out_page_numbers(stylesheet: str, first: int, last: int, total: int, target: str) -> None:
    """The file target: pages first … last of a document of total pages, each with nothing but its number,
    "first / total", where the stylesheet's @page rule puts it (report.css: at the bottom right, in its
    typeface and size, as WeasyPrint numbers a document laid out at once). A protocol laid out in parts is
    numbered with these once its number of pages is known (followup.pdf.join_tagged_pdfs). Not tagged: the
    join marks each number an artifact (pagination), as a screen reader should skip it."""
    html = (
        f"<!doctype html><html><style>{stylesheet}\n"
        # the same place and look, the number and total given; nothing painted but the number
        f'@page {{ @bottom-right {{ content: counter(page) " / {total}"; }} }}\n'
        f"@page:first {{ counter-reset: page {first}; }}\n"
        "html, body { background: none !important; } div { break-before: page; }</style>"
        f'<body class="pdf">{"<div></div>" * (last - first + 1)}</body></html>'
    )
    HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(target)
    return_freed_memory()


def return_freed_memory() -> None:
    """Give the memory a layout freed back to the system (glibc keeps freed blocks for the process otherwise):
    the next part, and the join at the end, start from the same low point."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator decides
        pass


_TASKS: dict[str, Callable[..., Any]] = {
    "lay_out": lay_out,
    "lay_out_part": lay_out_part,
    "lay_out_page_numbers": lay_out_page_numbers,
}


class Processes:
    """`count` processes running this module, each laying out one task at a time; submit(task, *args) gives a
    Future of the task's result. Processes of their own, not multiprocessing's: its spawn runs the parent's
    main script again in each child (pytest's, flask's), and a fork must not copy a web process's threads."""

    def __init__(self, count: int) -> None:
        self._threads = ThreadPoolExecutor(count, thread_name_prefix="pdf-layout")  # one process per thread
        self._local = threading.local()
        self._children: list[subprocess.Popen] = []

    def submit(self, task: str, *args) -> Future:
        return self._threads.submit(self._run, task, args)

    def _run(self, task: str, args: tuple):
        child = getattr(self._local, "child", None)
        if child is None:
            command = [sys.executable, "-m", "fieldwalk.followup.layout"]
            child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, encoding="utf-8")
            self._local.child = child
            self._children.append(child)
        assert child.stdin is not None and child.stdout is not None  # both are pipes
        child.stdin.write(json.dumps({"task": task, "args": args}) + "\n")
        child.stdin.flush()
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"The PDF layout process ended (exit status {child.wait()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *_exc) -> None:
        """The tasks not begun are dropped, the ones running finish; then the processes end."""
        self._threads.shutdown(cancel_futures=True)
        for child in self._children:
            child.stdin.close()  # type: ignore[union-attr]  # its loop ends
        for child in self._children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            child.stdout.close()  # type: ignore[union-attr]


def _serve() -> None:
    """A layout process: one task per line of JSON on stdin, its result (or error) as one line on stdout."""
    replies, sys.stdout = sys.stdout, sys.stderr  # nothing else a library prints gets into the replies
    for line in sys.stdin:
        task = json.loads(line)
        try:
            reply = {"result": _TASKS[task["task"]](*task["args"])}
        except Exception as error:
            reply = {"error": f"{error.__class__.__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    _serve()
