"""Reference data every installation needs (categories, parties) and the demo data set."""

import functools
import io
import random
import unicodedata
from datetime import date, datetime, time, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup import operations as followup
from fieldwalk.models import (
    ActionStatus,
    Category,
    Finding,
    PositionSource,
    Priority,
    PromiseCommitment,
    PromiseKind,
    ResponsibleParty,
    Role,
    Severity,
    User,
    Walk,
    WalkStatus,
    utcnow,
    walk_participants,
)
from fieldwalk.notifications import drop_pending_notifications
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.photos.service import photo_limits
from fieldwalk.walks import operations as walks

# slug, Swedish name, English name, icon, positive, default party
DEFAULT_CATEGORIES = [
    ("belysning", "Belysning", "Lighting", "💡", False, "Gatu- och parkavdelningen"),
    ("klotter", "Klotter", "Graffiti", "🖌️", False, "Gatu- och parkavdelningen"),
    ("skadegorelse", "Skadegörelse", "Vandalism", "🔨", False, "Gatu- och parkavdelningen"),
    (
        "vegetation",
        "Vegetation och skymd sikt",
        "Vegetation and blocked sight lines",
        "🌳",
        False,
        "Gatu- och parkavdelningen",
    ),
    ("nedskrapning", "Nedskräpning", "Litter", "🗑️", False, "Gatu- och parkavdelningen"),
    (
        "gangvag",
        "Gångväg, cykelväg och tillgänglighet",
        "Paths, cycle paths and accessibility",
        "♿",
        False,
        "Gatu- och parkavdelningen",
    ),
    ("trafik", "Trafik", "Traffic safety", "🚦", False, "Trafikverket"),
    ("otrygg-plats", "Otrygg plats", "Unsafe place", "⚠️", False, "Polisen, kommunpolis"),
    ("skyltning", "Skyltning och orienterbarhet", "Signage and wayfinding", "🪧", False, "Gatu- och parkavdelningen"),
    ("bra-plats", "Bra plats", "Good place", "👍", True, None),
    ("ovrigt", "Övrigt", "Other", "❓", False, None),
]
DEFAULT_PARTIES = [
    ("Gatu- och parkavdelningen", "gata-park@example.com"),
    ("Fastighetsägaren Hyresbostäder AB", "forvaltning@example.com"),
    ("Polisen, kommunpolis", "kommunpolis@example.com"),
    ("Trafikverket", "trafikverket@example.com"),
    ("Kultur- och fritidsförvaltningen", "kultur-fritid@example.com"),
]
DEMO_PASSWORD = "fieldwalk-demo"


def ensure_reference_data() -> None:
    """Add the default responsible parties and categories that are missing; never overwrite edits."""
    parties = {p.name: p for p in db.session.scalars(select(ResponsibleParty))}
    for name, email in DEFAULT_PARTIES:
        if name not in parties:
            parties[name] = ResponsibleParty(name=name, email=email)
            db.session.add(parties[name])
    existing = set(db.session.scalars(select(Category.slug)))
    for order, (slug, sv, en, icon, positive, party) in enumerate(DEFAULT_CATEGORIES):
        if slug not in existing:
            db.session.add(
                Category(
                    slug=slug,
                    name_sv=sv,
                    name_en=en,
                    icon=icon,
                    is_positive=positive,
                    sort_order=order,
                    default_party=parties.get(party) if party else None,
                )
            )
    db.session.flush()


def create_user(
    email: str, name: str, password: str, role: Role, organisation: str = "", party: ResponsibleParty | None = None
) -> User:
    """Add a user account."""
    user = User(email=email.strip().lower(), name=name, organisation=organisation, role=role, responsible_party=party)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


# Pillow's built-in font holds ASCII only: "Hyresbostäders" came out as "Hyresbost□ders" on the photos. The
# caption is drawn with a system font that has the Swedish letters (the PDF's fonts come from the same
# place, fontconfig's directories); the first that is installed is used.
CAPTION_FONTS = (
    "DejaVuSans.ttf",
    "LiberationSans-Regular.ttf",
    "NotoSans-Regular.ttf",
    "FreeSans.ttf",
    "Arial.ttf",
    "arial.ttf",
)


@functools.cache
def caption_font(size: int) -> ImageFont.FreeTypeFont | None:
    """A TrueType font with å, ä, ö for the demo photos' captions, or None when none is installed."""
    for name in CAPTION_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return None


def _ascii(text: str) -> str:
    # No font with the letters: "Hyresbostaders" rather than boxes in place of the letters.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def demo_photo(text: str, seed: int, with_gps: tuple[float, float] | None = None) -> bytes:
    """A phone-like JPEG drawn with Pillow: an evening street scene of sorts, with the finding's text."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1800, 1350), (20 + rng.randrange(30), 24 + rng.randrange(30), 40))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.randrange(1800), rng.randrange(600, 1350)
        shade = rng.randrange(40, 110)
        draw.rectangle([x, y, x + rng.randrange(40, 300), y + rng.randrange(20, 200)], fill=(shade, shade, shade + 10))
    for _ in range(6):
        x = rng.randrange(100, 1700)
        draw.line([x, 300, x, 1000], fill=(90, 90, 90), width=14)
        draw.ellipse([x - 40, 260, x + 40, 340], fill=(255, 230, 150) if rng.random() > 0.3 else (50, 50, 50))
    draw.rectangle([0, 1180, 1800, 1350], fill=(0, 0, 0))
    font = caption_font(64)
    draw.text(
        (40, 1220),
        text if font is not None else _ascii(text),
        fill=(255, 255, 255),
        font=font or ImageFont.load_default(64),
    )
    exif = Image.Exif()
    exif[0x0110] = "Demo Phone"
    if with_gps:
        gps = exif.get_ifd(0x8825)
        lat, lon = with_gps
        gps[1], gps[3] = "N", "E"
        gps[2] = _dms(lat)
        gps[4] = _dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


# Växjö centrum: (category slug, description, place, severity, lat, lon)
WALK1_FINDINGS = [
    (
        "belysning",
        "Tre lampor trasiga längs gångvägen, helt mörkt mellan bänkarna.",
        "Linnéparken, östra gången",
        "high",
        56.8769,
        14.8043,
    ),
    (
        "vegetation",
        "Buskarna är så höga att man inte ser vem som står bakom.",
        "Gångtunneln vid Resecentrum",
        "high",
        56.8772,
        14.8097,
    ),
    (
        "klotter",
        "Omfattande klotter på tunnelväggen, känns övergivet.",
        "Gångtunneln vid Resecentrum",
        "medium",
        56.8774,
        14.8101,
    ),
    ("nedskrapning", "Överfulla papperskorgar och glas på marken.", "Stortorget, norra sidan", "low", 56.8790, 14.8059),
    (
        "otrygg-plats",
        "Folk samlas här sent på kvällen, flera upplever platsen som otrygg.",
        "Busshållplats Västra Esplanaden",
        "high",
        56.8782,
        14.8012,
    ),
    (
        "gangvag",
        "Trottoarkanten saknar nedfart, svårt med rullstol och barnvagn.",
        "Korsningen Storgatan/Kungsgatan",
        "medium",
        56.8795,
        14.8078,
    ),
    (
        "skyltning",
        "Ingen skylt mot Resecentrum, svårt att hitta för besökare.",
        "Sandgärdsgatan",
        "low",
        56.8786,
        14.8088,
    ),
    (
        "bra-plats",
        "Nya belysningen vid domkyrkan gör platsen trygg och trivsam.",
        "Domkyrkoparken",
        "low",
        56.8773,
        14.8033,
    ),
    ("skadegorelse", "Krossad glasruta i busskuren.", "Busshållplats Norra Järnvägsgatan", "medium", 56.8779, 14.8070),
    (
        "trafik",
        "Bilar kör fort förbi övergångsstället, dålig sikt.",
        "Övergångsställe Västra Esplanaden",
        "high",
        56.8788,
        14.8020,
    ),
]
WALK2_FINDINGS = [
    ("belysning", "Parkeringshuset har trasig belysning i trapphuset.", "P-huset Fagrabäck", "high", 56.8818, 14.8117),
    (
        "otrygg-plats",
        "Mörk passage mellan husen, ingen insyn.",
        "Passagen bakom Hyresbostäders hus",
        "medium",
        56.8824,
        14.8130,
    ),
    ("vegetation", "Häcken skymmer sikten vid lekplatsen.", "Lekplatsen Norremark", "medium", 56.8830, 14.8105),
    ("bra-plats", "Välbelyst och öppen gångväg, känns tryggt.", "Gångvägen längs sjön", "low", 56.8841, 14.8093),
    ("ovrigt", "Saknas bänkar längs promenadstråket.", "", "low", None, None),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the story (naive UTC, as stored)."""
    return datetime.combine(day, time(hour, minute))


def _date_rows(finding, moment: datetime) -> None:
    """A finding and its photos, logged at `moment` on the walk."""
    finding.created_at = moment
    for photo in finding.photos:
        photo.created_at = moment


def seed_demo() -> None:
    """A demo that tells one coherent story, every moment before now.

    Växjö centrum was walked 75 days ago; its findings were triaged two days later, the parties worked
    on them, and the follow-up meeting 30 days ago reviewed the items and decided (after everything it
    reviewed), which made the walk followed up. Norremark was walked 10 days ago and waits for triage.
    Teleborg is planned two weeks ahead: suggested places, a participant signed up, no findings yet.
    Every event lies between its item's creation and the meeting.
    """
    ensure_reference_data()
    parties = {p.name: p for p in db.session.scalars(select(ResponsibleParty))}
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    now = utcnow().replace(microsecond=0)
    today = now.date()
    accounts_made = now - timedelta(days=120)
    admin = create_user("admin@example.com", "Alva Admin", DEMO_PASSWORD, Role.ADMIN, "Växjö kommun")
    coordinator = create_user(
        "samordnare@example.com", "Sara Samordnare", DEMO_PASSWORD, Role.COORDINATOR, "Växjö kommun, brottsförebyggande"
    )
    street = create_user(
        "gata@example.com",
        "Göran Gata",
        DEMO_PASSWORD,
        Role.RESPONSIBLE,
        "Gatu- och parkavdelningen",
        parties["Gatu- och parkavdelningen"],
    )
    resident = create_user(
        "deltagare@example.com", "Dana Deltagare", DEMO_PASSWORD, Role.PARTICIPANT, "Centrumföreningen"
    )
    for user in (admin, coordinator, street, resident):
        user.created_at = accounts_made

    # 1. Växjö centrum, 75 days ago (18:00 Swedish time).
    walk1_start = _at(today - timedelta(days=75), 17)
    walk1 = walks.create_walk(
        coordinator,
        title="Trygghetsvandring Växjö centrum",
        area="Stortorget – Resecentrum",
        starts_at=walk1_start,
        meeting_point="Stortorget, vid fontänen",
        meeting_lat=56.8790,
        meeting_lon=14.8059,
        route="Stortorget – Storgatan – Resecentrum – gångtunneln – Linnéparken – Domkyrkoparken",
        description="Kvällsvandring med boende, polisen, Hyresbostäder och centrumföreningen.",
        organiser="Växjö kommun och Polisen",
        status=WalkStatus.ONGOING,
        invited_organisations="Polisen\nHyresbostäder\nCentrumföreningen\nPRO Växjö",
    )
    walk1.created_at = walk1_start - timedelta(days=30)
    # 2. Norremark, 10 days ago: planned with the residents' suggestions from the förmöte, then walked.
    walk2_start = _at(today - timedelta(days=10), 16, 30)
    walk2 = walks.create_walk(
        coordinator,
        title="Trygghetsvandring Norremark",
        area="Norremark och Fagrabäck",
        starts_at=walk2_start,
        meeting_point="Lekplatsen Norremark",
        meeting_lat=56.8830,
        meeting_lon=14.8105,
        route="Lekplatsen – passagen – P-huset Fagrabäck – sjöpromenaden",
        organiser="Växjö kommun",
        invited_organisations="Hyresbostäder\nPolisen",
    )
    walk2.created_at = walk2_start - timedelta(days=21)
    suggested = []
    for idea, idea_lat, idea_lon in [
        ("Mörkt i passagen bakom hus 12", 56.8824, 14.8131),
        ("Ungdomar samlas vid P-huset på kvällarna", 56.8818, 14.8117),
    ]:
        suggested.append(
            walks.add_suggested_place(
                walk2, coordinator, text=idea, lat=idea_lat, lon=idea_lon, suggested_by="Boende via förmötet"
            )
        )
    for suggestion in suggested:
        suggestion.created_at = walk2_start - timedelta(days=7)
    walk2.status = WalkStatus.ONGOING
    joins = [
        (walk1, walks.join_walk(walk1, resident), walk1_start - timedelta(days=3)),
        (walk2, walks.join_walk(walk2, resident), walk2_start - timedelta(days=2)),
        (
            walk2,
            walks.join_walk(walk2, None, name="Gunnar Granne", organisation="Boende på Norremark"),
            walk2_start + timedelta(minutes=2),
        ),
    ]
    logged: list[Finding] = []
    for walk, rows, reporter in ((walk1, WALK1_FINDINGS, resident), (walk2, WALK2_FINDINGS, coordinator)):
        for i, (slug, text, place, severity, lat, lon) in enumerate(rows):
            photos = []
            if lat is not None and lon is not None and i % 3 != 2:
                raw = demo_photo(
                    f"{categories[slug].name_sv}: {place}",
                    seed=len(logged),
                    with_gps=(lat, lon) if i % 4 == 0 else None,
                )
                photos.append(process_photo(raw, photo_limits()))
            finding, _created = findings.create_finding(
                walk,
                reporter,
                FindingInput(
                    category=categories[slug],
                    description=text,
                    severity=Severity(severity),
                    lat=lat if i % 4 else None,
                    lon=lon if i % 4 else None,
                    accuracy_m=8.0 if i % 4 else None,
                    position_source=PositionSource.GPS,
                    place=place,
                ),
                photos=photos,
            )
            _date_rows(finding, walk.starts_at + timedelta(minutes=5 * i + 10))
            logged.append(finding)
    suggested[0].checked_at, suggested[0].checked_by_id = walk2_start + timedelta(minutes=20), coordinator.id
    for walk in (walk1, walk2):  # both walks are over: closed when the last finding was in
        walk.status = WalkStatus.COMPLETED
        walk.closed_at = walk.updated_at = walk.starts_at + timedelta(hours=2)
    # 3. Teleborg, two weeks ahead: planned, one participant signed up, nothing logged yet.
    walk3_start = _at(today + timedelta(days=14), 17)
    walk3 = walks.create_walk(
        coordinator,
        title="Trygghetsvandring Teleborg",
        area="Teleborgs centrum",
        starts_at=walk3_start,
        meeting_point="Teleborgs centrum, vid biblioteket",
        meeting_lat=56.8560,
        meeting_lon=14.8270,
        route="Centrum – skolan – gångstråket mot Bokhultet",
        organiser="Växjö kommun",
        invited_organisations="Hyresbostäder\nPolisen\nSkolan",
    )
    walk3.created_at = walk3.updated_at = now - timedelta(days=2)
    dark_path = walks.add_suggested_place(
        walk3,
        coordinator,
        text="Gångstråket mot Bokhultet är helt mörkt",
        lat=56.8548,
        lon=14.8301,
        suggested_by="Boende via e-post",
    )
    dark_path.created_at = now - timedelta(days=1)
    joins.append((walk3, walks.join_walk(walk3, resident), now - timedelta(hours=20)))
    for walk, user, joined in joins:
        db.session.execute(
            walk_participants.update()
            .where(walk_participants.c.walk_id == walk.id, walk_participants.c.user_id == user.id)
            .values(joined_at=joined)
        )
    guest = joins[2][1]
    guest.created_at = joins[2][2]

    walk1_findings = [f for f in logged if f.walk is walk1]
    triaged = walk1_start.date() + timedelta(days=2)
    meeting_at = _at(today - timedelta(days=30), 13)
    gata = parties["Gatu- och parkavdelningen"]
    # finding index, title, party, due (days after triage), final status before the meeting,
    # and the steps taken (status, who, text, days after triage)
    plan = [
        (
            0,
            "Byt trasiga armaturer i Linnéparken",
            gata,
            30,
            [
                (ActionStatus.IN_PROGRESS, street, "", 5),
                (ActionStatus.DONE, street, "Nya LED-armaturer monterade.", 18),
            ],
        ),
        (
            1,
            "Beskär buskarna vid gångtunneln",
            gata,
            45,
            [
                (ActionStatus.IN_PROGRESS, street, "Planerat till vecka 44.", 6),
                (ActionStatus.DONE, street, "Buskarna är nedklippta till 60 cm.", 22),
            ],
        ),
        (
            2,
            "Sanera klotter i gångtunneln",
            gata,
            14,
            [(ActionStatus.IN_PROGRESS, street, "Beställt hos entreprenör.", 4)],
        ),
        (3, "Tätare tömning av papperskorgar vid Stortorget", gata, 60, []),
        (4, "Ökad polisnärvaro vid hållplatsen fredag–lördag kväll", parties["Polisen, kommunpolis"], 120, []),
        (5, "Bygg nedfart i trottoarkanten", None, None, []),
        (
            6,
            "Sätt upp vägvisning till Resecentrum",
            gata,
            None,
            [(ActionStatus.REJECTED, coordinator, "Skyltning finns redan vid Storgatan; ingen ny skylt behövs.", 3)],
        ),
        (9, "Hastighetsdämpande åtgärd vid övergångsstället", parties["Trafikverket"], 30, []),
    ]
    items = {}
    for index, title, party, due, steps in plan:
        finding = walk1_findings[index]
        item = actions.create_action_item(
            [finding],
            coordinator,
            ActionItemInput(
                title=title,
                responsible_party=party,
                priority=Priority.HIGH if finding.severity == Severity.HIGH else Priority.MEDIUM,
            ),
        )
        created = _at(triaged, 9, index)
        item.created_at = created
        # Set directly, not through the operations: a due date that is past today is the point of the story
        # (and what the operations rightly refuse for a new date).
        item.due_date = triaged + timedelta(days=due) if due is not None else None
        for event in item.events:
            event.created_at = created
        for to, actor, text, days in steps:
            photo = None
            if to == ActionStatus.DONE:
                photo = process_photo(demo_photo(f"Efter: {title}", seed=100 + index), photo_limits())
            event = actions.transition(item, to, actor, text=text, photo=photo)
            event.created_at = _at(triaged + timedelta(days=days), 10, index)
            for photo_row in event.photos:
                photo_row.created_at = event.created_at
            if to == ActionStatus.DONE:
                item.resolved_at = event.created_at
        items[index] = item
    findings.set_no_action(walk1_findings[7], coordinator, True, "Positivt fynd – behåll belysningen.")
    findings.set_no_action(walk1_findings[8], coordinator, True, "Busskuren lagades av Hyresbostäder dagen efter.")
    seed_follow_up(coordinator, walk1, items, meeting_at, parties)
    for item in items.values():
        item.updated_at = max(event.created_at for event in item.events)
    drop_pending_notifications(db.session())  # the demo's made-up assignments mail nobody
    db.session.flush()


def seed_follow_up(coordinator: User, walk: Walk, items: dict, meeting_at: datetime, parties: dict) -> None:
    """This year's medborgarlöfte, and the follow-up meeting of the first walk: its decisions come after
    everything they review, and finishing it makes the walk followed up."""
    year = meeting_at.year
    klotter = db.session.scalar(select(Category).filter_by(slug="klotter"))
    for text, kind, target, days, category in [
        ("Minst 2 trygghetsvandringar per år", PromiseKind.WALKS, 2, None, None),
        ("Trygghetsvandringarna följs upp varje kvartal", PromiseKind.QUARTERLY_FOLLOWUP, 4, None, None),
        ("Minst 10 åtgärder genomförda", PromiseKind.RESOLVED_ACTIONS, 10, None, None),
        ("9 av 10 åtgärder klara inom 60 dagar", PromiseKind.RESOLVED_WITHIN, 90, 60, None),
        ("Klotter saneras skyndsamt, inom 2 dagar", PromiseKind.RESOLVED_WITHIN, 100, 2, klotter),
    ]:
        db.session.add(PromiseCommitment(year=year, text=text, kind=kind, target=target, days=days, category=category))
    held = meeting_at.date()
    meeting = followup.create_meeting(
        coordinator,
        held_on=held,
        walk=walk,
        attendees="Sara Samordnare, Göran Gata, kommunpolisen, Hyresbostäders förvaltare",
    )
    meeting.created_at = meeting_at - timedelta(days=7)
    decisions = [  # finding index of the item, decision, new status, new due date (days after the meeting)
        (0, "Verifierat på plats: de nya armaturerna lyser hela gången.", ActionStatus.CLOSED, None),
        (1, "Kontrolleras vid nästa vandring innan åtgärden avslutas.", None, None),
        (2, "Entreprenören sanerar tunneln efter en ny beställning.", None, 45),
        (4, "Polisen och Hyresbostäders värdar går gemensamma kvällsrundor fredag och lördag.", None, None),
        (5, "Kostnaden utreds; ansvarig part bestäms på nästa möte.", None, None),
        (9, "Trafikverket återkommer med förslag på farthinder.", None, 45),
    ]
    for minute, (index, text, to, due) in enumerate(decisions):
        item = items[index]
        before = {event.id for event in item.events}
        decision = followup.record_decision(
            meeting,
            item,
            coordinator,
            text=text,
            to=to,
            due_date=held + timedelta(days=due) if due is not None else None,
        )
        moment = meeting_at + timedelta(minutes=10 * minute + 5)
        decision.created_at = moment
        for event in item.events:
            if event.id not in before:
                event.created_at = moment
    followup.finish_meeting(meeting, coordinator, notes="Gångtunneln prioriteras inför vintern.")
    meeting.finished_at = meeting_at + timedelta(hours=2)


def has_data() -> bool:
    """True when any walk exists (seed-demo --if-empty then does nothing)."""
    return bool(db.session.scalar(select(func.count()).select_from(Walk)))
