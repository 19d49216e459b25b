"""Reads of action items and responsible parties that several views share."""

from datetime import date

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it

from fieldwalk.extensions import db
from fieldwalk.models import (
    LIST_ORDER,
    ActionEvent,
    ActionItem,
    ActionStatus,
    Finding,
    ResponsibleParty,
    Role,
    User,
    Walk,
)
from fieldwalk.permissions import can_view_action, is_party_member, is_staff

# What an item's page shows (its findings as cards, its timeline with photos), loaded with the item, so the
# page runs the same statements however long the timeline is.
WITH_FINDINGS_AND_EVENTS = (
    selectinload(ActionItem.findings).options(
        selectinload(Finding.photos), selectinload(Finding.action_items), selectinload(Finding.category)
    ),
    selectinload(ActionItem.events).selectinload(ActionEvent.photos),
    selectinload(ActionItem.walk),
    selectinload(ActionItem.responsible_party),
    selectinload(ActionItem.assignee),
)


class _Named:
    """A walk, party or handläggare as a list row shows it: its title or name."""

    __slots__ = ("name", "title")

    def __init__(self, text: str) -> None:
        self.name = self.title = text


class ListRow:
    """One row of the list page (what actions/markup.py's action_rows reads of an item), from plain columns:
    no ORM object, no identity map."""

    __slots__ = (
        "agreement_count",
        "assignee",
        "due_date",
        "id",
        "priority",
        "responsible_party",
        "status",
        "title",
        "walk",
    )

    def __init__(self, row) -> None:
        self.id, self.title, self.status, self.priority, self.due_date = row[0], row[1], row[2], row[3], row[4]
        self.walk = _Named(row[5])
        self.responsible_party = _Named(row[6]) if row[6] is not None else None
        self.assignee = _Named(row[7]) if row[7] is not None else None
        self.agreement_count = row[8] or 0

    def is_overdue(self, today: date) -> bool:
        return ActionItem.overdue(self.status, self.due_date, today)


_ASSIGNEE = aliased(User)  # the handläggare of a list row (users is joined once more for them)
# The columns a list row shows, in the list's order: made once, the filters of a request added with where()
# (building it from the filtered select of items, and keying that anew for SQLAlchemy's compiled cache, was
# about a third of reading a page's rows).
_LIST_ROWS = (
    select(
        ActionItem.id,
        ActionItem.title,
        ActionItem.status,
        ActionItem.priority,
        ActionItem.due_date,
        Walk.title,
        ResponsibleParty.name,
        _ASSIGNEE.name,
        ActionItem.agreement_total,
    )
    .join_from(ActionItem, Walk, ActionItem.walk_id == Walk.id)
    .outerjoin(ResponsibleParty, ActionItem.responsible_party_id == ResponsibleParty.id)
    .outerjoin(_ASSIGNEE, ActionItem.assignee_id == _ASSIGNEE.id)
    .order_by(*LIST_ORDER)
)
_COUNT_ITEMS = select(func.count()).select_from(ActionItem)  # count(*): SQLite counts from an index, not the rows


class ListRowPagination(Pagination):
    """db.paginate's page of the list, its 50 rows read as plain columns (ListRow) and counted on the items
    alone; `select` is action_items_query(..., with_findings=False)'s filtered select of items, of which the
    rows and the count take the filters (its WHERE clause)."""

    def _filtered(self, query: Select) -> Select:
        filters = self._query_args["select"].whereclause
        return query if filters is None else query.where(filters)

    def _query_items(self) -> list[ListRow]:
        rows = self._filtered(_LIST_ROWS).limit(self.per_page).offset(self._query_offset)
        return [ListRow(row) for row in self._query_args["session"].execute(rows)]

    def _query_count(self) -> int:
        return self._query_args["session"].execute(self._filtered(_COUNT_ITEMS)).scalar_one()


def get_action_or_404(item_id: int, user: User, options=()) -> ActionItem:
    """The action item, or 404 when it does not exist or the user may not see it; ``options`` are loader
    options for what the caller will read (e.g. WITH_FINDINGS_AND_EVENTS)."""
    item = db.session.get(ActionItem, item_id, options=options)
    if item is None or not can_view_action(user, item):
        abort(404)
    return item


def active_parties() -> list[ResponsibleParty]:
    """Responsible parties to choose from, by name."""
    return list(
        db.session.scalars(
            select(ResponsibleParty).where(ResponsibleParty.active.is_(True)).order_by(ResponsibleParty.name)
        )
    )


# Made once: a statement built anew is also keyed anew for SQLAlchemy's compiled cache on each execution.
_ACTIVE_PARTY_NAMES = (
    select(ResponsibleParty.id, ResponsibleParty.name)
    .where(ResponsibleParty.active.is_(True))
    .order_by(ResponsibleParty.name)
)


def party_choices(empty_label: str) -> list[SelectChoice]:
    """The active parties as select choices, with 0 standing for none (labelled empty_label); reads their ids
    and names only (every form with a party field builds these, the action list's filter on each request)."""
    rows = db.session.execute(_ACTIVE_PARTY_NAMES)
    return [SelectChoice(0, empty_label)] + [SelectChoice(id, name) for id, name in rows]


def party_members() -> list[tuple[User, ResponsibleParty]]:
    """The active members (handläggare) of the active parties, each with their party, by party and name."""
    return list(
        db.session.execute(
            select(User, ResponsibleParty)
            .join(ResponsibleParty, User.responsible_party_id == ResponsibleParty.id)
            .where(User.active.is_(True), User.role == Role.RESPONSIBLE, ResponsibleParty.active.is_(True))
            .order_by(ResponsibleParty.name, User.name, User.id)
        )
    )


def assignee_choices(empty_label: str) -> list[SelectChoice]:
    """The handläggare to choose from, grouped by party (each option knows its party, so the page can
    offer only the chosen party's people); 0 stands for nobody."""
    return [SelectChoice(0, empty_label)] + [
        SelectChoice(u.id, u.name, render_kw={"data-party": str(party.id)}, optgroup=party.name)
        for u, party in party_members()
    ]


def get_user(user_id: int | None) -> User | None:
    """The person a select field chose (0 or None: nobody)."""
    return db.session.get(User, user_id) if user_id else None


def get_party(party_id: int | None) -> ResponsibleParty | None:
    """The party a select field chose (0 or None: no party)."""
    return db.session.get(ResponsibleParty, party_id) if party_id else None


def action_items_query(
    user: User,
    *,
    walk_id: int | None = None,
    status: ActionStatus | None = None,
    category_id: int | None = None,
    party_id: int | None = None,
    overdue: bool = False,
    open_only: bool = False,
    today: date | None = None,
    with_findings: bool = True,
) -> Select:
    """The filtered list of action items the user may see, most urgent first. The findings come by
    selectinload (one statement per 500 items), which also serves an export reading the list in chunks;
    with_findings=False gives the bare filtered select, without loader options (the list page reads its rows'
    columns instead: ListRowPagination)."""
    query = select(ActionItem).order_by(*LIST_ORDER)  # served by ix_action_items_list_order
    if with_findings:
        # What each item shows comes with it: the walk, the party and the handläggare joined, the findings (how
        # many agree with them) in one more statement.
        query = query.options(
            joinedload(ActionItem.walk),
            joinedload(ActionItem.responsible_party),
            joinedload(ActionItem.assignee),
            selectinload(ActionItem.findings),
        )
    if is_party_member(user):
        query = query.where(ActionItem.responsible_party_id == user.responsible_party_id)
    elif not is_staff(user):
        query = query.where(false())  # anyone else sees none (the view refuses them anyway)
    if walk_id:
        query = query.where(ActionItem.walk_id == walk_id)
    if status:
        query = query.where(ActionItem.status == status)
    if open_only:
        query = query.where(ActionItem.status.in_(ActionStatus.OPEN))
    if category_id:
        query = query.where(ActionItem.findings.any(Finding.category_id == category_id))
    if party_id:
        query = query.where(ActionItem.responsible_party_id == party_id)
    if overdue:
        query = query.where(ActionItem.status.in_(ActionStatus.OPEN), ActionItem.due_date < (today or date.today()))
    return query
