"""An action item as pages show it, written in Python: its badges, its status line and its row in a list.

The one place for this markup (item pages, the list, the follow-up step, the meeting agenda and the protocol,
HTML and PDF). Templates call `action_badges(item)`, `action_status(item)` and `action_rows(items)`; each reads
the render's translations (fieldwalk.render_texts) and `today` from the template context, as a macro imported
`with context` did. A list of 50 rows is one call instead of ~550 Jinja macro calls and template contexts.
Every value is escaped with markupsafe; the translations are Markup, as Jinja's newstyle gettext makes them.
"""

from collections.abc import Iterable
from datetime import date

from flask import url_for
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from fieldwalk import render_texts
from fieldwalk.models import ActionItem


class _Texts:
    """The render's texts (fieldwalk.render_texts) as Markup, as Jinja's newstyle gettext gives them to a
    template; each text, label and due date looked up once per render (a list's 50 rows ask for the same few)."""

    __slots__ = ("_counted", "_days", "_labels", "_texts", "_translated")

    def __init__(self, context: Context) -> None:
        self._texts = render_texts.of(context)
        self._translated: dict[str, Markup] = {}
        self._labels: dict = {}
        self._days: dict[date, Markup] = {}
        self._counted: dict[tuple[str, int], Markup] = {}

    def gettext(self, string: str) -> Markup:
        text = self._translated.get(string)
        if text is None:
            text = self._translated[string] = Markup(self._texts.translations.ugettext(string))
        return text

    def ngettext(self, singular: str, plural: str, num: int) -> Markup:
        text = self._counted.get((singular, num))
        if text is None:
            translated = self._texts.translations.ungettext(singular, plural, num)
            text = self._counted[(singular, num)] = Markup(translated) % {"num": num}
        return text

    def label(self, member) -> Markup:
        """An enum member's label, escaped."""
        text = self._labels.get(member)
        if text is None:
            text = self._labels[member] = escape(self._texts.label(member))
        return text

    def due(self, day: date) -> Markup:
        """The due date line, "klart senast <day>", in the render's language."""
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = self.gettext("klart senast %(d)s") % {"d": self._texts.day(day)}
        return text


_ID_MARKER = 8_675_309_201  # an id no page has, to find where the id goes in the item's link


def _today(context: Context) -> date:
    today = context.get("today")
    return today if isinstance(today, date) else date.today()


def _badges(item: ActionItem, texts: _Texts, overdue: bool) -> str:
    status = item.status
    html = f'<span class="badge status-{escape(status.value)}">{texts.label(status)}</span>\n'
    if overdue:
        html += f'<span class="badge overdue-badge">⚠ {texts.gettext("Försenad")}</span>'
    return html


def _status(item: ActionItem, texts: _Texts, overdue: bool, with_agreements: bool) -> str:
    html = (
        f'<p class="meta">\n  {_badges(item, texts, overdue)}\n'
        f"  <span>{texts.gettext('Prioritet')}: {texts.label(item.priority)}</span>\n"
    )
    if with_agreements:
        count = item.agreement_count
        if count:
            agree = texts.ngettext("%(num)d håller med", "%(num)d håller med", count)
            html += f'  <span class="badge agreements">{agree}</span>\n'
    return html + "</p>"


def _row(item: ActionItem, href: str, texts: _Texts, today: date) -> str:
    overdue = item.is_overdue(today)
    party = item.responsible_party
    who = str(escape(party.name) if party else texts.gettext("Ingen ansvarig ännu"))  # str: no escaping on +
    if item.assignee:
        who += f" ({escape(item.assignee.name)})"
    due = f"\n    · {texts.due(item.due_date)}" if item.due_date else ""
    return (
        f'<li class="card action-row{" overdue" if overdue else ""}">\n'
        f'  <h2><a href="{href}">{escape(item.title)}</a></h2>\n'
        f"  {_status(item, texts, overdue, with_agreements=True)}\n"
        f'  <p class="meta">\n    {who}{due}\n    · {escape(item.walk.title)}\n  </p>\n</li>'
    )


@pass_context
def action_badges(context: Context, item: ActionItem) -> Markup:
    """The status badge and, when the item is late, the overdue badge."""
    return Markup(_badges(item, _Texts(context), item.is_overdue(_today(context))))


@pass_context
def action_status(context: Context, item: ActionItem, with_agreements: bool = False) -> Markup:
    """The status, overdue flag and priority under an item's title; with_agreements: also how many agree."""
    return Markup(_status(item, _Texts(context), item.is_overdue(_today(context)), with_agreements))


@pass_context
def action_rows(context: Context, items: Iterable[ActionItem]) -> Markup:
    """The list's rows, each linking to the item's page."""
    texts, today = _Texts(context), _today(context)
    # One url_for for the page instead of one per row: the item's id is the route's only (int) part, and the
    # int converter writes it as str(id), so the link is the same with any id put in the marker's place.
    before, _marker, after = map(escape, url_for("actions.detail", item_id=_ID_MARKER).partition(str(_ID_MARKER)))
    return Markup("".join(_row(item, f"{before}{item.id}{after}", texts, today) for item in items))


def init_jinja(jinja_env) -> None:
    """Make the three callable from every template."""
    jinja_env.globals.update(action_badges=action_badges, action_status=action_status, action_rows=action_rows)
