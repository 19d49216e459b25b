"""The translations of one template render: Jinja's `_`/gettext/ngettext and the `label` and `date` filters
read them from the render's context instead of asking Flask-Babel on every call.

Flask-Babel's Jinja callables look up the request's domain, locale and translations for each string (a list
page of 50 rows calls them a few hundred times). The context processor of fieldwalk.template_filters puts
one RenderTexts into each render's context (made under the locale in force then, so `force_locale` for a
mail still applies); an include sees it, as does a macro imported `with context`. Anything else (a macro
imported without context, a string rendered outside a request) takes Flask-Babel's own path: the same text.
"""

from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from fieldwalk.dates import format_day, reader_locale
from fieldwalk.labels import label_map

KEY = "_render_texts"  # the context variable


class RenderTexts:
    """The translations, the locale's name and the enum labels in force for one render."""

    __slots__ = ("labels", "locale", "translations")

    def __init__(self) -> None:
        self.translations = get_translations()
        self.locale = reader_locale()  # Swedish when Flask-Babel has none (as the date filters say)
        self.labels = label_map(self.locale)

    def label(self, value) -> str:
        """The translated label of an enum member (the value itself for anything else)."""
        text = self.labels.get(value)
        return text if text is not None else str(value)

    def day(self, value) -> str:
        """A calendar day in this render's language."""
        return format_day(value, self.locale)


def of(context: Context) -> RenderTexts:
    """The render's texts; those in force now when the context has none (a macro imported without context)."""
    texts = context.get(KEY)
    return texts if texts is not None else RenderTexts()


def _translations(context: Context):
    return of(context).translations


@pass_context
def gettext(context: Context, string: str, **variables) -> str:
    """Jinja's newstyle gettext (always %-formatted, escaped when autoescaping) on the render's translations."""
    rv = _translations(context).ugettext(string)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    if not variables and "%" not in rv:
        return rv  # what `rv % {}` gives, without Markup's escaping formatter
    return rv % variables


@pass_context
def ngettext(context: Context, singular: str, plural: str, num: int, **variables) -> str:
    """Jinja's newstyle ngettext (`num` among the variables) on the render's translations."""
    variables.setdefault("num", num)
    rv = _translations(context).ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


@pass_context
def label_filter(context: Context, value) -> str:
    """`|label`: the translated label of an enum member, from the render's map."""
    return of(context).label(value)


@pass_context
def date_filter(context: Context, value, _style=None) -> str:
    """`|date`: a calendar day in the render's language (a style argument is accepted and ignored)."""
    return of(context).day(value)


def init_jinja(jinja_env) -> None:
    """Put the render-context versions in place of Flask-Babel's gettext/ngettext and of the two filters
    (after Flask-Babel's init_app, which installs its own)."""
    jinja_env.globals["gettext"] = gettext
    jinja_env.globals["_"] = gettext  # the i18n extension's `_` looks `gettext` up again on every call
    jinja_env.globals["ngettext"] = ngettext
    jinja_env.filters["label"] = label_filter
    jinja_env.filters["date"] = date_filter
