"""Swedish by default, English as a complete second language, switchable per session and user."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from fieldwalk.extensions import db
from fieldwalk.models import Role, User
from tests.conftest import PASSWORD

CATALOG = Path(__file__).resolve().parent.parent / "fieldwalk" / "translations"


def test_swedish_by_default_and_english_on_request(app, client, auth, make_walk):
    user_id = auth.login(Role.COORDINATOR)
    make_walk()
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Trygghetsvandringar" in page
    client.post("/language", data={"language": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Safety walks" in page and "Trygghetsvandringar" not in page
    # The choice is stored on the account, so it follows the user to the next session: a new browser
    # (a fresh client, no cookies) logs in again and gets English without choosing it.
    with app.app_context():
        email = db.session.get(User, user_id).email
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    page = fresh.get("/walks/1/findings/new").get_data(as_text=True)
    assert '<html lang="en">' in page and ("Log finding" in page or "Log a finding" in page)


def test_login_page_in_english_for_session(client):
    client.post("/language", data={"language": "en", "next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_english_catalogue_is_complete_and_matches_the_code(tmp_path):
    """Every string in the code and templates is in the catalogue and translated, and the catalogue holds nothing else
    (run `make extract-messages`)."""
    root = CATALOG.parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--ignore-dirs=.venv node_modules",
            "-o",
            str(pot),
            ".",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as fh:
        template = read_po(fh)
    with open(CATALOG / "en" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        english = read_po(fh)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in english if m.id}
    assert wanted <= set(have), sorted(wanted - set(have))[:10]
    # and no entry the code no longer asks for: a text passed to gettext in a variable is not extracted, and the
    # next `make extract-messages` would drop its translation (the English page would turn Swedish)
    assert set(have) <= wanted, sorted(set(have) - wanted)[:10]
    untranslated = [k for k, m in have.items() if not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []
    assert not [k for k, m in have.items() if m.fuzzy]


def test_no_untranslated_text_in_templates():
    """Text nodes in templates go through _(); only punctuation, symbols and numbers may stand alone."""
    root = Path(__file__).resolve().parent.parent / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}|<script.*?</script>", " ", path.read_text(), flags=re.S)
        for text in re.findall(r">([^<]+)<", source):
            # names: the product, the languages, file formats
            words = re.sub(r"fieldwalk|Svenska|English|CSV|Excel|GeoJSON", "", text)
            if re.search(r"[A-Za-zÅÄÖåäö]{2,}", words):
                offenders.append(f"{path.name}: {text.strip()}")
    assert offenders == []


def test_an_error_page_shows_only_its_own_translated_text(client, auth):
    """The page's error object once reached the form-error banner of every page (`error` in _flashes.html),
    which printed Werkzeug's English "404 Not Found: The requested URL…" above the translated text."""
    auth.login(Role.COORDINATOR)
    for language, heading in (("sv", "Sidan finns inte"), ("en", "Page not found")):
        client.post("/language", data={"language": language, "next": "/"})
        page = client.get("/findings/99999")
        html = page.get_data(as_text=True)
        assert page.status_code == 404 and heading in html
        assert "Not Found:" not in html and "requested URL" not in html and 'id="form-error"' not in html


def test_template_texts_follow_the_locale_in_force_for_each_render(app):
    """`_`, ngettext, `|label` and `|date` read the translations of the render (fieldwalk.render_texts): a
    render inside force_locale (a mail in the recipient's language) is in that language, the next render of
    the same request is Swedish again, and a render without the context processor (Flask-Babel's own path,
    as a macro imported without context takes) gives the same text."""
    from datetime import date

    from flask import render_template_string
    from flask_babel import force_locale

    from fieldwalk.models import ActionStatus

    source = (
        '{% macro m() %}{{ _("Åtgärder") }}{% endmacro %}'
        '{{ _("Åtgärder") }}|{{ ngettext("%(num)d håller med", "%(num)d håller med", 2) }}|'
        "{{ status|label }}|{{ day|date }}|{{ m() }}"
    )
    with app.test_request_context("/"):
        values = {"status": ActionStatus.DONE, "day": date(2026, 12, 2)}
        swedish = render_template_string(source, **values)
        with force_locale("en"):
            english = render_template_string(source, **values)
            plain_english = app.jinja_env.from_string(source).render(**values)
        again = render_template_string(source, **values)
        plain_swedish = app.jinja_env.from_string(source).render(**values)
    assert swedish == again == plain_swedish == "Åtgärder|2 håller med|Åtgärdad|2 dec. 2026|Åtgärder"
    assert english == plain_english == "Action items|2 agree|Resolved|2 Dec 2026|Action items"
