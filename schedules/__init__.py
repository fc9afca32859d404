"""Deadline calendar and reminders (issue 5).

* `plan_year` — the pure plan: when, for which deadline and offset, to whom.
* `install` — registers the reminder jobs on a PTB Application's job queue.
* `send_nudge` — the coordinator's /muistuta through the same paced, ledger-guarded path.
* ``python -m schedules plan|ledger`` — the operator's view (`schedules.cli`).

Names are imported on first use, so the operator commands do not pay for importing
python-telegram-bot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schedules.nudge import NudgeResult, send_nudge
    from schedules.plan import Audience, Audiences, PlannedReminder, plan_year
    from schedules.runtime import install

_EXPORTS = {
    "Audience": "schedules.plan",
    "Audiences": "schedules.plan",
    "PlannedReminder": "schedules.plan",
    "plan_year": "schedules.plan",
    "install": "schedules.runtime",
    "NudgeResult": "schedules.nudge",
    "send_nudge": "schedules.nudge",
}

__all__ = [
    "Audience",
    "Audiences",
    "NudgeResult",
    "PlannedReminder",
    "install",
    "plan_year",
    "send_nudge",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'schedules' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
