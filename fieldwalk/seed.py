"""Reference data every installation needs (categories, parties) and the demo data set."""

import io
import random
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.followup.queries import quarter_of
from fieldwalk.models import (
    ActionStatus,
    Category,
    FollowUpMeeting,
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
)
from fieldwalk.notifications import drop_pending_notifications
from fieldwalk.photo_service import photo_limits
from fieldwalk.photos import process_photo
from fieldwalk.walks import operations as walks

# slug, Swedish name, English name, icon, positive, default party
DEFAULT_CATEGORIES = [
    ("belysning", "Belysning", "Lighting", "💡", False, "Gatu- och parkavdelningen"),
    ("klotter", "Klotter", "Graffiti", "🖌️", False, "Gatu- och parkavdelningen"),
    ("skadegorelse", "Skadegörelse", "Vandalism", "🔨", False, "Gatu- och parkavdelningen"),
    ("vegetation", "Vegetation och skymd sikt", "Vegetation and blocked sight lines", "🌳", False,
     "Gatu- och parkavdelningen"),
    ("nedskrapning", "Nedskräpning", "Litter", "🗑️", False, "Gatu- och parkavdelningen"),
    ("gangvag", "Gångväg, cykelväg och tillgänglighet", "Paths, cycle paths and accessibility", "♿",
     False, "Gatu- och parkavdelningen"),
    ("trafik", "Trafik", "Traffic safety", "🚦", False, "Trafikverket"),
    ("otrygg-plats", "Otrygg plats", "Unsafe place", "⚠️", False, "Polisen, kommunpolis"),
    ("skyltning", "Skyltning och orienterbarhet", "Signage and wayfinding", "🪧", False,
     "Gatu- och parkavdelningen"),
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
            db.session.add(Category(slug=slug, name_sv=sv, name_en=en, icon=icon, is_positive=positive,
                                    sort_order=order, default_party=parties.get(party)))
    db.session.flush()


def create_user(email: str, name: str, password: str, role: Role, organisation: str = "",
                party: ResponsibleParty | None = None) -> User:
    """Add a user account."""
    user = User(email=email.strip().lower(), name=name, organisation=organisation, role=role,
                responsible_party=party)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def demo_photo(text: str, seed: int, with_gps: tuple[float, float] | None = None) -> bytes:
    """A phone-like JPEG drawn with Pillow: an evening street scene of sorts, with the finding's text."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1800, 1350), (20 + rng.randrange(30), 24 + rng.randrange(30), 40))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.randrange(1800), rng.randrange(600, 1350)
        shade = rng.randrange(40, 110)
        draw.rectangle([x, y, x + rng.randrange(40, 300), y + rng.randrange(20, 200)],
                       fill=(shade, shade, shade + 10))
    for _ in range(6):
        x = rng.randrange(100, 1700)
        draw.line([x, 300, x, 1000], fill=(90, 90, 90), width=14)
        draw.ellipse([x - 40, 260, x + 40, 340], fill=(255, 230, 150) if rng.random() > 0.3 else (50, 50, 50))
    draw.rectangle([0, 1180, 1800, 1350], fill=(0, 0, 0))
    draw.text((40, 1220), text, fill=(255, 255, 255), font_size=64)
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
    ("belysning", "Tre lampor trasiga längs gångvägen, helt mörkt mellan bänkarna.", "Linnéparken, östra gången", "high", 56.8769, 14.8043),
    ("vegetation", "Buskarna är så höga att man inte ser vem som står bakom.", "Gångtunneln vid Resecentrum", "high", 56.8772, 14.8097),
    ("klotter", "Omfattande klotter på tunnelväggen, känns övergivet.", "Gångtunneln vid Resecentrum", "medium", 56.8774, 14.8101),
    ("nedskrapning", "Överfulla papperskorgar och glas på marken.", "Stortorget, norra sidan", "low", 56.8790, 14.8059),
    ("otrygg-plats", "Folk samlas här sent på kvällen, flera upplever platsen som otrygg.", "Busshållplats Västra Esplanaden", "high", 56.8782, 14.8012),
    ("gangvag", "Trottoarkanten saknar nedfart, svårt med rullstol och barnvagn.", "Korsningen Storgatan/Kungsgatan", "medium", 56.8795, 14.8078),
    ("skyltning", "Ingen skylt mot Resecentrum, svårt att hitta för besökare.", "Sandgärdsgatan", "low", 56.8786, 14.8088),
    ("bra-plats", "Nya belysningen vid domkyrkan gör platsen trygg och trivsam.", "Domkyrkoparken", "low", 56.8773, 14.8033),
    ("skadegorelse", "Krossad glasruta i busskuren.", "Busshållplats Norra Järnvägsgatan", "medium", 56.8779, 14.8070),
    ("trafik", "Bilar kör fort förbi övergångsstället, dålig sikt.", "Övergångsställe Västra Esplanaden", "high", 56.8788, 14.8020),
]
WALK2_FINDINGS = [
    ("belysning", "Parkeringshuset har trasig belysning i trapphuset.", "P-huset Fagrabäck", "high", 56.8818, 14.8117),
    ("otrygg-plats", "Mörk passage mellan husen, ingen insyn.", "Passagen bakom Hyresbostäders hus", "medium", 56.8824, 14.8130),
    ("vegetation", "Häcken skymmer sikten vid lekplatsen.", "Lekplatsen Norremark", "medium", 56.8830, 14.8105),
    ("bra-plats", "Välbelyst och öppen gångväg, känns tryggt.", "Gångvägen längs sjön", "low", 56.8841, 14.8093),
    ("ovrigt", "Saknas bänkar längs promenadstråket.", "", "low", None, None),
]


def seed_demo() -> None:
    """A realistic demo: two walks in Växjö centrum with findings, photos and action items in every status."""
    ensure_reference_data()
    parties = {p.name: p for p in db.session.scalars(select(ResponsibleParty))}
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    create_user("admin@example.com", "Alva Admin", DEMO_PASSWORD, Role.ADMIN, "Växjö kommun")
    coordinator = create_user("samordnare@example.com", "Sara Samordnare", DEMO_PASSWORD,
                              Role.COORDINATOR, "Växjö kommun, brottsförebyggande")
    street = create_user("gata@example.com", "Göran Gata", DEMO_PASSWORD, Role.RESPONSIBLE,
                         "Gatu- och parkavdelningen", parties["Gatu- och parkavdelningen"])
    resident = create_user("deltagare@example.com", "Dana Deltagare", DEMO_PASSWORD,
                           Role.PARTICIPANT, "Centrumföreningen")
    now = utcnow()
    walk1 = walks.create_walk(
        coordinator, title="Trygghetsvandring Växjö centrum", area="Stortorget – Resecentrum",
        starts_at=(now - timedelta(days=75)).replace(hour=17, minute=0, second=0, microsecond=0),
        meeting_point="Stortorget, vid fontänen", meeting_lat=56.8790, meeting_lon=14.8059,
        route="Stortorget – Storgatan – Resecentrum – gångtunneln – Linnéparken – Domkyrkoparken",
        description="Kvällsvandring med boende, polisen, Hyresbostäder och centrumföreningen.",
        organiser="Växjö kommun och Polisen", status=WalkStatus.ONGOING,
        invited_organisations="Polisen\nHyresbostäder\nCentrumföreningen\nPRO Växjö",
    )
    walk2 = walks.create_walk(
        coordinator, title="Trygghetsvandring Norremark", area="Norremark och Fagrabäck",
        starts_at=now.replace(hour=17, minute=30, second=0, microsecond=0),
        meeting_point="Lekplatsen Norremark", meeting_lat=56.8830, meeting_lon=14.8105,
        route="Lekplatsen – passagen – P-huset Fagrabäck – sjöpromenaden",
        organiser="Växjö kommun", invited_organisations="Hyresbostäder\nPolisen",
    )
    for place in [("Mörkt i passagen bakom hus 12", 56.8824, 14.8131),
                  ("Ungdomar samlas vid P-huset på kvällarna", 56.8818, 14.8117)]:
        walks.add_suggested_place(walk2, coordinator, text=place[0], lat=place[1], lon=place[2],
                                  suggested_by="Boende via förmötet")
    walk2.status = WalkStatus.ONGOING
    for walk in (walk1, walk2):
        walks.join_walk(walk, resident)
    walks.join_walk(walk2, None, name="Gunnar Granne", organisation="Boende på Norremark")
    logged = []
    for walk, rows, reporter in ((walk1, WALK1_FINDINGS, resident), (walk2, WALK2_FINDINGS, coordinator)):
        for i, (slug, text, place, severity, lat, lon) in enumerate(rows):
            photos = []
            if lat is not None and i % 3 != 2:
                raw = demo_photo(f"{categories[slug].name_sv}: {place}", seed=len(logged),
                                 with_gps=(lat, lon) if i % 4 == 0 else None)
                photos.append(process_photo(raw, photo_limits()))
            finding, _created = findings.create_finding(
                walk, reporter if walk is walk1 else coordinator, category=categories[slug],
                description=text, severity=Severity(severity), lat=lat if i % 4 else None,
                lon=lon if i % 4 else None, accuracy_m=8.0 if i % 4 else None,
                position_source=PositionSource.GPS, place=place, photos=photos,
            )
            finding.created_at = walk.starts_at + timedelta(minutes=5 * i + 10)
            logged.append(finding)
    walk1.status = WalkStatus.COMPLETED
    walk1_findings = [f for f in logged if f.walk is walk1]
    gata = parties["Gatu- och parkavdelningen"]
    plan = [  # finding index, title, party, due (days from now), final status
        (0, "Byt trasiga armaturer i Linnéparken", gata, -20, ActionStatus.CLOSED),
        (1, "Beskär buskarna vid gångtunneln", gata, 10, ActionStatus.DONE),
        (2, "Sanera klotter i gångtunneln", gata, -5, ActionStatus.IN_PROGRESS),
        (3, "Tätare tömning av papperskorgar vid Stortorget", gata, 30, ActionStatus.ASSIGNED),
        (4, "Ökad polisnärvaro vid hållplatsen fredag–lördag kväll", parties["Polisen, kommunpolis"],
         60, ActionStatus.ASSIGNED),
        (5, "Bygg nedfart i trottoarkanten", None, None, ActionStatus.NEW),
        (6, "Sätt upp vägvisning till Resecentrum", gata, None, ActionStatus.REJECTED),
        (9, "Hastighetsdämpande åtgärd vid övergångsstället", parties["Trafikverket"], -10,
         ActionStatus.ASSIGNED),
    ]
    for index, title, party, due, final in plan:
        item = actions.create_action_item(
            [walk1_findings[index]], coordinator, title=title, responsible_party=party,
            priority=Priority.HIGH if walk1_findings[index].severity == Severity.HIGH else Priority.MEDIUM,
        )
        # Set afterwards: some demo items are overdue by now, a date no form accepts at creation.
        item.due_date = date.today() + timedelta(days=due) if due is not None else None
        path = {
            ActionStatus.IN_PROGRESS: [(ActionStatus.IN_PROGRESS, street, "Beställt hos entreprenör.")],
            ActionStatus.DONE: [(ActionStatus.IN_PROGRESS, street, "Planerat till vecka 44."),
                                (ActionStatus.DONE, street, "Buskarna är nedklippta till 60 cm.")],
            ActionStatus.CLOSED: [(ActionStatus.IN_PROGRESS, street, ""),
                                  (ActionStatus.DONE, street, "Nya LED-armaturer monterade."),
                                  (ActionStatus.CLOSED, coordinator, "Verifierat vid uppföljningsmötet.")],
            ActionStatus.REJECTED: [(ActionStatus.REJECTED, coordinator,
                                     "Skyltning finns redan vid Storgatan; ingen ny skylt behövs.")],
        }.get(final, [])
        for to, actor, text in path:
            photo = None
            if to == ActionStatus.DONE:
                photo = process_photo(demo_photo(f"Efter: {title}", seed=100 + index), photo_limits())
            actions.transition(item, to, actor, text=text, photo=photo)
        item.created_at = walk1.starts_at + timedelta(days=2)  # triaged two days after the walk
        if item.resolved_at is not None:
            item.resolved_at = item.created_at + timedelta(days=18 + 4 * index)
    findings.set_no_action(walk1_findings[7], coordinator, True, "Positivt fynd – behåll belysningen.")
    seed_follow_up(coordinator, now)
    drop_pending_notifications(db.session)  # the demo's made-up assignments mail nobody
    db.session.flush()


def seed_follow_up(coordinator: User, now) -> None:
    """This year's medborgarlöfte and one follow-up meeting held a month ago."""
    year = now.year
    klotter = db.session.scalar(select(Category).filter_by(slug="klotter"))
    for text, kind, target, days, category in [
        ("Minst 2 trygghetsvandringar per år", PromiseKind.WALKS, 2, None, None),
        ("Trygghetsvandringarna följs upp varje kvartal", PromiseKind.QUARTERLY_FOLLOWUP, 4, None, None),
        ("Minst 10 åtgärder genomförda", PromiseKind.RESOLVED_ACTIONS, 10, None, None),
        ("9 av 10 åtgärder klara inom 60 dagar", PromiseKind.RESOLVED_WITHIN, 90, 60, None),
        ("Klotter saneras skyndsamt, inom 2 dagar", PromiseKind.RESOLVED_WITHIN, 100, 2, klotter),
    ]:
        db.session.add(PromiseCommitment(year=year, text=text, kind=kind, target=target, days=days,
                                         category=category))
    held = (now - timedelta(days=30)).date()
    start, end = quarter_of(held)
    db.session.add(FollowUpMeeting(
        title=f"Kvartalsuppföljning {held:%Y}", period_start=start, period_end=end, held_on=held,
        attendees="Sara Samordnare, Göran Gata, kommunpolisen", created_by=coordinator,
        notes="Gångtunneln prioriteras inför vintern.", finished_at=now - timedelta(days=30)))


def has_data() -> bool:
    """True when any walk exists (seed-demo --if-empty then does nothing)."""
    return bool(db.session.scalar(select(func.count()).select_from(Walk)))

