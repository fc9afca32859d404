"""Unsaved answers of a guided conversation (ConversationDraft), one row per person and flow.

A person's answers live here from the first tap until they press "Save": the draft survives a
bot restart and an idle timeout, and it is the only place a conversation keeps what was typed
(never PTB's ``user_data``). The row also carries the step and the time of the last activity,
so the bot can tell on the next update that the person has been away too long, measured on
the application's clock rather than on a timer that a restart would lose.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import get_history

from data import progress
from data.db import affected, insert_for
from data.models import ConversationDraft, Person

_ATOMS = (str, int, float, bool, type(None))


def copy_data(value: Any) -> Any:
    """A deep copy of a draft's data (JSON: dicts, lists, strings, numbers), several times
    faster than ``copy.deepcopy``, which every turn paid for when reading and again when
    writing its draft; anything else inside is deep-copied the usual way."""
    kind = type(value)
    if kind is dict:
        return {key: copy_data(item) for key, item in value.items()}
    if kind is list:
        return [copy_data(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def get(session: Session, person_id: int, flow: str) -> ConversationDraft | None:
    """The person's draft in the flow, or None."""
    return session.scalar(
        select(ConversationDraft).where(
            ConversationDraft.person_id == person_id, ConversationDraft.flow == flow
        )
    )


def active(session: Session, person_id: int) -> ConversationDraft | None:
    """The person's open conversation (the draft not paused), if any."""
    return session.scalar(
        select(ConversationDraft)
        .where(ConversationDraft.person_id == person_id, ConversationDraft.paused.is_(False))
        .order_by(ConversationDraft.last_activity_at.desc())
        .limit(1)
    )


def for_update(session: Session, person_id: int) -> list[ConversationDraft]:
    """All the person's drafts, locked until the transaction ends.

    Taking the rows ``FOR UPDATE`` serialises one person's updates across processes on
    PostgreSQL (SQLite serialises every writer anyway), so two replicas never act on the
    same draft at once. The active draft is the one not paused.
    """
    return list(
        session.scalars(
            select(ConversationDraft)
            .where(ConversationDraft.person_id == person_id)
            .order_by(ConversationDraft.last_activity_at.desc(), ConversationDraft.id.desc())
            .with_for_update()
        )
    )


#: `person_and_drafts`'s statement, built once: it runs on every update, and building it
#: (the join, the eager load, the ordering) cost more CPU than compiling it, which
#: SQLAlchemy caches anyway; a statement object reused also keeps its cache key.
_PERSON_AND_DRAFTS = (
    select(Person, ConversationDraft)
    .outerjoin(ConversationDraft, ConversationDraft.person_id == Person.id)
    .options(joinedload(Person.roles))
    .where(Person.telegram_user_id == bindparam("telegram_user_id"))
    .order_by(ConversationDraft.last_activity_at.desc(), ConversationDraft.id.desc())
    .with_for_update(of=Person.__table__)
)


def person_and_drafts(
    session: Session, telegram_user_id: int, *, progress_year: int | None = None
) -> tuple[Person | None, list[ConversationDraft]]:
    """The person behind a Telegram user (with roles) and all their drafts, in one statement,
    the person's row locked until the transaction ends (None and [] for an unknown user).

    This is the first statement of every update to a guided conversation. Locking the
    person row ``FOR UPDATE`` serialises one person's updates across processes on
    PostgreSQL (SQLite serialises every writer anyway), so two replicas never act on the
    same drafts at once; it also exists before the person's first draft does. The active
    draft is the one not paused; the newest come first.

    ``progress_year``: the same statement also reads the person's division's progress in
    that year's round (``data.progress.preload``), which the update shows next (the start
    of /raportoi and /tyytyvaisyys) — one statement fewer.
    """
    ahead = progress.preload(session, progress_year, telegram_user_id) if progress_year else None
    query = _PERSON_AND_DRAFTS
    if ahead is not None:  # the start of a flow that shows the progress: built per use
        query = query.add_columns(ahead.column)
    result = session.execute(query, {"telegram_user_id": telegram_user_id}).unique()
    person: Person | None = None
    rows: list[ConversationDraft] = []
    read: str | None = None
    found: Any
    for found in result:
        person, draft = found[0], found[1]
        if ahead is not None:
            read = found[2]
        if draft is not None:
            rows.append(draft)
    if ahead is not None and person is not None and person.division_id is not None:
        ahead.keep(session, person.division_id, read)
    return person, rows


def pause_others(rows: list[ConversationDraft], flow: str | None) -> None:
    """Only ``flow`` (None: no flow) takes typed text now; the person's other drafts pause.

    Works on rows loaded by `for_update`, so an unchanged row costs no statement.
    """
    for row in rows:
        if row.flow != flow and not row.paused:
            row.paused = True


def put(
    session: Session,
    person_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: dt.datetime,
) -> ConversationDraft:
    """Create or overwrite the draft; ``data`` is copied so later changes are not shared.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: two sessions starting the
    person's draft at once share one row instead of one failing on (person_id, flow).
    """
    values = {
        "step": step,
        "data": copy_data(data),
        "last_activity_at": now,
        "paused": False,
    }
    statement = insert_for(session, ConversationDraft).values(
        person_id=person_id, flow=flow, **values
    )
    row = session.scalars(
        statement.on_conflict_do_update(
            index_elements=["person_id", "flow"], set_=values
        ).returning(ConversationDraft),
        execution_options={"populate_existing": True},
    ).one()
    return row  # type: ignore[no-any-return]


def write(row: ConversationDraft, step: str, data: dict[str, Any], now: dt.datetime) -> None:
    """Store a new step and data on a loaded draft (a fresh dict, so the JSON is saved)."""
    row.step = step
    row.data = copy_data(data)
    row.last_activity_at = now
    row.paused = False


#: The columns a turn changes on a loaded draft (`save`).
_CHANGING = ("step", "data", "last_activity_at", "paused", "last_update_id")
#: `save`'s statement; the SET clause comes from the parameters' keys (`_CHANGING`).
_SAVE = (
    cast(Table, ConversationDraft.__table__)
    .update()
    .where(ConversationDraft.__table__.c.id == bindparam("draft_id"))
)


def save(session: Session) -> None:
    """Write the loaded drafts a turn changed, one plain ``UPDATE`` each, and take them out
    of the session so its flush does not write them again.

    The same statement the unit of work would make at the commit, for a third of the CPU:
    every update of a guided conversation changes its draft, and the unit of work's flush
    of that one row cost more than the rest of the commit. Call it last in the transaction
    (after it, the rows are detached: still readable, no longer tracked). New drafts
    (`put` already wrote them) that were changed again are written here too; deleted
    ones are not in the session any more.
    """
    for row in [obj for obj in session.dirty if isinstance(obj, ConversationDraft)]:
        # Only the columns that changed, as the unit of work would: a column written by
        # another session meanwhile (the idle check pausing the draft) is left alone.
        params = {name: getattr(row, name) for name in _CHANGING if _changed(row, name)}
        if params:
            params["draft_id"] = row.id
            session.connection().execute(_SAVE, params)
        session.expunge(row)


def _changed(row: ConversationDraft, name: str) -> bool:
    return bool(get_history(row, name).has_changes())


def discard(session: Session, person_id: int, flow: str) -> bool:
    """Delete the draft; True if there was one."""
    result = session.execute(
        delete(ConversationDraft).where(
            ConversationDraft.person_id == person_id, ConversationDraft.flow == flow
        )
    )
    return bool(affected(result))


def is_idle(draft: ConversationDraft, now: dt.datetime, idle_minutes: float) -> bool:
    """True when nothing has happened in the draft for ``idle_minutes`` or more."""
    return now - draft.last_activity_at >= dt.timedelta(minutes=idle_minutes)


def claim_idle(session: Session, now: dt.datetime, idle_minutes: float) -> list[ConversationDraft]:
    """Open drafts idle for ``idle_minutes`` or more, each paused here and now.

    The pause is a conditional UPDATE per draft, so when several processes look at the same
    moment each idle draft is claimed — and its person told — by exactly one of them.
    """
    limit = now - dt.timedelta(minutes=idle_minutes)
    candidates = session.scalars(
        select(ConversationDraft.id).where(
            ConversationDraft.paused.is_(False), ConversationDraft.last_activity_at <= limit
        )
    ).all()
    claimed = []
    for draft_id in candidates:
        result = session.execute(
            update(ConversationDraft)
            .where(ConversationDraft.id == draft_id, ConversationDraft.paused.is_(False))
            .values(paused=True)
            .execution_options(synchronize_session=False)
        )
        if affected(result):
            row = session.get(ConversationDraft, draft_id)
            if row is not None:
                session.refresh(row)
                claimed.append(row)
    return claimed


# --- the newest menu of each administration command ------------------------------------

#: Draft name of a command's newest menu: ``menu:<feature>`` (paused: never an open
#: conversation; it holds only the menu message's id).
MENU_PREFIX = "menu:"


def record_menu(
    session: Session, person_id: int, feature: str, message_id: int, now: dt.datetime
) -> None:
    """The command just sent its menu as message ``message_id``: older menus are stale."""
    row = put(session, person_id, MENU_PREFIX + feature, "menu", {"message_id": message_id}, now)
    row.paused = True


def menu_is_stale(session: Session, person_id: int, feature: str, message_id: int) -> bool:
    """A button on a message older than the command's newest menu (follow-up messages of
    that menu, sent after it, are current)."""
    row = get(session, person_id, MENU_PREFIX + feature)
    newest = row.data.get("message_id") if row is not None else None
    return isinstance(newest, int) and message_id < newest
