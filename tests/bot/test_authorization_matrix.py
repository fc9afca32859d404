"""Every command and every button of the bot × every role × own / other division.

Each case is one action through the local Telegram: a command, or a button press forged
with ids of the actor's own division (KUVA) or of another division (KYMP). The expected
outcome is "allowed" (answered, no refusal) or "refused" (a refusal or "no longer valid",
nothing changed in the database, nobody else messaged). In every case, a person who is not
a coordinator or strategy staff member never sees another division's data: its service
entities' names, its division name, the methods it reported or their counts.

Roles: ``none`` (not registered), ``contact`` (of KUVA), ``coordinator``, ``staff``. Scope
``own``: the data and the ids the buttons carry are KUVA's; ``other``: they are KYMP's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pytest
from sqlalchemy import func, select

from data import catalog, ledger, people, reports
from data.models import (
    AuditEvent,
    ConversationDraft,
    Invitation,
    ParticipationEntry,
    Person,
    ReminderLedger,
    ReportStatus,
    Role,
    SatisfactionEntry,
    ServiceEntity,
)
from data.reports import ParticipationAnswer, SatisfactionAnswer
from localtg import LocalUser

from .conftest import BotHarness

YEAR = 2026
OWN, OTHER = "KUVA", "KYMP"
ROLES = ("none", "contact", "coordinator", "staff")
SCOPES = ("own", "other")
Expect = Literal["allow", "refuse"]

REFUSALS = (
    "Sinulla ei ole oikeutta tähän.",
    "Sinulla ei ole vielä käyttöoikeutta tähän bottiin.",
    "Tämä painike ei ole enää voimassa.",
)
#: What an unregistered person gets for anything but /start, /ohje and /kieli.
NO_ACCESS = "Sinulla ei ole vielä käyttöoikeutta"


@dataclass
class World:
    """The people, data and ids one case acts on."""

    bot: BotHarness
    role: str
    scope: str
    actor: LocalUser
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """The division the forged ids belong to."""
        return OWN if self.scope == "own" else OTHER

    def id(self, name: str) -> int:
        """An id of the target division: "division", "entity", "contact", "invitation"…"""
        return self.ids[f"{self.target}:{name}"]


@dataclass(frozen=True)
class Case:
    name: str
    action: Callable[[World], str]  # "/command" or callback data
    allowed: frozenset[str]  # roles that may do it (for both scopes unless own_only)
    before: tuple[str, ...] = ()  # commands that open a conversation first
    own_only: bool = False  # with other-division ids it must be refused even for them
    setup: Callable[[World], None] | None = None

    def expect(self, role: str, scope: str) -> Expect:
        if role not in self.allowed:
            return "refuse"
        if self.own_only and scope == "other":
            return "refuse"
        return "allow"


ALL = frozenset(ROLES)
CONTACT = frozenset({"contact"})
COORDINATOR = frozenset({"coordinator"})
STAFF = frozenset({"staff"})
OVERSEERS = frozenset({"coordinator", "staff"})


def _command(name: str) -> Callable[[World], str]:
    return lambda world: f"/{name}"


def _data(template: str) -> Callable[[World], str]:
    """Callback data with ``{division}``, ``{contact}`` … filled from the target division."""

    def build(world: World) -> str:
        names = re.findall(r"\{(\w+)\}", template)
        return template.format(**{n: world.id(n) for n in names})

    return build


def _flow_button(prefix: str) -> Callable[[World], str]:
    """The entity button of a guided conversation, pointed at the target's service entity:
    the step number is taken from the button the bot actually showed, when it showed one."""

    def build(world: World) -> str:
        shown = [
            str(button.get("callback_data"))
            for message in world.actor.messages[-1:]
            for row in message.inline_keyboard
            for button in row
        ]
        step = next(
            (m.group(1) for d in shown if (m := re.match(rf"^{prefix}:(\d+):E:s:\d+$", d))), "1"
        )
        return f"{prefix}:{step}:E:s:{world.id('entity')}"

    return build


def _submitted(world: World) -> None:
    """The target division's report is submitted (for the reopen button)."""
    with world.bot.db.transaction() as session:
        contact = session.get(Person, world.id("contact"))
        assert contact is not None
        reports.submit_report(session, contact, YEAR, world.id("division"))


CASES = [
    # --- commands -----------------------------------------------------------------------
    Case("start", _command("start"), ALL),
    Case("ohje", _command("ohje"), ALL),
    Case("kieli", _command("kieli"), ALL),
    Case("omat_tiedot", _command("omat_tiedot"), ALL),
    Case("raportoi", _command("raportoi"), CONTACT),
    Case("tyytyvaisyys", _command("tyytyvaisyys"), CONTACT),
    Case("tila", _command("tila"), CONTACT),
    Case("valmis", _command("valmis"), CONTACT),
    Case("muokkaa", _command("muokkaa"), CONTACT),
    Case("tilanne", _command("tilanne"), OVERSEERS),
    Case("muistuta", _command("muistuta"), COORDINATOR),
    Case("aikataulu", _command("aikataulu"), OVERSEERS),
    Case("luonnos", _command("luonnos"), STAFF),
    Case("kutsu", _command("kutsu"), STAFF),
    Case("henkilot", _command("henkilot"), STAFF),
    Case("peru", _command("peru"), frozenset({"contact", "coordinator", "staff"})),
    # --- common buttons -----------------------------------------------------------------
    Case("lang", _data("lang:sv"), ALL),
    # --- /kutsu -------------------------------------------------------------------------
    Case("kutsu:role", _data("kutsu:role:coordinator"), STAFF),
    Case("kutsu:div", _data("kutsu:div:{division}"), STAFF),
    Case("kutsu:open", _data("kutsu:open"), STAFF),
    Case("kutsu:revoke", _data("kutsu:revoke:{invitation}:l"), STAFF),
    Case("kutsu:cancel", _data("kutsu:cancel"), STAFF),
    # --- /henkilot ----------------------------------------------------------------------
    Case("henk:page", _data("henk:page:0"), STAFF),
    Case("henk:show", _data("henk:show:{contact}"), STAFF),
    Case("henk:role", _data("henk:role:{contact}:coordinator:1"), STAFF),
    Case("henk:divs", _data("henk:divs:{contact}"), STAFF),
    Case("henk:div", _data("henk:div:{contact}:{division}"), STAFF),
    Case("henk:rm", _data("henk:rm:{contact}"), STAFF),
    Case("henk:rmok", _data("henk:rmok:{contact}"), STAFF),
    # --- /tilanne, /muistuta, /luonnos --------------------------------------------------
    Case(
        "tilanne:reopen",
        _data(f"tilanne:reopen:{{division}}:{YEAR}"),
        COORDINATOR,
        setup=_submitted,
    ),
    Case(
        "tilanne:reopenok",
        _data(f"tilanne:reopenok:{{division}}:{YEAR}:1"),
        COORDINATOR,
        setup=_submitted,
    ),
    Case("tilanne:reopenno", _data("tilanne:reopenno:{division}"), COORDINATOR),
    Case("muistuta:all", _data("muistuta:all"), COORDINATOR),
    Case("muistuta:div", _data("muistuta:div:{division}"), COORDINATOR),
    Case("muistuta:cancel", _data("muistuta:cancel"), COORDINATOR),
    Case("luonnos:kind", _data("luonnos:kind:liite1"), STAFF),
    # --- reminders ----------------------------------------------------------------------
    Case("report:start", _data("report:start"), CONTACT),
    Case("satisfaction:start", _data("satisfaction:start"), CONTACT),
    Case("rem:snooze", _data("rem:snooze:{reminder}"), CONTACT, own_only=True),
    # --- guided conversations: a forged button inside the actor's own conversation -------
    Case("rp:entity", _flow_button("rp"), CONTACT, before=("/raportoi",), own_only=True),
    Case("ts:entity", _flow_button("ts"), CONTACT, before=("/tyytyvaisyys",), own_only=True),
    Case(
        "ed:edit-participation",
        _data("ed:1:L:p:p{participation}"),
        CONTACT,
        before=("/muokkaa",),
        own_only=True,
    ),
    Case(
        "ed:edit-satisfaction",
        _data("ed:1:L:p:s{satisfaction}"),
        CONTACT,
        before=("/muokkaa",),
        own_only=True,
    ),
    Case("sb:submit", _data(f"sb:1:C:y:{YEAR}"), CONTACT, before=("/valmis",)),
    # A delete confirmation forged while the conversation is at another step: refused even
    # for the owner, because the step tag does not match.
    Case(
        "ed:delete-out-of-step",
        _data("ed:1:D:y"),
        frozenset(),
        before=("/muokkaa",),
    ),
]


# --- the world -----------------------------------------------------------------------------

ACTOR_IDS = {"none": 9100, "contact": 9101, "coordinator": 9103, "staff": 9104}


def _build_world(bot: BotHarness, role: str, scope: str) -> World:
    """KUVA's contact Aino and KYMP's contact Kalle, a reported service entity, an open
    invitation and a delivered reminder in each division, and the actor."""
    ids: dict[str, int] = {}
    with bot.db.transaction() as session:
        coordinator = people.ensure_person(session, 9103, name="Kaisa", roles={Role.COORDINATOR})
        people.ensure_person(session, 9104, name="Sanna", roles={Role.STAFF})
        for code, telegram_id, name, secret in (
            (OWN, 9101, "Aino", 555),
            (OTHER, 9102, "Kalle", 777),
        ):
            division = catalog.division_by_code(session, code)
            assert division is not None
            contact = people.ensure_person(
                session, telegram_id, name=name, roles={Role.CONTACT}, division_id=division.id
            )
            entity = catalog.service_entities(session, division.id)[0]
            ids |= {
                f"{code}:division": division.id,
                f"{code}:contact": contact.id,
                f"{code}:entity": entity.id,
            }
            if (code == OWN) == (scope == "own"):
                level = catalog.levels(session)[0]
                reports.save_participation(
                    session,
                    contact,
                    YEAR,
                    entity.id,
                    [
                        ParticipationAnswer(
                            level.id, method_text=f"Salainen {code} raati", count=secret
                        )
                    ],
                )
                nps = next(m for m in catalog.measurement_types(session) if m.kind == "nps")
                reports.save_satisfaction(
                    session,
                    contact,
                    YEAR,
                    entity.id,
                    [SatisfactionAnswer(nps.id, nps=secret % 100, respondents=secret)],
                )
                ids[f"{code}:participation"] = session.scalar(
                    select(ParticipationEntry.id).where(
                        ParticipationEntry.division_id == division.id
                    )
                )
                ids[f"{code}:satisfaction"] = session.scalar(
                    select(SatisfactionEntry.id).where(SatisfactionEntry.division_id == division.id)
                )
            else:  # ids that exist but hold nothing of this division's
                ids[f"{code}:participation"] = 999_999
                ids[f"{code}:satisfaction"] = 999_999
            invitation = people.create_invitation(
                session, Role.CONTACT, division=division, created_by=coordinator, now=bot.clock()
            )
            ids[f"{code}:invitation"] = invitation.id
            reminder = ledger.claim_new(
                session,
                ledger.LedgerKey("listatekstit", dt.date(YEAR, 11, 20), 18, contact.id),
                audience="contact",
                kind="scheduled",
                due_at=bot.clock(),
                now=bot.clock(),
                claimer="test",
            )
            assert reminder is not None
            ledger.mark_sent(session, reminder, now=bot.clock())
            ids[f"{code}:reminder"] = reminder
    actor = bot.user(ACTOR_IDS[role], {"none": "Ville"}.get(role, "Testaaja"))
    return World(bot, role, scope, actor, ids)


def _state(bot: BotHarness) -> dict[str, object]:
    """Everything a refused action must leave as it was."""
    with bot.db.session() as session:
        return {
            "people": sorted(
                (p.telegram_user_id, p.active, tuple(sorted(p.role_set)), p.division_id)
                for p in session.scalars(select(Person))
            ),
            "invitations": sorted(
                (i.id, i.revoked_at is not None, i.used_at is not None)
                for i in session.scalars(select(Invitation))
            ),
            "reports": sorted(
                (s.division_id, s.state.value) for s in session.scalars(select(ReportStatus))
            ),
            "participation": sorted(
                (e.id, e.count, e.note) for e in session.scalars(select(ParticipationEntry))
            ),
            "satisfaction": sorted(
                (e.id, e.nps, e.respondents) for e in session.scalars(select(SatisfactionEntry))
            ),
            "ledger": sorted(
                (r.id, r.status.value, r.kind) for r in session.scalars(select(ReminderLedger))
            ),
            "drafts": session.scalar(select(func.count()).select_from(ConversationDraft)),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


def _secrets(bot: BotHarness, code: str) -> list[str]:
    """What must not leak of a division: names of it and its entities, and its answers."""
    with bot.db.session() as session:
        division = catalog.division_by_code(session, code)
        assert division is not None
        names = {n for n in division.name.values()}
        for entity in session.scalars(
            select(ServiceEntity).where(ServiceEntity.division_id == division.id)
        ):
            names |= set(entity.name.values())
    secret = "777" if code == OTHER else "555"
    return [*sorted(names), f"Salainen {code} raati", secret]


# --- the matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_authorization(bot: BotHarness, case: Case, role: str, scope: str) -> None:
    world = _build_world(bot, role, scope)
    if case.setup is not None:
        case.setup(world)
    actor = world.actor
    await actor.send("/ohje")  # a message for forged buttons to hang on
    for command in case.before:
        await actor.send(command)
    action = case.action(world)
    before = _state(bot)
    mark = len(bot.api.events)

    answer_text = ""
    if action.startswith("/"):
        await actor.send(action)
    else:
        record = await actor.press_data(action)
        answer_text = record.text or ""
        assert record.answered, f"{case.name}: the button press was never answered"

    events = bot.api.events[mark:]
    shown = [answer_text] + [e.message.text for e in events if e.message.chat_id == actor.id]
    shown += [
        str(b.get("text"))
        for e in events
        if e.message.chat_id == actor.id
        for row in e.message.inline_keyboard
        for b in row
    ]
    output = "\n".join(shown)
    expected = case.expect(role, scope)

    if expected == "refuse":
        markers = (*REFUSALS, NO_ACCESS) if role == "none" else REFUSALS
        assert any(m in output for m in markers), f"{case.name}/{role}/{scope}: {output!r}"
        assert _state(bot) == before, f"{case.name}/{role}/{scope} changed data"
        others = {e.message.chat_id for e in events} - {actor.id}
        assert not others, f"{case.name}/{role}/{scope} messaged {others}"
    else:
        assert not any(m in output for m in REFUSALS), f"{case.name}/{role}/{scope}: {output!r}"
        assert output.strip(), f"{case.name}/{role}/{scope}: no answer at all"

    # Another division's data never reaches a contact or a stranger; a refusal shows no
    # division's data to anyone.
    hidden: list[str] = []
    if role in {"none", "contact"}:
        hidden += _secrets(bot, OTHER)
    if expected == "refuse":
        hidden += _secrets(bot, OWN) + _secrets(bot, OTHER)
    leaked = sorted({h for h in hidden if h in output})
    assert not leaked, f"{case.name}/{role}/{scope} showed {leaked}: {output!r}"
