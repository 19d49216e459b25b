"""A large data set made fast, for the query-count tests and the page benchmark (bench/big_pages.py).

Rows go in through SQLAlchemy Core ``insert`` with many parameter sets per statement (no ORM objects, no
operations, no audit entries, no mails): 10,000 action items, 20,000 findings and 41,000 events take seconds.
The shape follows a real municipality: walks spread over the years, two findings per action item plus some
without one, a few photos (rows only; no files), agreements, and events on every item (created, assigned,
comments, status moves, internal notes).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Category,
    EventKind,
    Finding,
    FindingAgreement,
    Photo,
    PositionSource,
    Priority,
    ResponsibleParty,
    Role,
    Severity,
    User,
    Walk,
    WalkStatus,
    action_item_findings,
    walk_participants,
)

CHUNK = 2000  # rows per INSERT: well under SQLite's 32,766 bound parameters


@dataclass(frozen=True)
class BulkCounts:
    walks: int
    findings: int
    items: int
    events: int


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def _insert(session: Session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def fill(
    session: Session,
    walks: int,
    findings_per_walk: int,
    *,
    first_walk_at: datetime = datetime(2024, 1, 8, 17),
    days_between_walks: float = 1.0,
    seed: int = 1,
    items_per_walk: int | None = None,
) -> BulkCounts:
    """Add ``walks`` completed walks of ``findings_per_walk`` findings each; the findings go in pairs to one action
    item each, but the last two stay undecided (items ≈ findings / 2) with four events on average; ``items_per_walk``
    sets another number of items (past the pairs, an item links one finding). Needs the reference
    data (categories, parties). Ids are given here, so the rows link without a round trip per row. Returns
    what was added; the caller commits."""
    rng = random.Random(seed)
    categories = list(session.scalars(select(Category.id).order_by(Category.id)))
    parties = list(session.scalars(select(ResponsibleParty.id).order_by(ResponsibleParty.id)))
    user_id = _next_id(session, User)
    walk_id, finding_id = _next_id(session, Walk), _next_id(session, Finding)
    item_id, event_id = _next_id(session, ActionItem), _next_id(session, ActionEvent)
    photo_id = _next_id(session, Photo)
    coordinator = {
        "id": user_id,
        "email": f"bulk-samordnare-{user_id}@example.com",
        "name": "Bulk Samordnare",
        "role": Role.COORDINATOR,
        "password_hash": None,
    }
    residents = [
        {
            "id": user_id + n,
            "email": None,
            "name": f"Boende {user_id + n}",
            "role": Role.PARTICIPANT,
            "password_hash": None,
        }
        for n in range(1, 6)
    ]
    _insert(session, User.__table__, [coordinator, *residents])
    walk_rows: list[dict[str, Any]] = []
    participant_rows: list[dict[str, Any]] = []
    finding_rows: list[dict[str, Any]] = []
    photo_rows: list[dict[str, Any]] = []
    agreement_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    statuses = list(ActionStatus)
    for w in range(walks):
        wid = walk_id + w
        starts = first_walk_at + timedelta(days=w * days_between_walks)
        walk_rows.append(
            {
                "id": wid,
                "title": f"Vandring {wid}",
                "area": f"Område {wid % 40}",
                "starts_at": starts,
                "status": WalkStatus.COMPLETED,
                "join_code": f"bulk{wid:08d}",
                "closed_at": starts + timedelta(hours=2),
                "created_by_id": coordinator["id"],
                "meeting_lat": 56.87 + rng.random() / 50,
                "meeting_lon": 14.80 + rng.random() / 50,
            }
        )
        participant_rows.extend({"walk_id": wid, "user_id": r["id"], "joined_at": starts} for r in residents)
        ids = []
        for f in range(findings_per_walk):
            fid = finding_id + len(finding_rows)
            ids.append(fid)
            finding_rows.append(
                {
                    "id": fid,
                    "uuid": f"00000000-0000-4000-8000-{fid:012d}",
                    "walk_id": wid,
                    "category_id": categories[rng.randrange(len(categories))],
                    "description": f"Fynd {fid}: mörkt och otryggt",
                    "severity": rng.choice(list(Severity)),
                    "lat": 56.87 + rng.random() / 50,
                    "lon": 14.80 + rng.random() / 50,
                    "accuracy_m": 8.0,
                    "position_source": PositionSource.GPS,
                    "place": f"Gatan {f}",
                    "reporter_name": residents[f % len(residents)]["name"],
                    "reporter_id": residents[f % len(residents)]["id"],
                    "created_at": starts + timedelta(minutes=3 * f),
                }
            )
            if f % 4 == 0:
                photo_rows.append(
                    {
                        "id": photo_id + len(photo_rows),
                        "finding_id": fid,
                        "sha256": f"{fid:064x}",
                        "source_sha256": f"{fid:064x}",
                        "width": 1512,
                        "height": 2016,
                        "size_bytes": 650_000,
                        "created_at": starts,
                    }
                )
            if f % 3 == 0:
                agreement_rows.append(
                    {"finding_id": fid, "user_id": residents[(f + 1) % len(residents)]["id"], "walk_id": wid}
                )
        for n in range((len(ids) - 1) // 2 if items_per_walk is None else items_per_walk):
            linked = ids[2 * n : 2 * n + 2] if 2 * n + 1 < len(ids) else ids[n % len(ids) :][:1]
            iid = item_id + len(item_rows)
            created = starts + timedelta(days=2)
            status = statuses[iid % len(statuses)]
            resolved = status in (ActionStatus.DONE, ActionStatus.CLOSED)
            item_rows.append(
                {
                    "id": iid,
                    "walk_id": wid,
                    "title": f"Åtgärd {iid}",
                    "description": "Byt armatur",
                    "responsible_party_id": parties[iid % len(parties)],
                    "due_date": (created + timedelta(days=30 + iid % 60)).date(),
                    "priority": list(Priority)[iid % 3],
                    "status": status,
                    "created_by_id": coordinator["id"],
                    "created_at": created,
                    "updated_at": created,
                    "resolved_at": created + timedelta(days=iid % 40) if resolved else None,
                }
            )
            link_rows.extend({"action_item_id": iid, "finding_id": fid} for fid in linked)
            timeline = [
                (EventKind.CREATED, None, ActionStatus.NEW, "", False),
                (EventKind.STATUS, ActionStatus.NEW, ActionStatus.ASSIGNED, "", False),
                (EventKind.COMMENT, None, None, "Beställt", False),
                (EventKind.COMMENT, None, None, "Intern anteckning", True),
            ]
            if iid % 10 == 0:
                timeline.append((EventKind.STATUS, ActionStatus.ASSIGNED, status, "", False))
            for n, (kind, before, after, text, internal) in enumerate(timeline):
                event_rows.append(
                    {
                        "id": event_id + len(event_rows),
                        "action_item_id": iid,
                        "kind": kind,
                        "from_status": before,
                        "to_status": after,
                        "text": text,
                        "actor_id": coordinator["id"],
                        "actor_name": coordinator["name"],
                        "internal": internal,
                        "created_at": created + timedelta(days=n),
                    }
                )
    for table, rows in (
        (Walk.__table__, walk_rows),
        (walk_participants, participant_rows),
        (Finding.__table__, finding_rows),
        (Photo.__table__, photo_rows),
        (FindingAgreement.__table__, agreement_rows),
        (ActionItem.__table__, item_rows),
        (action_item_findings, link_rows),
        (ActionEvent.__table__, event_rows),
    ):
        _insert(session, table, rows)
    if session.get_bind().dialect.name == "postgresql":  # ids were given: move the sequences past them
        for model in (User, Walk, Finding, Photo, FindingAgreement, ActionItem, ActionEvent):
            name = model.__tablename__
            session.execute(
                select(
                    func.setval(func.pg_get_serial_sequence(name, "id"), select(func.max(model.id)).scalar_subquery())
                )
            )
    return BulkCounts(len(walk_rows), len(finding_rows), len(item_rows), len(event_rows))
