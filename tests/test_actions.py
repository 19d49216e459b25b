"""Action items: creation rules, list filters, the overdue marker, comments with photos, edits on record."""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import ActionEvent, ActionItem, EventKind, Finding, ResponsibleParty, Role
from fieldwalk.timeline import event_text
from tests.helpers import jpeg_bytes


@pytest.fixture
def two_findings(app, client, auth, make_walk, category_id):
    """A coordinator logged in, a walk with a lighting and a graffiti finding; returns their ids."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    for slug, text in (("belysning", "Mörk gång"), ("klotter", "Klotter på muren")):
        client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(slug), "description": text})
    with app.app_context():
        return walk_id, list(db.session.scalars(select(Finding.id).order_by(Finding.id)))


def party_id(app, name="Gatu- och parkavdelningen"):
    with app.app_context():
        return db.session.scalar(select(ResponsibleParty.id).filter_by(name=name))


def test_create_form_is_prefilled_from_findings(client, two_findings):
    _walk, (light, graffiti) = two_findings
    page = client.get(f"/actions/new?finding={light}&finding={graffiti}").get_data(as_text=True)
    assert "Mörk gång" in page and "Klotter på muren" in page
    assert (date.today() + timedelta(days=90)).isoformat() in page  # a default due date


def test_one_item_from_two_findings_assigned_at_once(app, client, two_findings):
    _walk, ids = two_findings
    response = client.post(
        "/actions/new",
        data={"finding": ids, "title": "Rusta upp gångvägen", "responsible_party": party_id(app), "priority": "high"},
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(ActionItem))
        assert [f.id for f in item.findings] == ids
        assert item.status.value == "assigned"
        assert [e.kind for e in item.events] == [EventKind.CREATED, EventKind.STATUS]


def test_findings_of_different_walks_cannot_be_combined(app, client, auth, two_findings, make_walk, category_id):
    _walk, (light, _graffiti) = two_findings
    other = make_walk(title="Annan vandring")
    client.post(f"/walks/{other}/findings/new", data={"category": category_id(), "description": "x"})
    with app.app_context():
        foreign = db.session.scalar(select(Finding.id).filter_by(walk_id=other))
    response = client.post(
        "/actions/new",
        data={"finding": [light, foreign], "title": "Blandat", "responsible_party": 0, "priority": "low"},
    )
    assert response.status_code == 422
    assert "samma vandring" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ActionItem)) is None


def test_unknown_finding_is_404(client, two_findings):
    assert client.get("/actions/new?finding=9999").status_code == 404


def test_list_filters_and_overdue_marker(app, client, two_findings, category_id):
    _walk, (light, graffiti) = two_findings
    client.post(
        "/actions/new",
        data={
            "finding": light,
            "title": "Byt lampor",
            "priority": "high",
            "responsible_party": party_id(app),
            "due_date": date.today().isoformat(),
        },
    )
    client.post(
        "/actions/new",
        data={
            "finding": graffiti,
            "title": "Sanera klotter",
            "priority": "low",
            "responsible_party": party_id(app, "Polisen, kommunpolis"),
            "due_date": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    with app.app_context():  # the first became overdue (no form takes a date that has passed)
        db.session.scalar(select(ActionItem).filter_by(title="Byt lampor")).due_date = date.today() - timedelta(days=3)
        db.session.commit()
    page = client.get("/actions/").get_data(as_text=True)
    assert "Byt lampor" in page and "Sanera klotter" in page
    assert page.count("Försenad") == 1
    page = client.get("/actions/?overdue=y").get_data(as_text=True)
    assert "Byt lampor" in page and "Sanera klotter" not in page
    page = client.get(f"/actions/?category={category_id('klotter')}").get_data(as_text=True)
    assert "Sanera klotter" in page and "Byt lampor" not in page
    page = client.get(f"/actions/?party={party_id(app, 'Polisen, kommunpolis')}").get_data(as_text=True)
    assert "Sanera klotter" in page and "Byt lampor" not in page
    page = client.get("/actions/?status=new").get_data(as_text=True)
    assert "Inga åtgärder matchar filtret" in page
    # A finished item is not overdue even if its date has passed.
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id).filter_by(title="Byt lampor"))
    client.post(f"/actions/{item_id}/transition", data={"to": "done", "text": "Klart"})
    assert "Försenad" not in client.get("/actions/?overdue=y").get_data(as_text=True)
    # Junk in the filters is ignored, not a crash.
    assert client.get("/actions/?walk=abc&status=zzz&party=-1").status_code == 200


def test_responsible_party_sees_only_its_items(app, client, auth, two_findings):
    _walk, (light, graffiti) = two_findings
    client.post(
        "/actions/new",
        data={"finding": light, "title": "Gatans jobb", "priority": "low", "responsible_party": party_id(app)},
    )
    client.post(
        "/actions/new",
        data={
            "finding": graffiti,
            "title": "Polisens jobb",
            "priority": "low",
            "responsible_party": party_id(app, "Polisen, kommunpolis"),
        },
    )
    with app.app_context():
        police_item = db.session.scalar(select(ActionItem.id).filter_by(title="Polisens jobb"))
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    page = client.get("/actions/").get_data(as_text=True)
    assert "Gatans jobb" in page and "Polisens jobb" not in page
    assert client.get(f"/actions/{police_item}").status_code == 404


def test_comment_with_after_photo_and_edit_on_record(app, client, two_findings):
    _walk, (light, _graffiti) = two_findings
    client.post(
        "/actions/new", data={"finding": light, "title": "Byt lampor", "priority": "low", "responsible_party": 0}
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    response = client.post(
        f"/actions/{item_id}/comment",
        data={"text": "Så här ser det ut nu", "photo": (io.BytesIO(jpeg_bytes((1600, 1200))), "efter.jpg")},
    )
    assert response.status_code == 302
    assert client.post(f"/actions/{item_id}/comment", data={"text": " "}).status_code == 422
    response = client.post(
        f"/actions/{item_id}/comment", data={"text": "Trasigt foto", "photo": (io.BytesIO(b"GIF89a nope"), "x.jpg")}
    )
    assert response.status_code == 422 and "Trasigt foto" in response.get_data(as_text=True)
    client.post(
        f"/actions/{item_id}/edit",
        data={"title": "Byt alla lampor", "priority": "high", "responsible_party": 0, "due_date": "2027-01-31"},
    )
    with app.app_context():
        events = db.session.scalars(
            select(ActionEvent).filter_by(action_item_id=item_id).order_by(ActionEvent.id)
        ).all()
        assert [e.kind for e in events] == [EventKind.CREATED, EventKind.COMMENT, EventKind.EDITED]
        assert len(events[1].photos) == 1
        assert events[2].text == ""  # nothing typed: the change is the system's line, shown in each language
        assert event_text(events[2]) == "Ändrade rubrik, klart senast → 31 jan. 2027, prioritet → hög"
        assert db.session.get(ActionItem, item_id).due_date == date(2027, 1, 31)


def test_no_action_marking(app, client, two_findings):
    _walk, (light, _graffiti) = two_findings
    assert client.post(f"/findings/{light}/no-action", data={"note": "Kommunen äger inte marken"}).status_code == 302
    page = client.get(f"/findings/{light}").get_data(as_text=True)
    assert "Ingen åtgärd behövs" in page and "Kommunen äger inte marken" in page
    assert client.post(f"/findings/{light}/no-action", data={"undo": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Finding, light).no_action is False


def test_party_member_cannot_reroute_an_item_with_a_status_move(app, client, auth, two_findings):
    """Issue 9.9: an extra responsible_party on a status move must not hand the item to another party."""
    _walk, (light, _graffiti) = two_findings
    client.post(
        "/actions/new",
        data={"finding": light, "title": "Byt lampor", "priority": "low", "responsible_party": party_id(app)},
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    other = party_id(app, "Polisen, kommunpolis")
    response = client.post(
        f"/actions/{item_id}/transition", data={"to": "in_progress", "text": "Inte vårt", "responsible_party": other}
    )
    assert response.status_code == 403
    assert "\nInte vårt</textarea>" in response.get_data(as_text=True)  # the refused page keeps what was typed
    response = client.post(
        f"/api/v1/action-items/{item_id}/transition", json={"to": "in_progress", "responsible_party": other}
    )
    assert response.status_code == 422
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.responsible_party_id == party_id(app)
        assert item.status.value == "assigned"
        assert [e.kind for e in item.events] == [EventKind.CREATED, EventKind.STATUS]


def test_item_page_list_and_protocol_write_status_and_events_alike(app, client, two_findings):
    """The same partials write an item's badges (status, ⚠ overdue) and what each event did (a move "Ny →
    Tilldelad", else its kind) on the item page, in the list and in the protocol."""
    walk, (light, _graffiti) = two_findings
    client.post(
        "/actions/new",
        data={"finding": light, "title": "Byt lampor", "responsible_party": party_id(app), "priority": "high"},
    )
    with app.app_context():
        item = db.session.scalar(select(ActionItem))
        item.due_date = date.today() - timedelta(days=3)
        db.session.commit()
        item_id = item.id
    page = client.get(f"/actions/{item_id}").get_data(as_text=True)
    listed = client.get("/actions/").get_data(as_text=True)
    protocol = client.get(f"/followup/protocol?walk={walk}").get_data(as_text=True)
    assert "<strong>Skapad</strong>" in page and "<strong>Ny → Tilldelad</strong>" in page
    assert "· Skapad</li>" in protocol and "· Ny → Tilldelad: Tilldelad Gatu- och parkavdelningen</li>" in protocol
    for html in (page, listed, protocol):
        assert '<span class="badge status-assigned">Tilldelad</span>' in html
        assert '<span class="badge overdue-badge">⚠ Försenad</span>' in html


def test_list_counts_each_items_agreements_over_its_findings(app, client, auth, two_findings):
    """The list counts the agreements in SQL with its rows (no findings loaded): the same number as the
    item's findings add up to, for an item of two findings and for one sharing a finding with it."""
    from fieldwalk.models import FindingAgreement

    _walk, (light, graffiti) = two_findings
    for title, ids in (("Båda fynden", [light, graffiti]), ("Bara klottret", [graffiti])):
        data = {"finding": ids, "title": title, "responsible_party": 0, "priority": "low"}
        assert client.post("/actions/new", data=data).status_code == 302
    people = [auth.make_user(Role.PARTICIPANT)[0] for _ in range(3)]
    with app.app_context():
        for person, finding in ((people[0], light), (people[1], light), (people[2], graffiti)):
            db.session.add(FindingAgreement(finding_id=finding, user_id=person))
        db.session.commit()
        counts = {item.title: item.agreement_count for item in db.session.scalars(select(ActionItem))}
    assert counts == {"Båda fynden": 3, "Bara klottret": 1}
    page = client.get("/actions/").get_data(as_text=True)
    rows = {title: page.split(title, 1)[1].split("</li>", 1)[0] for title in counts}
    assert "3 håller med" in rows["Båda fynden"] and "1 håller med" in rows["Bara klottret"]
    client.post("/language", data={"language": "en", "next": "/actions/"})
    english = client.get("/actions/").get_data(as_text=True)
    assert "3 agree" in english.split("Båda fynden", 1)[1].split("</li>", 1)[0]


def test_list_row_escapes_once_and_names_party_assignee_and_walk(app, client, auth, two_findings):
    """A row of the list (fieldwalk/actions/markup.py): the title, party, handläggare and walk escaped exactly
    once, the due date only when there is one, "Ingen ansvarig ännu" without a party; in both languages."""
    _walk, (light, graffiti) = two_findings
    for finding, title in ((light, 'Lampa <b>"5"</b> & mer'), (graffiti, "Utan ansvarig")):
        data = {"finding": finding, "title": title, "responsible_party": 0, "priority": "low"}
        assert client.post("/actions/new", data=data).status_code == 302
    person, _email = auth.make_user(Role.RESPONSIBLE, "Gatu- och parkavdelningen", name="Ann & <Bo>")
    with app.app_context():
        item = db.session.scalar(select(ActionItem).filter(ActionItem.title.startswith("Lampa")))
        item.responsible_party_id, item.assignee_id, item.due_date = party_id(app), person, date(2031, 5, 4)
        db.session.get(ActionItem, item.id).walk.title = "Vandring <i>&</i>"
        db.session.commit()
        item_id = item.id
    page = client.get("/actions/").get_data(as_text=True)
    row = page.split(f'<a href="/actions/{item_id}">', 1)[1].split("</li>", 1)[0]
    assert row.startswith("Lampa &lt;b&gt;&#34;5&#34;&lt;/b&gt; &amp; mer</a></h2>")
    assert "Gatu- och parkavdelningen (Ann &amp; &lt;Bo&gt;)" in row
    assert "· klart senast 4 maj 2031" in row and "· Vandring &lt;i&gt;&amp;&lt;/i&gt;" in row
    other = page.split("Utan ansvarig</a></h2>", 1)[1].split("</li>", 1)[0]
    assert "Ingen ansvarig ännu" in other and "klart senast" not in other
    assert '<span class="badge status-new">Ny</span>' in other and "<span>Prioritet: Låg</span>" in other
    client.post("/language", data={"language": "en", "next": "/actions/"})
    english = client.get("/actions/").get_data(as_text=True)
    assert "· due by 4 May 2031" in english
    other = english.split("Utan ansvarig</a></h2>", 1)[1].split("</li>", 1)[0]
    assert "No one responsible yet" in other and "<span>Priority: Low</span>" in other


def test_list_filter_that_is_not_an_id_says_so_in_both_languages(client, two_findings):
    """?walk=abc (or a category or party that is no number) is named in a message of our own, not WTForms'
    "could not coerce"; the list still shows, unfiltered by it."""
    page = client.get("/actions/?walk=abc&category=%C2%B2").get_data(as_text=True)
    assert '<p class="error" id="walk-error">”abc” är inget giltigt val. Välj ett av alternativen i listan.</p>' in page
    assert '<p class="error" id="category-error">”²” är inget giltigt val.' in page
    assert "coerce" not in page
    client.post("/language", data={"language": "en", "next": "/actions/"})
    english = client.get("/actions/?party=%3Cb%3E").get_data(as_text=True)
    assert '<p class="error" id="party-error">“&lt;b&gt;” is not a valid choice. Pick one of the options' in english
    assert "coerce" not in english


def test_a_posted_choice_that_is_not_an_id_says_so_in_both_languages(client, two_findings):
    """A crafted post of a party or handläggare that is no number: WTForms' Swedish said "Felaktigt val; kunde
    inte ceorce:a". Now a message of our own at the field, the typed title kept, nothing created."""
    _walk, (light, _graffiti) = two_findings
    data = {"finding": light, "title": "Byt lampor", "priority": "low", "responsible_party": "abc", "assignee": "x"}
    response = client.post("/actions/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="Byt lampor"' in page
    assert page.count("Ogiltigt val. Välj ett av alternativen i listan.") == 2
    assert "ceorce" not in page and "coerce" not in page
    client.post("/language", data={"language": "en", "next": "/actions/"})
    english = client.post("/actions/new", data=data).get_data(as_text=True)
    assert english.count("Not a valid choice. Pick one of the options in the list.") == 2
    assert "coerce" not in english


def test_the_list_past_its_last_page_says_so(app, client, two_findings):
    """ "1 åtgärd" and then "Inga åtgärder matchar filtret." contradicted each other on ?page=2 (a tester)."""
    _walk, (light, _graffiti) = two_findings
    client.post("/actions/new", data={"finding": light, "title": "Byt lampor", "priority": "low"})
    page = client.get("/actions/?page=2").get_data(as_text=True)
    assert "Inga åtgärder matchar filtret." not in page
    assert "Sidan 2 finns inte: listan har 1 sida." in page and 'href="/actions/?page=1"' in page
    assert "Inga åtgärder matchar filtret." in client.get("/actions/?status=rejected").get_data(as_text=True)


def test_the_filter_summary_names_only_what_filters(client, two_findings, category_id):
    """The folded filter box's line said "Filter: , , Belysning" for ?walk=abc&status=zzz&category=<id> (one
    empty label per value that is no option), "Filter: " for ?page=2, and left out "Bara försenade"."""
    summary = re.compile(r"<summary>([^<]*)</summary>")
    page = client.get(f"/actions/?walk=abc&status=zzz&category={category_id()}&overdue=y").get_data(as_text=True)
    assert summary.search(page).group(1) == "Filter: Belysning, Bara försenade"
    assert summary.search(client.get("/actions/?page=2").get_data(as_text=True)).group(1) == "Filter"
    assert summary.search(client.get("/actions/?walk=abc").get_data(as_text=True)).group(1) == "Filter"
    # what a plain click on "Visa" sends ("Alla" filters nothing), and an id written with a space or a zero
    everything = client.get("/actions/?walk=0&status=&category=0&party=0").get_data(as_text=True)
    assert summary.search(everything).group(1) == "Filter"
    padded = client.get(f"/actions/?category=%20{category_id()}&status=open").get_data(as_text=True)
    assert summary.search(padded).group(1) == "Filter: Belysning, Öppna (ny, tilldelad, pågår)"
