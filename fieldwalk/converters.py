"""URL converters of the routes."""

from flask import Flask
from werkzeug.routing import IntegerConverter


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in routes: ids beyond a 32-bit database integer cannot exist, so they are a 404 (not a
    database overflow error)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """`<int:…>` is the id converter (before any blueprint's routes are registered)."""
    app.url_map.converters["int"] = DatabaseIdConverter
