"""The database schema (SQLAlchemy 2.0 typed declarative models).

Reference data (levels, methods, divisions, service entities, measurement types) carries a
stable ``code`` from ``catalog.yaml`` and a ``retired_at`` time instead of being deleted, so
answers given about an item survive its removal from the catalog.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from data.limits import MAX_COUNT, MAX_TEXT

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        dict[str, str]: JSON(),
    }


class Role(enum.StrEnum):
    CONTACT = "contact"  # toimialan yhteyshenkilö
    COORDINATOR = "coordinator"  # koordinaattori
    STAFF = "staff"  # strategiayksikön asiantuntija


class ReportState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


class LedgerStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a process has taken it; not yet handed to Telegram (safe to resend)
    QUEUED = "queued"  # handed to the outbox with its row (one transaction): the outbox sends it
    IN_FLIGHT = "in_flight"  # the Telegram call has started: delivery unknown until it answers
    UNCERTAIN = "uncertain"  # the call may or may not have arrived; never resent ("epävarma")
    SENT = "sent"
    SKIPPED = "skipped"  # too late to send after an outage, or not needed any more
    FAILED = "failed"  # gave up after retries, or the person blocked the bot
    SNOOZED = "snoozed"  # the person asked to be reminded the next day


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


# --- reference catalog -----------------------------------------------------------------


class Level(Base):
    """Participation level 1–4 (osallisuuden taso)."""

    __tablename__ = "levels"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[dict[str, str]]
    description: Mapped[dict[str, str]]
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[dt.datetime | None]
    methods: Mapped[list[CatalogMethod]] = relationship(back_populates="level")


class CatalogMethod(Base):
    """An example participation method of a level (osallisuuden tapa)."""

    __tablename__ = "catalog_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    name: Mapped[dict[str, str]]
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[dt.datetime | None]
    level: Mapped[Level] = relationship(back_populates="methods")


class Division(Base):
    """A division (toimiala) such as KYMP."""

    __tablename__ = "divisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]]
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[dt.datetime | None]
    service_entities: Mapped[list[ServiceEntity]] = relationship(back_populates="division")


class ServiceEntity(Base):
    """A service entity (palvelukokonaisuus) of a division: the unit the metric counts per."""

    __tablename__ = "service_entities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    name: Mapped[dict[str, str]]
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[dt.datetime | None]
    division: Mapped[Division] = relationship(back_populates="service_entities")


class CatalogState(Base):
    """One row: the catalog's version, raised by every load of catalog.yaml that changed
    something, so that each process notices and reloads its held copy (data.catalog)."""

    __tablename__ = "catalog_state"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MeasurementType(Base):
    """How satisfaction is measured: NPS, a survey scale, smiley terminals, not measured…"""

    __tablename__ = "measurement_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # nps | scale | free | none
    scale: Mapped[str] = mapped_column(String(40), default="")
    scale_min: Mapped[int | None]
    scale_max: Mapped[int | None]
    name: Mapped[dict[str, str]]
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[dt.datetime | None]


# --- people and access -----------------------------------------------------------------


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: None once the person is erased (data.privacy): the row stays, pseudonymised, so the
    #: answers they reported keep an author.
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(2))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    division: Mapped[Division | None] = relationship()
    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_set(self) -> set[Role]:
        return {r.role for r in self.roles}

    @property
    def chat_id(self) -> int:
        """The person's private chat with the bot (their Telegram user id). An erased person
        has none; nothing is sent to them (they hold no role), so asking is a bug."""
        if self.telegram_user_id is None:
            raise ValueError(f"person {self.id} is erased: no chat")
        return self.telegram_user_id


class Actor(Protocol):
    """What the rules read of a person (``data.reports``' access checks, the author of an
    answer): a `Person` row, or the light ``data.people.PersonValue`` an update reads."""

    @property
    def id(self) -> int: ...
    @property
    def division_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def role_set(self) -> AbstractSet[Role]: ...


class PersonRole(Base):
    __tablename__ = "person_roles"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), primary_key=True)
    person: Mapped[Person] = relationship(back_populates="roles")


class Invitation(Base):
    """A single-use, expiring, revocable invitation behind a deep link.

    Only the SHA-256 of the link's token is stored (``data.people.hash_token``): a copy of
    the database does not give working links. The clear token exists once, in ``token`` of
    the object ``data.people.create_invitation`` returns, to be shown once.
    """

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The clear token, on the freshly created object only; never stored.
    token: ClassVar[str | None] = None
    role: Mapped[Role] = mapped_column(_enum(Role, "invitation_role"))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    revoked_at: Mapped[dt.datetime | None]
    division: Mapped[Division | None] = relationship()


# --- reporting -------------------------------------------------------------------------


class Round(Base):
    """One year's reporting round."""

    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ParticipationEntry(Base):
    """One participation method used in a service entity at a level, with its count (Lkm)."""

    __tablename__ = "participation_entries"
    __table_args__ = (
        CheckConstraint(f"count >= 0 AND count <= {MAX_COUNT}", name="count_range"),
        CheckConstraint("method_id IS NOT NULL OR method_text IS NOT NULL", name="method_given"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    service_entity_id: Mapped[int] = mapped_column(ForeignKey("service_entities.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    method_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_methods.id"))
    method_text: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    method: Mapped[CatalogMethod | None] = relationship()


class LevelNoneAnswer(Base):
    """The explicit answer "no methods at this level" — so *no answer* and *zero* differ."""

    __tablename__ = "level_none_answers"
    __table_args__ = (UniqueConstraint("round_id", "service_entity_id", "level_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    service_entity_id: Mapped[int] = mapped_column(ForeignKey("service_entities.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SatisfactionEntry(Base):
    """How satisfaction is measured in a service entity; type NOT_MEASURED is the explicit no."""

    __tablename__ = "satisfaction_entries"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps >= -100 AND nps <= 100)", name="nps_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    service_entity_id: Mapped[int] = mapped_column(ForeignKey("service_entities.id"))
    measurement_type_id: Mapped[int] = mapped_column(ForeignKey("measurement_types.id"))
    scale: Mapped[str | None] = mapped_column(String(100))
    #: A code of catalog.yaml's ``frequencies`` ("other": in the person's words, see below).
    frequency: Mapped[str | None] = mapped_column(String(40))
    frequency_text: Mapped[str | None] = mapped_column(String(300))
    #: What "Muu tapa" (measurement type OTHER) is, in the person's words.
    other_name: Mapped[str | None] = mapped_column(String(300))
    latest_result: Mapped[str | None] = mapped_column(String(300))
    nps: Mapped[int | None] = mapped_column(Integer)
    promoters: Mapped[int | None] = mapped_column(Integer)
    passives: Mapped[int | None] = mapped_column(Integer)
    detractors: Mapped[int | None] = mapped_column(Integer)
    respondents: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(300))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    measurement_type: Mapped[MeasurementType] = relationship()


class ReportStatus(Base):
    """A division's report state in a round: draft → submitted → reopened → submitted …"""

    __tablename__ = "report_statuses"
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), primary_key=True)
    state: Mapped[ReportState] = mapped_column(
        _enum(ReportState, "report_state"), default=ReportState.DRAFT
    )
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class AuditEvent(Base):
    """Append-only log of every change: who, when, what, old → new."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where an answer came from: "chat" or "excel" (None for other changes).
    source: Mapped[str | None] = mapped_column(String(16))


# --- reminders and bot state -----------------------------------------------------------


class ReminderLedger(Base):
    """What was sent to whom for which deadline and offset; the unique key makes it once."""

    __tablename__ = "reminder_ledger"
    __table_args__ = (
        UniqueConstraint("deadline_code", "deadline_date", "offset_days", "person_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_code: Mapped[str] = mapped_column(String(40))
    deadline_date: Mapped[dt.date] = mapped_column(Date)
    offset_days: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    audience: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|nudge|snooze
    due_at: Mapped[dt.datetime]
    status: Mapped[LedgerStatus] = mapped_column(_enum(LedgerStatus, "ledger_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConversationDraft(Base):
    """Answers a person has given but not yet saved: survive restarts and idle timeouts."""

    __tablename__ = "conversation_drafts"
    __table_args__ = (UniqueConstraint("person_id", "flow"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_activity_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Another command was given meanwhile: typed text no longer goes to this flow until
    #: the person continues it (its command or one of its current buttons).
    paused: Mapped[bool] = mapped_column(default=False)
    #: Telegram's update_id of the last update applied to the draft: an older update
    #: replayed later (after a crash, from another replica) is refused, not applied to a
    #: step it was never meant for (``bot.flow.router``).
    last_update_id: Mapped[int | None] = mapped_column(BigInteger)


class InboxUpdate(Base):
    """One Telegram update as received, written before it is acknowledged (see data.inbox).

    ``update_id`` is Telegram's own id, so a redelivered update collides with its first copy
    and is dropped; ``handled_at`` stays empty until the update's effects are committed, so
    a crash in between leaves it to be handled again at start-up.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "handled_at", "chat_id", "update_id"),
        Index("ix_inbox_received_at", "received_at"),
    )
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[dt.datetime | None]
    #: The replica handling the update and until when; a live replica renews its leases,
    #: so an expired one means the replica died and any other replica takes the update over.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    """A request to Telegram an update (or a reminder) produced, written in the same
    transaction as its cause and delivered after the commit (see ``data.outbox``).

    ``status``: pending → sending (committed right before the HTTP call) → sent | failed;
    a row left "sending" by a dead replica becomes "uncertain" and is never sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "lease_until"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The update that produced it (None for reminders and nudges).
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    #: Sent on the bot's own initiative (a reminder, a nudge): kept a second after the
    #: chat's previous message from any replica. Replies to a person are not held.
    paced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChatPause(Base):
    """One chat's send clock, shared by every replica (``data.outbox``).

    ``until``: Telegram asked (429) that nothing be sent to this chat before it.
    ``next_send``: the earliest moment a paced message (a reminder, a nudge; anything to a
    group) may go, set by every message sent to the chat from any replica.
    """

    __tablename__ = "chat_pauses"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    until: Mapped[dt.datetime]
    next_send: Mapped[dt.datetime | None]


class Replica(Base):
    """A live process that sends to Telegram: each shares the bot's send budget with the
    others (``data.ratelimit.share_send_budget``)."""

    __tablename__ = "replicas"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[dt.datetime]
    #: The sends per window (of Telegram's 30) this replica holds; NULL: a replica of the
    #: release before, which takes an even share.
    slots: Mapped[int | None] = mapped_column(default=None)
    #: The sends per window it would make if the budget allowed, at its last heartbeat.
    demand: Mapped[int | None] = mapped_column(default=None)


class CommandMenu(Base):
    """The command menu last set with setMyCommands, per scope ("default", "chat:<id>").

    Only a digest of what was sent is kept: start-up compares it with the menu the person
    should have now and calls Telegram only for the ones that changed.
    """

    __tablename__ = "command_menus"
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EntityVersion(Base):
    """How many times a service entity's answers in a round have changed (see data.versions).

    Every write of an entity's participation or satisfaction answers, from the chat, Excel
    or the Mini App, raises the number in the same transaction; a save that names the version
    it was based on is refused when the number has moved on, instead of overwriting.
    """

    __tablename__ = "entity_versions"
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    service_entity_id: Mapped[int] = mapped_column(
        ForeignKey("service_entities.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)


class MiniAppSave(Base):
    """One save attempt through the Mini App: the per-person rate limit counts these rows,
    so every replica sees the same count (no state in process memory)."""

    __tablename__ = "miniapp_saves"
    __table_args__ = (Index("ix_miniapp_saves_person_at", "person_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SchemaCompatibility(Base):
    """Which releases' code can run on a schema revision (expand/contract upgrades).

    Every migration from ``0012_ops`` on adds its row (`data.migrations.compat`): the
    oldest migration head whose code still runs on the schema this revision leaves. A
    replica of an older release that finds the database at a revision it does not know
    looks its row up here: when the row names a revision the replica knows, the new schema
    only added to what it uses and it starts and serves; otherwise it refuses (exit 2).
    """

    __tablename__ = "schema_compatibility"
    revision: Mapped[str] = mapped_column(String(64), primary_key=True)
    oldest_code_revision: Mapped[str] = mapped_column(String(64))
