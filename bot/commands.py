"""Which commands each role has: the source of /ohje and of Telegram's command menu."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from data.models import Role
from i18n import N_

COMMON: list[tuple[str, str]] = [
    ("start", N_("Start and show what you can do")),
    ("ohje", N_("Help for the current step and your commands")),
    ("kieli", N_("Change language (suomi, svenska, English)")),
    ("peru", N_("Cancel the current step")),
    ("omat_tiedot", N_("What is stored about you")),
]

BY_ROLE: dict[Role, list[tuple[str, str]]] = {
    Role.CONTACT: [
        ("raportoi", N_("Report participation methods of a service entity")),
        ("tyytyvaisyys", N_("Report how customer satisfaction is measured")),
        ("tila", N_("Your division's status and what is missing")),
        ("muokkaa", N_("Change or delete saved answers")),
        ("valmis", N_("Submit your division's report")),
        ("excel", N_("Your division's answers as an Excel workbook")),
    ],
    Role.COORDINATOR: [
        ("tilanne", N_("Every division at a glance")),
        ("muistuta", N_("Remind divisions that have not reported")),
        ("aikataulu", N_("Coming deadlines and reminders")),
    ],
    Role.STAFF: [
        ("luonnos", N_("Drafts of the list text and attachments")),
        ("kutsu", N_("Invite a person")),
        ("henkilot", N_("People, roles and access")),
        ("aikataulu", N_("Coming deadlines and reminders")),
    ],
}


def commands_for(roles: AbstractSet[Role]) -> list[tuple[str, str]]:
    """The person's commands, role commands first, each command once."""
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for role in (Role.CONTACT, Role.COORDINATOR, Role.STAFF):
        if role in roles:
            for command, description in BY_ROLE[role]:
                if command not in seen:
                    seen.add(command)
                    result.append((command, description))
    for command, description in COMMON:
        if command not in seen and (roles or command in {"start", "ohje", "kieli"}):
            seen.add(command)
            result.append((command, description))
    return result


def all_commands() -> frozenset[str]:
    """Every command the bot knows, whoever may use it."""
    return frozenset(
        command for entries in (COMMON, *BY_ROLE.values()) for command, _description in entries
    )
