"""Deadline calendar and reminders (issue 5).

* `plan_year` — the pure plan: when, for which deadline and offset, to whom.
* `install` — registers the reminder jobs on a PTB Application's job queue.
* `send_nudge` — the coordinator's /muistuta through the same paced, ledger-guarded path.
* ``python -m schedules plan|ledger`` — the operator's view (`schedules.cli`).
"""

from schedules.nudge import NudgeResult, send_nudge
from schedules.plan import Audience, Audiences, PlannedReminder, plan_year
from schedules.runtime import install

__all__ = [
    "Audience",
    "Audiences",
    "NudgeResult",
    "PlannedReminder",
    "install",
    "plan_year",
    "send_nudge",
]
