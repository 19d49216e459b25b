"""How large a request body may be, by its kind, and where an uploaded file is held while it is read."""

import io
from typing import IO

from flask import Flask, Request, current_app


class BodyLimitedRequest(Request):
    """Only multipart bodies (forms with photos) may be as large as MAX_CONTENT_LENGTH; JSON and other
    bodies are text and get MAX_FORM_MEMORY_SIZE, so a JSON post cannot make the app hold 200 MB."""

    @property
    def max_content_length(self) -> int | None:
        """MAX_CONTENT_LENGTH for multipart/form-data, at most MAX_FORM_MEMORY_SIZE for anything else."""
        limit = Request.max_content_length.fget(self)  # type: ignore[attr-defined]
        if self._max_content_length is not None or limit is None or self.mimetype == "multipart/form-data":
            return limit
        text_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
        return limit if text_limit is None else min(limit, text_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """A body no larger than one photo at PHOTO_MAX_BYTES (a photo post, a capture with a photo or two)
        keeps its file in memory: the photo is read into memory to be processed anyway, and werkzeug's
        default, a temporary file past 500 KB, wrote every upload to disk and read it back (about 1.5 ms of
        a 3 MB photo's 4 ms of parsing, docs/benchmarks.md). Larger bodies (a form with many photos) still go
        to a temporary file each, so the app never holds such a form in memory."""
        if total_content_length is not None and total_content_length <= current_app.config["PHOTO_MAX_BYTES"]:
            return io.BytesIO()
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)


def init_app(app: Flask) -> None:
    """Every request of the app is a BodyLimitedRequest."""
    app.request_class = BodyLimitedRequest
