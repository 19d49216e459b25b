"""Triage and items: a handläggare of the chosen party, no due date in the past, a reason for "ingen åtgärd",
one form for a comment with an optional status change, and a party member's list of their open items."""

import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.http_errors import OperationError
from fieldwalk.local_time import local_today
from fieldwalk.models import ActionEvent, ActionItem, ActionStatus, Finding, ResponsibleParty, Role, User
from tests.conftest import PASSWORD

GATA, POLIS = "Gatu- och parkavdelningen", "Polisen, kommunpolis"


def _party_id(app, name):
    with app.app_context():
        return db.session.scalar(select(ResponsibleParty.id).filter_by(name=name))


@pytest.fixture
def setup(app, client, auth, make_walk, category_id):
    """Members of two parties (one of them inactive), a coordinator logged in and two findings."""
    ids = {
        "gata1": auth.make_user(Role.RESPONSIBLE, GATA, name="Göran Gata")[0],
        "gata_gone": auth.make_user(Role.RESPONSIBLE, GATA, name="Gunilla Slutat")[0],
        "polis": auth.make_user(Role.RESPONSIBLE, POLIS, name="Petra Polis")[0],
    }
    with app.app_context():
        db.session.get(User, ids["gata_gone"]).active = False
        db.session.commit()
    auth.login(Role.COORDINATOR)
    walk = make_walk()
    for slug in ("belysning", "klotter"):
        client.post(f"/walks/{walk}/findings/new", data={"category": category_id(slug), "description": slug})
    with app.app_context():
        ids["findings"] = list(db.session.scalars(select(Finding.id).order_by(Finding.id)))
    ids["gata"], ids["polis_party"] = _party_id(app, GATA), _party_id(app, POLIS)
    return ids


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_handlaggare_choices_are_the_active_members_grouped_by_party(client, setup):
    html = client.get(f"/actions/new?finding={setup['findings'][0]}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="assignee".*?</select>', html, re.S).group(0)
    assert f'<optgroup label="{GATA}">' in select_html and "Göran Gata" in select_html
    assert f'data-party="{setup["polis_party"]}"' in select_html and "Petra Polis" in select_html
    assert "Gunilla Slutat" not in select_html  # inactive
    assert "assignee-choices.js" in html


@pytest.mark.parametrize("who", ["polis", "gata_gone"])
def test_handlaggare_outside_the_party_is_refused_and_input_kept(app, client, setup, who):
    response = client.post(
        "/actions/new",
        data={
            "finding": setup["findings"][0],
            "title": "Byt lampor",
            "priority": "high",
            "responsible_party": setup["gata"],
            "assignee": setup[who],
        },
    )
    html = response.get_data(as_text=True)
    if who == "polis":  # offered (under its own party) but not the chosen party's: the operation refuses
        assert response.status_code == 422 and "aktiv medlem av den ansvariga parten" in html
    else:  # an inactive member is not even a choice
        assert response.status_code == 400 and 'aria-invalid="true"' in html
    assert 'value="Byt lampor"' in html
    with app.app_context():
        assert _count(ActionItem) == 0 and _count(ActionEvent) == 0


def test_handlaggare_of_the_party_is_saved_shown_and_follows_the_party(app, client, setup):
    response = client.post(
        "/actions/new",
        data={
            "finding": setup["findings"][0],
            "title": "Byt lampor",
            "priority": "high",
            "responsible_party": setup["gata"],
            "assignee": setup["gata1"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(ActionItem))
        assert item.assignee_id == setup["gata1"]
        item_id = item.id
    assert "Göran Gata" in client.get(f"/actions/{item_id}").get_data(as_text=True)
    edit = client.get(f"/actions/{item_id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{setup["gata1"]}"|<option value="{setup["gata1"]}" selected', edit)
    # Without a handläggare no form can give a person who is not the party's; nor with a new party.
    refused = client.post(
        f"/actions/{item_id}/edit",
        data={
            "title": "Byt lampor",
            "priority": "high",
            "responsible_party": setup["gata"],
            "assignee": setup["polis"],
        },
    )
    assert refused.status_code == 422
    # Handing the item to the police without naming anyone: Göran does not follow it there.
    moved = client.post(
        f"/actions/{item_id}/edit",
        data={"title": "Byt lampor", "priority": "high", "responsible_party": setup["polis_party"], "assignee": "0"},
    )
    assert moved.status_code == 302
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.responsible_party_id == setup["polis_party"] and item.assignee_id is None


def test_a_new_party_by_operation_drops_the_old_partys_handlaggare(app, setup):
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        item = actions.create_action_item(
            [db.session.get(Finding, setup["findings"][0])],
            actor,
            ActionItemInput(
                title="x",
                responsible_party=db.session.get(ResponsibleParty, setup["gata"]),
                assignee=db.session.get(User, setup["gata1"]),
            ),
        )
        actions.update_action_item(
            item, actor, responsible_party=db.session.get(ResponsibleParty, setup["polis_party"])
        )
        assert item.assignee is None
        with pytest.raises(OperationError) as refused:
            actions.update_action_item(item, actor, assignee=db.session.get(User, setup["gata1"]))
        assert refused.value.status == 422
        with pytest.raises(OperationError):  # an inactive member of the right party is refused too
            actions.update_action_item(
                item,
                actor,
                responsible_party=db.session.get(ResponsibleParty, setup["gata"]),
                assignee=db.session.get(User, setup["gata_gone"]),
            )


def test_due_date_in_the_past_is_refused_on_create_and_on_change(app, client, setup):
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    base = {"finding": setup["findings"][0], "title": "Byt lampor", "priority": "high"}
    refused = client.post("/actions/new", data={**base, "due_date": yesterday})
    assert refused.status_code == 422 and "redan har passerat" in refused.get_data(as_text=True)
    assert f'value="{yesterday}"' in refused.get_data(as_text=True)
    with app.app_context():
        assert _count(ActionItem) == 0
    assert client.post("/actions/new", data={**base, "due_date": local_today().isoformat()}).status_code == 302
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    edit = {"title": "Byt lampor", "priority": "high", "responsible_party": "0"}
    assert client.post(f"/actions/{item_id}/edit", data={**edit, "due_date": yesterday}).status_code == 422
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.due_date == local_today()
        item.due_date = local_today() - timedelta(days=10)  # it became overdue
        db.session.commit()
    # An overdue item can still be edited without moving its date; the date itself stays.
    kept = (local_today() - timedelta(days=10)).isoformat()
    assert (
        client.post(f"/actions/{item_id}/edit", data={**edit, "title": "Byt alla lampor", "due_date": kept}).status_code
        == 302
    )


def test_today_is_the_kommuns_day(app):
    with app.app_context():
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Pacific/Kiritimati"  # UTC+14: often a day ahead of UTC
        try:
            assert local_today() == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Stockholm"
        assert local_today() == datetime.now(ZoneInfo("Europe/Stockholm")).date()


def test_no_action_needs_a_reason_on_the_finding_page(app, client, setup):
    finding = setup["findings"][0]
    response = client.post(f"/findings/{finding}/no-action", data={"note": "  "})
    assert response.status_code == 422 and "Skriv varför ingen åtgärd behövs." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Finding, finding).no_action is False


@pytest.fixture
def party_item(app, client, auth, setup):
    """An assigned item of Gatu- och park, with the client logged in as Göran of that party."""
    client.post(
        "/actions/new",
        data={
            "finding": setup["findings"][0],
            "title": "Byt lampor",
            "priority": "high",
            "responsible_party": setup["gata"],
        },
    )
    client.post(
        "/actions/new",
        data={
            "finding": setup["findings"][1],
            "title": "Sanera",
            "priority": "low",
            "responsible_party": setup["gata"],
        },
    )
    with app.app_context():
        item_id, done_id = db.session.scalars(select(ActionItem.id).order_by(ActionItem.id)).all()
        coordinator = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        actions.transition(db.session.get(ActionItem, done_id), ActionStatus.DONE, coordinator)
        db.session.commit()
        email = db.session.get(User, setup["gata1"]).email
    auth.logout()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return item_id, done_id


def test_item_page_has_one_form_with_the_allowed_moves(client, party_item):
    item_id, _done = party_item
    html = client.get(f"/actions/{item_id}").get_data(as_text=True)
    assert (
        html.count("<textarea") == 1
        and html.count('type="file"') == 1
        and html.count("<form") - html.count('class="inline-form"') - html.count('role="search"') >= 1
    )
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    moves = re.search(r'<select[^>]*name="to".*?</select>', html, re.S).group(0)
    assert "Ändra status (valfritt)" in html
    assert re.findall(r'value="(\w*)"', moves) == ["", "in_progress", "done"]  # not closed, rejected, …


def test_party_member_comments_and_moves_in_one_go(app, client, party_item):
    item_id, _done = party_item
    response = client.post(
        f"/actions/{item_id}/comment", data={"text": "Beställt hos entreprenör", "to": "in_progress"}
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.status == ActionStatus.IN_PROGRESS
        assert item.events[-1].text == "Beställt hos entreprenör" and item.events[-1].to_status == item.status
    forbidden = client.post(f"/actions/{item_id}/comment", data={"text": "Klart och verifierat", "to": "closed"})
    assert forbidden.status_code in (403, 409) and "Klart och verifierat" in forbidden.get_data(as_text=True)
    internal = client.post(f"/actions/{item_id}/comment", data={"text": "Notering", "to": "done", "internal": "y"})
    assert internal.status_code == 422 and "Notering" in internal.get_data(as_text=True)
    assert client.post(f"/actions/{item_id}/comment", data={"text": "Bara en kommentar"}).status_code == 302
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.status == ActionStatus.IN_PROGRESS
        assert [e.text for e in item.events][-2:] == ["Beställt hos entreprenör", "Bara en kommentar"]


def test_party_members_list_defaults_to_their_open_items(client, party_item):
    item_id, done_id = party_item
    html = client.get("/actions/").get_data(as_text=True)
    assert f'href="/actions/{item_id}"' in html and f'href="/actions/{done_id}"' not in html
    assert re.search(r'<details class="filters-box">\s*<summary>Filter: Öppna', html)  # folded, says what it shows
    assert 'href="/exports/actions.csv?status=open"' in html.replace("&amp;", "&") or "status=open" in html
    everything = client.get("/actions/?status=").get_data(as_text=True)
    assert f'href="/actions/{item_id}"' in everything and f'href="/actions/{done_id}"' in everything
    done = client.get("/actions/?status=done").get_data(as_text=True)
    assert f'href="/actions/{done_id}"' in done and f'href="/actions/{item_id}"' not in done


def test_party_members_default_holds_with_other_arguments_and_the_download_matches(client, party_item):
    """?page=1 (or any argument that is no filter) switched the default off for the list, while its download
    links, which carry the filters only, got the default back: the list and its file differed (a tester)."""
    item_id, done_id = party_item
    page = client.get("/actions/?page=1&utm_source=mail").get_data(as_text=True)
    assert f'href="/actions/{item_id}"' in page and f'href="/actions/{done_id}"' not in page
    assert 'href="/exports/actions.csv?status=open"' in page.replace("&amp;", "&")
    csv = client.get("/exports/actions.csv?status=open").get_data(as_text=True)
    assert "Byt lampor" in csv and "Sanera" not in csv


def test_staff_list_is_unfolded_and_unfiltered(app, client, setup):
    html = client.get("/actions/").get_data(as_text=True)
    assert '<details class="filters-box" open>' in html


def test_a_no_action_note_over_the_limit_is_said_at_the_field_with_the_text_kept(app, client, setup):
    """6,000 characters where 2,000 are allowed: the finding's page again with the length message at the
    note and what was typed, not a bare "Bad request"."""
    finding = setup["findings"][0]
    note = "Marken är privat. " * 334  # 6,012 characters
    response = client.post(f"/findings/{finding}/no-action", data={"note": note})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page and "2000" in page and note.strip() in page
    with app.app_context():
        assert db.session.get(Finding, finding).no_action is False
