"""Deadline calendar and reminders (issue 5).

* `plan_year` — the pure plan: when, for which deadline and offset, to whom.
* `setup` — gives an Application the reminder runtime and the bot's courier (`Courier`),
  which turns `Notice` objects into Telegram messages; this package imports nothing from
  ``bot``.
* `install` — the reminder jobs on the job queue, run by the scheduler leader only;
  `release_leadership` gives the leadership up on a graceful stop, `is_leader` tells.
* `send_nudge` — the coordinator's /muistuta through the same ledger-guarded path.
* ``python -m schedules plan|ledger`` — the operator's view (`schedules.cli`).

Names are imported on first use, so the operator commands do not pay for importing
python-telegram-bot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schedules.notices import Action, Courier, Notice
    from schedules.nudge import NudgeResult, send_nudge
    from schedules.plan import Audience, Audiences, PlannedReminder, plan_year
    from schedules.runtime import install, is_leader, release_leadership, setup

_EXPORTS = {
    "Audience": "schedules.plan",
    "Audiences": "schedules.plan",
    "PlannedReminder": "schedules.plan",
    "plan_year": "schedules.plan",
    "install": "schedules.runtime",
    "setup": "schedules.runtime",
    "is_leader": "schedules.runtime",
    "release_leadership": "schedules.runtime",
    "Action": "schedules.notices",
    "Courier": "schedules.notices",
    "Notice": "schedules.notices",
    "NudgeResult": "schedules.nudge",
    "send_nudge": "schedules.nudge",
}

__all__ = [
    "Action",
    "Audience",
    "Audiences",
    "Courier",
    "Notice",
    "NudgeResult",
    "PlannedReminder",
    "install",
    "is_leader",
    "plan_year",
    "release_leadership",
    "send_nudge",
    "setup",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'schedules' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
