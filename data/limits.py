"""The limits of what people may enter, defined once.

The database constraints (data/models.py), the validation in data/ and the bot's messages
all take their numbers from here, so a message can never promise a limit the validation
does not enforce. Changing a limit here changes the messages too (they format these values
with ``i18n.formats``); a limit that is also a database constraint needs a migration.
"""

from __future__ import annotations

from typing import Final

#: Largest count of a participation method (events, participants …) at one level.
MAX_COUNT: Final = 100_000
#: Longest free text (method name, note, latest result, period …), in characters.
MAX_TEXT: Final = 300
#: Net Promoter Score is by definition between −100 and 100.
NPS_MIN: Final = -100
NPS_MAX: Final = 100
#: Largest number of respondents of one satisfaction measurement.
MAX_RESPONDENTS: Final = 10_000_000
#: A method counts as used at a level only with a count of at least one (0 = not used).
MIN_METHOD_COUNT: Final = 1
