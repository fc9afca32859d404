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
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from data import people, progress
from data.db import insert_for, run
from data.models import ConversationDraft, Person, PersonRole
from data.people import PersonValue
from data.txstate import PerTransaction

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


#: The draft table, for the Core statements below (no ORM unit of work on the hot path).
_DRAFTS: Table = cast(Table, ConversationDraft.__table__)
_C = _DRAFTS.c
#: The columns a `Draft` is read from, in the order of its fields.
_COLUMNS = (
    _C.id,
    _C.person_id,
    _C.flow,
    _C.step,
    _C.data,
    _C.last_activity_at,
    _C.paused,
    _C.last_update_id,
)
#: The columns a turn may change on a draft (`save` writes the changed ones).
_CHANGING = ("step", "data", "last_activity_at", "paused", "last_update_id")


@dataclass(slots=True, eq=False)
class Draft:
    """One ConversationDraft row as a plain value: what the conversations read and change.

    Not an ORM entity: loading one costs a tuple and this object instead of the unit of
    work's identity map, history and flush (an entity load cost 0.28 ms against 0.08 ms
    through Core, on every update). A change is made on the object (`write`, ``paused``)
    and written by `save` with one plain ``UPDATE`` of the changed columns; the drafts a
    transaction loaded or created are tracked in its session (`_Tracked`), so `save` finds
    them and a commit never loses one (`_save_before_commit`)."""

    id: int
    person_id: int
    flow: str
    step: str
    data: dict[str, Any]
    last_activity_at: dt.datetime
    paused: bool
    last_update_id: int | None
    #: The column values the database holds (as read or last written), by `_CHANGING`.
    stored: tuple[Any, ...] = field(default=(), repr=False)
    #: Deleted in this transaction (`discard`): nothing of it is written any more.
    gone: bool = field(default=False, repr=False)
    #: Created in this transaction (`put`).
    created: bool = field(default=False, repr=False)

    def changes(self) -> dict[str, Any]:
        """The columns changed since read or last written (``data`` compared by identity:
        `write` always stores a fresh copy, as the ORM's JSON column noticed only a new
        value)."""
        found: dict[str, Any] = {}
        for index, name in enumerate(_CHANGING):
            value, old = getattr(self, name), self.stored[index]
            if (value is not old) if name == "data" else (value != old):
                found[name] = value
        return found

    def _mark_stored(self) -> None:
        self.stored = tuple(getattr(self, name) for name in _CHANGING)


class _Tracked:
    """The drafts one transaction loaded or created (in ``session.info``), and the update
    acting on them, whose id `put` and `save` stamp on what it changes."""

    __slots__ = ("drafts", "update_id")

    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.update_id: int | None = None


def _tracked(session: Session) -> _Tracked:
    return _TRACKER.get(session)


def _draft(session: Session, row: Any, *, written: bool = False, created: bool = False) -> Draft:
    """A row of `_COLUMNS` as a tracked `Draft`: one object per row and transaction, as the
    ORM's identity map kept. A draft already tracked is returned as it is (with any change
    not yet saved) after a read, and refreshed from the row after a write (``written``:
    the row a statement of this module just wrote)."""
    tracked = _tracked(session)
    for draft in tracked.drafts:
        if draft.id == row[0] and not draft.gone:
            if not written:
                return draft
            (_, _, draft.flow, draft.step, draft.data, draft.last_activity_at) = row[:6]
            draft.paused, draft.last_update_id = row[6], row[7]
            draft.created = draft.created or created
            draft._mark_stored()
            return draft
    draft = Draft(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], created=created)
    draft._mark_stored()
    tracked.drafts.append(draft)
    return draft


_GET = select(*_COLUMNS).where(_C.person_id == bindparam("person_id"), _C.flow == bindparam("flow"))


def get(session: Session, person_id: int, flow: str) -> Draft | None:
    """The person's draft in the flow, or None."""
    row = run(session.connection(), _GET, {"person_id": person_id, "flow": flow}).first()
    return _draft(session, row) if row is not None else None


_ACTIVE = (
    select(*_COLUMNS)
    .where(_C.person_id == bindparam("person_id"), _C.paused.is_(False))
    .order_by(_C.last_activity_at.desc())
    .limit(1)
)


def active(session: Session, person_id: int) -> Draft | None:
    """The person's open conversation (the draft not paused), if any."""
    row = run(session.connection(), _ACTIVE, {"person_id": person_id}).first()
    return _draft(session, row) if row is not None else None


#: `person_and_drafts`'s statement, built once: it runs on every update, and building it
#: cost more CPU than compiling it (which SQLAlchemy caches anyway). Plain Core columns:
#: the person, each of their roles and each of their drafts (roles × drafts rows, a few at
#: most), read into `PersonValue` and `Draft` without the ORM's entity loading.
_PEOPLE: Table = cast(Table, Person.__table__)
_ROLES: Table = cast(Table, PersonRole.__table__)
_PERSON_AND_DRAFTS = (
    select(*people.PERSON_COLUMNS, _ROLES.c.role, *_COLUMNS)
    .select_from(_PEOPLE)
    .outerjoin(_ROLES, _ROLES.c.person_id == _PEOPLE.c.id)
    .outerjoin(_DRAFTS, _C.person_id == _PEOPLE.c.id)
    .where(_PEOPLE.c.telegram_user_id == bindparam("telegram_user_id"))
    .order_by(_C.last_activity_at.desc(), _C.id.desc())
    .with_for_update(of=_PEOPLE)
)
_ROLE_AT = len(people.PERSON_COLUMNS)
_DRAFT_AT = _ROLE_AT + 1
_DRAFT_END = _DRAFT_AT + len(_COLUMNS)


#: `_PERSON_AND_DRAFTS` with a progress column (``data.progress.preload``: one per round and
#: dialect), by the column's id: built once, so its cache key is too (a statement built per
#: use recomputed it over the whole progress ``UNION ALL`` on every /raportoi).
_WITH_PROGRESS: dict[int, tuple[Any, Any]] = {}


def _with_progress(column: Any) -> Any:
    found = _WITH_PROGRESS.get(id(column))
    if found is None or found[0] is not column:
        found = _WITH_PROGRESS[id(column)] = (column, _PERSON_AND_DRAFTS.add_columns(column))
    return found[1]


def person_and_drafts(
    session: Session,
    telegram_user_id: int,
    *,
    progress_year: int | None = None,
    update_id: int | None = None,
) -> tuple[PersonValue | None, list[Draft]]:
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

    ``update_id``: the update acting on the drafts; `put` and `save` record it on the
    drafts it creates or changes (``bot.flow.router``: a replayed older update is refused).
    """
    ahead = progress.preload(session, progress_year, telegram_user_id) if progress_year else None
    query = _PERSON_AND_DRAFTS if ahead is None else _with_progress(ahead.column)
    rows = run(session.connection(), query, {"telegram_user_id": telegram_user_id}).all()
    _tracked(session).update_id = update_id
    if not rows:
        return None, []
    first = rows[0]
    roles = frozenset(row[_ROLE_AT] for row in rows if row[_ROLE_AT] is not None)
    person = people.person_value(first, roles)
    found: list[Draft] = []
    seen: set[int] = set()
    for row in rows:
        draft_id = row[_DRAFT_AT]
        if draft_id is not None and draft_id not in seen:
            seen.add(draft_id)
            found.append(_draft(session, row[_DRAFT_AT:_DRAFT_END]))
    if ahead is not None and person.division_id is not None:
        ahead.keep(session, person.division_id, first[_DRAFT_END])
    return person, found


def pause_others(rows: list[Draft], flow: str | None) -> None:
    """Only ``flow`` (None: no flow) takes typed text now; the person's other drafts pause.

    An unchanged draft costs no statement (`save` writes changed columns only).
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
    *,
    paused: bool = False,
) -> Draft:
    """Create or overwrite the draft; ``data`` is copied so later changes are not shared.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: two sessions starting the
    person's draft at once share one row instead of one failing on (person_id, flow). The
    acting update (`person_and_drafts`'s ``update_id``) is recorded on it.
    """
    update_id = _tracked(session).update_id
    params = {
        "put_person_id": person_id,
        "put_flow": flow,
        "put_step": step,
        "put_data": copy_data(data),
        "put_last_activity_at": now,
        "put_paused": paused,
    }
    if update_id is not None:
        params["put_last_update_id"] = update_id
    statement = _put_statement(session, stamped=update_id is not None)
    row = run(session.connection(), statement, params).one()
    return _draft(session, row, written=True, created=True)


#: `put`'s statements by (dialect, whether the update id is written), built once.
_PUT: dict[tuple[str, bool], Any] = {}


def _put_statement(session: Session, *, stamped: bool) -> Any:
    key = (session.get_bind().dialect.name, stamped)
    found = _PUT.get(key)
    if found is None:
        names = ["step", "data", "last_activity_at", "paused"]
        names += ["last_update_id"] if stamped else []
        values = {
            name: bindparam(f"put_{name}", type_=_C[name].type)
            for name in ("person_id", "flow", *names)
        }
        insert = insert_for(session, ConversationDraft).values(**values)
        found = _PUT[key] = insert.on_conflict_do_update(
            index_elements=["person_id", "flow"],
            set_={name: insert.excluded[name] for name in names},
        ).returning(*_COLUMNS)
    return found


def write(row: Draft, step: str, data: dict[str, Any], now: dt.datetime) -> None:
    """Store a new step and data on a loaded draft (a fresh dict, so the JSON is saved)."""
    row.step = step
    row.data = copy_data(data)
    row.last_activity_at = now
    row.paused = False


#: `save`'s statement; the SET clause comes from the parameters' keys (`_CHANGING`).
_SAVE = _DRAFTS.update().where(_C.id == bindparam("draft_id"))


def save(session: Session, *, stamp: bool = False) -> None:
    """Write the drafts the transaction changed, one plain ``UPDATE`` each, changed columns
    only (a column written by another session meanwhile, the idle check pausing the draft,
    is left alone, as the unit of work would).

    ``stamp``: the acting update (`person_and_drafts`'s ``update_id``) was applied: it is
    recorded on every draft it changed or created (``bot.flow.router``'s stale-replay
    check); a paused draft it did not touch keeps its stamp (no extra write). A commit
    calls this too (without stamping): a change made on a draft is never lost.
    """
    tracked = _TRACKER.peek(session)
    if tracked is None:
        return
    update_id = tracked.update_id if stamp else None
    for row in tracked.drafts:
        if row.gone:
            continue
        params = row.changes()
        older = row.last_update_id is None or (update_id or 0) > row.last_update_id
        if update_id is not None and older and (params or row.created or not row.paused):
            row.last_update_id = update_id
            params = row.changes()
        if params:
            params["draft_id"] = row.id
            run(session.connection(), _SAVE, params)
            row._mark_stored()


def _save_before_commit(session: Session, _tracked: _Tracked) -> None:
    """A commit saves what the transaction changed on its drafts: a change is never lost."""
    save(session)


def _forget_after_a_rollback(session: Session, tracked: _Tracked) -> None:
    """After a rollback — of the transaction or of a savepoint, whose writes may be among
    those undone — the tracked values are not the database's: the drafts are read again
    (the acting update stays the transaction's)."""
    tracked.drafts = []


#: The drafts tracker is one transaction's (``data.txstate``): after its commit another
#: session may change the drafts, and a session used again reads them afresh (as the ORM's
#: identity map expires its objects); a savepoint released keeps it, its changes belong to
#: the enclosing transaction, which still has to save them.
_TRACKER: PerTransaction[_Tracked] = PerTransaction(
    "conversation_drafts",
    _Tracked,
    before_commit=_save_before_commit,
    at_rollback=_forget_after_a_rollback,
)


_DISCARD = _DRAFTS.delete().where(
    _C.person_id == bindparam("person_id"), _C.flow == bindparam("flow")
)


def discard(session: Session, person_id: int, flow: str) -> bool:
    """Delete the draft; True if there was one."""
    result = run(session.connection(), _DISCARD, {"person_id": person_id, "flow": flow})
    tracked = _TRACKER.peek(session)
    if tracked is not None:
        for row in tracked.drafts:
            if row.person_id == person_id and row.flow == flow:
                row.gone = True
    return bool(result.rowcount)


class _Active(Protocol):
    @property
    def last_activity_at(self) -> dt.datetime: ...


def is_idle(draft: _Active, now: dt.datetime, idle_minutes: float) -> bool:
    """True when nothing has happened in the draft for ``idle_minutes`` or more."""
    return now - draft.last_activity_at >= dt.timedelta(minutes=idle_minutes)


_IDLE = select(_C.id).where(_C.paused.is_(False), _C.last_activity_at <= bindparam("limit"))
_CLAIM = (
    _DRAFTS.update()
    .where(_C.id == bindparam("draft_id"), _C.paused.is_(False))
    .values(paused=True)
    .returning(*_COLUMNS)
)


def claim_idle(session: Session, now: dt.datetime, idle_minutes: float) -> list[Draft]:
    """Open drafts idle for ``idle_minutes`` or more, each paused here and now.

    The pause is a conditional UPDATE per draft, so when several processes look at the same
    moment each idle draft is claimed — and its person told — by exactly one of them.
    """
    limit = now - dt.timedelta(minutes=idle_minutes)
    connection = session.connection()
    candidates = connection.execute(_IDLE, {"limit": limit}).scalars().all()
    claimed = []
    for draft_id in candidates:
        row = connection.execute(_CLAIM, {"draft_id": draft_id}).first()
        if row is not None:
            claimed.append(_draft(session, row, written=True))
    return claimed


# --- the newest menu of each administration command ------------------------------------

#: Draft name of a command's newest menu: ``menu:<feature>`` (paused: never an open
#: conversation; it holds only the menu message's id).
MENU_PREFIX = "menu:"


def record_menu(
    session: Session, person_id: int, feature: str, message_id: int, now: dt.datetime
) -> None:
    """The command just sent its menu as message ``message_id``: older menus are stale."""
    put(
        session,
        person_id,
        MENU_PREFIX + feature,
        "menu",
        {"message_id": message_id},
        now,
        paused=True,
    )


def menu_is_stale(session: Session, person_id: int, feature: str, message_id: int) -> bool:
    """A button on a message older than the command's newest menu (follow-up messages of
    that menu, sent after it, are current)."""
    row = get(session, person_id, MENU_PREFIX + feature)
    newest = row.data.get("message_id") if row is not None else None
    return isinstance(newest, int) and message_id < newest
