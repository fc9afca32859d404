"""The limits of what people may enter, defined once.

The database constraints (data/models.py), the rule book (``data.answers``) and every
message that states a limit take their numbers from here, so a message can never promise a
limit the validation does not enforce. Changing a limit here changes the messages too (they
write these ranges with ``i18n.formats.format_range``); a limit that is also a database
constraint needs a migration.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Range(NamedTuple):
    """Whole numbers ``low``…``high``, both included; written by ``i18n.formats.format_range``."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


#: Largest count of a participation method (events, participants …) at one level.
MAX_COUNT: Final = 100_000
#: A method counts as used at a level only with a count of at least one: a method used 0
#: times is left out (or the level answered "no methods at this level").
MIN_METHOD_COUNT: Final = 1
#: The count of a participation method.
COUNT_RANGE: Final = Range(MIN_METHOD_COUNT, MAX_COUNT)
#: Longest free text (method name, note, latest result …), in characters.
MAX_TEXT: Final = 300
#: Longest scale ("1–5") and period ("1–6/2026") texts.
MAX_SCALE: Final = 100
MAX_PERIOD: Final = 100
#: Net Promoter Score is by definition between −100 and 100.
NPS_MIN: Final = -100
NPS_MAX: Final = 100
NPS_RANGE: Final = Range(NPS_MIN, NPS_MAX)
#: Largest number of respondents of one satisfaction measurement (chat and Excel alike).
MAX_RESPONDENTS: Final = 10_000_000
#: Respondents of a result: at least one person answered.
RESPONDENTS_RANGE: Final = Range(1, MAX_RESPONDENTS)
#: Each of the promoter, passive and detractor counts (their sum is the respondents).
NPS_COUNT_RANGE: Final = Range(0, MAX_RESPONDENTS)
