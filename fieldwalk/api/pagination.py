"""Paged API lists: flask-smorest's pagination (``page``, ``page_size`` and the X-Pagination header with the
total and the next page) over a SQL query, plus an RFC 8288 ``Link`` header with the next page's address.

A list answers one page of at most ``page_size`` items (default 50, at most 200) in two statements (the
count and the page) whatever the number of rows; there is never a silent cut."""

from flask import request
from flask_smorest import Blueprint
from flask_smorest.pagination import Page
from sqlalchemy import Select

from fieldwalk.extensions import db
from fieldwalk.links import external_url
from fieldwalk.query_args import link_args

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Any page past this one is past the last page (an OFFSET of 2**31 rows): asked for as this one, so that a
# page number of 19 digits answers an empty page instead of overflowing the database's integer.
LAST_POSSIBLE_PAGE = 2**31 // MAX_PAGE_SIZE


class SelectPage(Page):
    """One page of a SQLAlchemy select, counted and sliced in the database (Flask-SQLAlchemy's paginate)."""

    def __init__(self, collection: Select, page_params):
        self._pagination = db.paginate(
            collection,
            page=min(page_params.page, LAST_POSSIBLE_PAGE),
            per_page=page_params.page_size,
            max_per_page=MAX_PAGE_SIZE,
            error_out=False,
        )
        super().__init__(collection, page_params)

    @property
    def items(self):
        return self._pagination.items

    @property
    def item_count(self):
        return self._pagination.total


class PagedBlueprint(Blueprint):
    """flask-smorest's Blueprint whose paged answers also carry ``Link: <…>; rel="next"`` (and "prev")."""

    def _set_pagination_metadata(self, page_params, result, headers):
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        meta = self._make_pagination_metadata(page_params.page, page_params.page_size, page_params.item_count)
        links = [
            f'<{self._page_url(meta[key], page_params.page_size)}>; rel="{rel}"'
            for key, rel in (("next_page", "next"), ("previous_page", "prev"))
            if key in meta
        ]
        if links:
            headers["Link"] = ", ".join(links)
        return result, headers

    @staticmethod
    def _page_url(page: int, page_size: int) -> str:
        args = {**(request.view_args or {}), **link_args(), "page": page, "page_size": page_size}
        return external_url(request.endpoint or "", **args)  # a paged list is a matched route: it has one

    def _document_pagination_metadata(self, spec, resp_doc):
        super()._document_pagination_metadata(spec, resp_doc)
        resp_doc["headers"]["Link"] = {
            "description": 'The next and previous pages (RFC 8288), e.g. <…?page=2&page_size=50>; rel="next"; '
            "absent on a single page.",
            "schema": {"type": "string"},
        }

    def _prepare_pagination_doc(self, doc, doc_info, **kwargs):
        """flask-smorest adds a bare 422 response for bad page parameters; an operation's own 422 (with its
        example) stays instead."""
        own = {str(status): response for status, response in doc.get("responses", {}).items()}
        doc = super()._prepare_pagination_doc(doc, doc_info, **kwargs)
        responses = doc.get("responses", {})
        for status in list(responses):
            if isinstance(responses[status], str) and str(status) in own:
                responses[status] = own[str(status)]
        return doc

    def paged(self):
        """Page the view's select: ?page= (from 1) and ?page_size= (default 50, at most 200)."""
        return self.paginate(SelectPage, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
