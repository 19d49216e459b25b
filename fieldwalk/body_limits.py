"""How large a request body may be, by its kind."""

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


def init_app(app: Flask) -> None:
    """Every request of the app is a BodyLimitedRequest."""
    app.request_class = BodyLimitedRequest
