"""The action list's filters (walk, status, category, party, overdue), read from the query string.

The list and its exports read the same ActionFilters, so a download holds exactly the items the list shows.
Plain objects rather than a WTForms form: building, validating and rendering the four selects through WTForms
was about a third of a request of the list (docs/benchmarks.md). A select's value is checked against its
options as WTForms' SelectField with Optional() checks it (an empty value chooses nothing; a value that is no
id, or none of the options, is an error with the same message), and the selects render the same HTML through
the `field` macro (templates/macros/forms.html), which calls a filter as it calls a form field:
`f.label()`, `f(aria_describedby=…, aria_invalid=…)`, `f.id`, `f.errors`.
"""

from collections.abc import Callable, Iterable

from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from fieldwalk.actions.queries import party_choices
from fieldwalk.findings.queries import category_choices
from fieldwalk.form_fields import NOT_A_CHOICE
from fieldwalk.models import ActionStatus, User
from fieldwalk.permissions import is_party_member
from fieldwalk.query_args import choice_id, shown_value
from fieldwalk.render_texts import RenderTexts
from fieldwalk.walks.queries import walk_choices

OPEN = "open"  # the status filter's value for every open status at once
# The walk filter offers the newest walks (and the chosen one): an older walk's page links to its items.
FILTER_WALKS = 30


class _Option:
    """An option of a select (read as the shared choice helpers' SelectChoice is: .value, .label)."""

    __slots__ = ("label", "value")

    def __init__(self, value, label: str) -> None:
        self.value, self.label = value, label


def _attribute(name: str, value) -> str:
    return "" if value is False else f' {name}="{escape(value)}"'


class _Filter:
    """What a select and the checkbox share: the name (also the id), the label and the values given."""

    def __init__(self, name: str, label: str, args) -> None:
        self.name = self.id = name
        self.text = label
        self.raw: list[str] = args.getlist(name)

    def label(self) -> Markup:
        return Markup(f'<label for="{self.id}">{escape(self.text)}</label>')


class SelectFilter(_Filter):
    """One select of the filters. `options` are (value, label) pairs, each value of the filter's type (an id
    with 0 for "Alla", or a status); `data` is the value given, read by `parse` (None when absent or unreadable);
    `errors` what is wrong with it, in the request's language."""

    def __init__(self, name: str, label: str, args, parse: Callable[[str], object]) -> None:
        super().__init__(name, label, args)
        self.data = None
        self.errors: list[str] = []
        self.options: list[tuple[object, str]] = []
        if self.raw:
            try:
                self.data = parse(self.raw[0])
            except ValueError:
                message = _(
                    "”%(value)s” är inget giltigt val. Välj ett av alternativen i listan.",
                    value=shown_value(self.raw[0]),
                )
                self.errors.append(message)

    def offer(self, options: Iterable) -> "SelectFilter":
        """The options to choose among (SelectChoice-like: .value, .label); a value given that is none of them
        is an error, while an empty one chooses nothing and is none."""
        self.options = [(option.value, option.label) for option in options]
        if self.raw and not self.raw[0].strip():
            self.errors = []
        elif self.raw and not self.errors and all(value != self.data for value, _label in self.options):
            self.errors.append(str(NOT_A_CHOICE))
        return self

    @property
    def value(self):
        """The value to filter by: None when none was given or it is not valid."""
        return None if self.errors else self.data

    def chosen_label(self) -> str:
        """The label of the option filtered by ("" when the filter filters nothing: none given, "Alla", not valid)."""
        value = self.value
        return next((str(label) for option, label in self.options if option == value), "") if value else ""

    def __call__(self, aria_describedby=False, aria_invalid=False) -> Markup:
        """The select with its options, the given one selected (attributes in WTForms' order, by name)."""
        data = self.data
        options = "".join(
            f'<option {"selected " if value == data else ""}value="{escape(value)}">{escape(label or value)}</option>'
            for value, label in self.options
        )
        return Markup(
            f"<select{_attribute('aria-describedby', aria_describedby)}{_attribute('aria-invalid', aria_invalid)}"
            f' id="{self.id}" name="{self.name}">{options}</select>'
        )


class CheckboxFilter(_Filter):
    """The overdue checkbox: on when given with any value but "" and "false" (as WTForms' BooleanField)."""

    def __init__(self, name: str, label: str, args) -> None:
        super().__init__(name, label, args)
        self.data = bool(self.raw) and self.raw[0] not in ("", "false")

    def __call__(self) -> Markup:
        value = self.raw[0] if self.raw else "y"
        checked = "checked " if self.data else ""
        return Markup(f'<input {checked}id="{self.id}" name="{self.name}" type="checkbox" value="{escape(value)}">')


class ActionFilters:
    """The list's filters read from the query string, checked against the choices the user has: the newest
    walks the user may see (and the chosen one), every status, the active categories and parties."""

    NAMES = ("walk", "status", "category", "party", "overdue")

    def __init__(self, args, user: User) -> None:
        if is_party_member(user) and not any(name in args for name in self.NAMES):
            # A party's member opens the list to see what is left to do: their party's open items (also on
            # ?page=2 or with any other argument that is no filter, as the download links, which carry the
            # filters only, have it).
            args = MultiDict(args)
            args["status"] = OPEN
        self.used_args = args  # what the list and its download links filter by (the default included)
        texts = RenderTexts()  # the request's catalogue, locale and labels, looked up once
        _ = texts.translations.ugettext  # (named so that pybabel finds the texts)
        everything = _("Alla")
        self.walk = SelectFilter("walk", _("Vandring"), args, choice_id)
        chosen = self.walk.data if isinstance(self.walk.data, int) else None
        self.walk.offer(
            [_Option(0, everything)] + [_Option(id, title) for id, title in walk_choices(user, FILTER_WALKS, chosen)]
        )
        self.status = SelectFilter("status", _("Status"), args, str).offer(
            [_Option("", everything), _Option(OPEN, _("Öppna (ny, tilldelad, pågår)"))]
            + [_Option(status.value, texts.label(status)) for status in ActionStatus]
        )
        self.category = SelectFilter("category", _("Kategori"), args, choice_id)
        self.category.offer(category_choices(everything, texts.locale))
        self.party = SelectFilter("party", _("Ansvarig part"), args, choice_id).offer(party_choices(everything))
        self.overdue = CheckboxFilter("overdue", _("Bara försenade"), args)

    def link_args(self) -> dict[str, str]:
        """The filters as given, for the pager and the download links (nothing else of the query string)."""
        return {name: value for name, value in self.used_args.items() if name in self.NAMES}

    def summary(self) -> list[str]:
        """The labels of what the list is filtered by, in the query string's order, for the filter box's summary
        line: each select's chosen option and the overdue checkbox."""
        labels = [
            (self.overdue.text if self.overdue.data else "")
            if name == "overdue"
            else getattr(self, name).chosen_label()
            for name in dict.fromkeys(self.used_args)
            if name in self.NAMES
        ]
        return [label for label in labels if label]

    def query_filters(self) -> dict:
        """The filters as keyword arguments of action_items_query; a value that is not valid is ignored."""
        status = self.status.data if self.status.data in {s.value for s in ActionStatus} else None
        return {
            "walk_id": self.walk.value,
            "status": ActionStatus(status) if status else None,
            "open_only": self.status.data == OPEN,
            "category_id": self.category.value,
            "party_id": self.party.value,
            "overdue": self.overdue.data,
        }
