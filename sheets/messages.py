"""Every text of the workbook and of the import's answers, as gettext message ids.

English ids, translated to fi/sv/en in ``i18n/locales/<lang>/sheets.po``. The workbook is
written in the person's language; rejections, cell errors and the change summary are shown
in the language of the person who sent the file (Finnish on the command line).
"""

from __future__ import annotations

from data import answers
from i18n import N_

# --- the workbook --------------------------------------------------------------------------

SATISFACTION_SHEET = N_("Satisfaction")
TITLE_PARTICIPATION = N_("{entity} – participation methods {year} ({division})")
TITLE_SATISFACTION = N_("Customer satisfaction measurement {year} ({division})")
INSTRUCTIONS_PARTICIPATION = (
    N_(
        "Fill in the white cells only: for each level, pick a method from the list or write "
        "your own in “Other method”, then the count (a whole number {count_range}; a method used "
        "0 times is left out) and an optional note (at most {limit} characters)."
    ),
    N_(
        "If nothing is done at a level, choose “No methods at this level” in the method column. "
        "An empty level stays unanswered. Delete a row's values to remove it."
    ),
    N_(
        "Rows marked “{mark}” are last year's answers: check them and clear the mark, or they "
        "are not saved. Send the filled file back to the bot in the same chat."
    ),
)
INSTRUCTIONS_SATISFACTION = (
    N_(
        "One row per way of measuring: pick the measurement type (or “Not measured”), the "
        "scale, how often it is measured, and the latest result."
    ),
    N_(
        "For NPS give the score ({nps_range}) or the counts of promoters, passives and "
        "detractors; the respondents ({respondents_range}) must equal their sum. For a survey "
        "write the latest result as a number on its scale, for other types in a few words."
    ),
    N_(
        "Rows marked “{mark}” are last year's answers: check them and clear the mark, or they "
        "are not saved. The grey cells cannot be changed."
    ),
)
MARK = N_("{year} – check")
NO_METHODS = N_("No methods at this level")

H_LEVEL = N_("Level")
H_METHOD = N_("Method (from the list)")
H_OWN_METHOD = N_("Other method (your own words)")
H_COUNT = N_("Count column")
H_NOTE = N_("Note")
H_MARK = N_("To check")
H_ENTITY = N_("Service entity")
H_TYPE = N_("Measurement type")
H_OTHER_NAME = N_("Name of the other method")
H_SCALE = N_("Scale")
H_FREQUENCY = N_("Frequency")
H_NPS = N_("NPS ({range})")
H_PROMOTERS = N_("Promoters (9–10)")
H_PASSIVES = N_("Passives (7–8)")
H_DETRACTORS = N_("Detractors (0–6)")
H_RESPONDENTS = N_("Respondents")
H_RESULT = N_("Latest result")
H_PERIOD = N_("Period")

DV_WHOLE = N_("A whole number {range}.")
DV_TEXT = N_("At most {limit} characters.")
DV_LIST = N_("Choose from the list.")

# --- rejections of the whole file (nothing is saved) ---------------------------------------

FILE_TOO_LARGE = N_(
    "The file is too large ({size} MB). A filled sheet is well under {limit} MB: send the "
    "workbook the bot gave you (/excel)."
)
FILE_NOT_XLSX = N_(
    "“{name}” is not an Excel workbook (.xlsx). Save it in Excel as “Excel Workbook (.xlsx)” "
    "and send it again; .xlsm, .xls and .csv files are not accepted."
)
FILE_ENCRYPTED = N_(
    "The file is password protected, so it cannot be read. Remove the password (File › Info "
    "› Protect Workbook) and send it again."
)
FILE_BROKEN = N_(
    "The file is damaged and cannot be opened as an Excel workbook. Save it again in Excel "
    "and send it again, or fetch a new one with /excel."
)
FILE_BOMB = N_(
    "The file unpacks to far more data than a filled sheet can hold, so it was not opened. "
    "Send the workbook the bot gave you (/excel)."
)
FILE_NOT_OURS = N_(
    "This is not the bot's reporting workbook. Fetch your division's workbook with /excel, "
    "fill it and send it back."
)
FILE_OTHER_DIVISION = N_(
    "This workbook belongs to another division ({division}). Fetch your own division's "
    "workbook with /excel."
)
FILE_OTHER_ROUND = N_(
    "This workbook is for the year {year}, but the current round is {current}. Fetch this "
    "year's workbook with /excel."
)
FILE_OLD_TEMPLATE = N_(
    "This workbook was made from an older template, or the service entities or methods have "
    "changed since. Fetch a new one with /excel and copy your answers into it."
)
FILE_CHANGED_SINCE_MADE = N_(
    "Nothing from this file can be saved: {entities} was changed elsewhere (in the chat or "
    "the form) after the workbook was made, and the file changes it too. Fetch a new "
    "workbook with /excel and make your changes in it."
)
FILE_STRUCTURE_CHANGED = N_(
    "The workbook's structure has been changed (rows, columns, sheets or fixed texts). Only "
    "the white answer cells may be edited: fetch a new one with /excel and copy your answers "
    "into it."
)

# --- errors by cell -----------------------------------------------------------------------

CELL_ERRORS_HEADER = N_(
    "Errors in the file: {count}. Nothing was saved; fix them and send the file again:"
)
CELL_ERRORS_MORE = N_("… and {count} more")
CELL_ERRORS_ONE_MORE = N_("… and one more")
CELL_NOT_IN_RANGE = N_("“{value}” is not a whole number {range}")
CELL_NOT_SCORE = N_("“{value}” is not an NPS score (a whole number {range})")
CELL_SCORE_RANGE = N_("NPS {value} is outside {range}")
CELL_NOT_DECIMAL = N_("“{value}” is not a number on the scale {low}–{high}, such as 4,2")
CELL_NO_LETTER = N_("“{value}” is not a name: a name needs at least one letter")
CELL_DECIMAL_RANGE = N_("“{value}” is not on the scale {low}–{high}")
CELL_TOO_LONG = N_("the text is {length} characters long; at most {limit} fit")
CELL_NOT_TEXT = N_("“{value}” is not text")
CELL_UNKNOWN_METHOD = N_("“{value}” is not a method of level {level}")
CELL_UNKNOWN_TYPE = N_("“{value}” is not a measurement type of the list")
CELL_BOTH_METHODS = N_("choose a method from the list or write your own, not both")
CELL_METHOD_MISSING = N_("the method is missing (choose from the list or write your own)")
CELL_COUNT_MISSING = N_("the count is missing")
CELL_ZERO_COUNT = N_(
    "a method used 0 times is left out (the count is a whole number {range}), or choose “{none}”"
)
CELL_NO_METHODS_ALONE = N_("“{none}” takes no method, count or note")
CELL_DUPLICATE_METHOD = N_("the same method is already given at this level")
CELL_NONE_WITH_METHODS = N_("“{none}” but methods are given at the same level")
CELL_TYPE_MISSING = N_("the measurement type is missing")
CELL_DUPLICATE_TYPE = N_("this measurement type is already given for the service entity")
CELL_NOT_MEASURED_WITH_OTHERS = N_("“Not measured” together with other ways of measuring")
CELL_NOT_MEASURED_ALONE = N_("a “Not measured” row takes no other values")
CELL_OTHER_NAME_MISSING = N_("the name of the other way of measuring is missing")
CELL_OTHER_NAME_ONLY = N_("a name is given only for “Other” measurements")
CELL_NOT_FOR_NPS = N_("for NPS give the score or the counts, not a result")
CELL_ONLY_FOR_NPS = N_("NPS values are given only for an NPS measurement")
CELL_COUNTS_INCOMPLETE = N_("give all three counts: promoters, passives and detractors")
CELL_NO_RESPONDENTS = N_("promoters + passives + detractors = 0: an NPS needs at least one answer")
CELL_COUNTS_DISAGREE = N_(
    "promoters + passives + detractors = {total}, but the respondents are {value}"
)
CELL_NPS_DISAGREES = N_("the counts give NPS {nps}, not {value}")
CELL_FORMULA_NO_VALUE = N_("a formula without a value: type the value itself")

PROBLEM_CELL_MESSAGES = {
    answers.NOT_WHOLE: CELL_NOT_IN_RANGE,
    answers.COUNT_RANGE_CODE: CELL_NOT_IN_RANGE,
    answers.ZERO_COUNT: CELL_ZERO_COUNT,
    answers.RESPONDENTS_RANGE_CODE: CELL_NOT_IN_RANGE,
    answers.NPS_COUNT_RANGE_CODE: CELL_NOT_IN_RANGE,
    answers.NO_LETTER: CELL_NO_LETTER,
    answers.EMPTY: CELL_METHOD_MISSING,
    answers.RESULT_FOR_NPS: CELL_NOT_FOR_NPS,
    answers.ONLY_FOR_NPS: CELL_ONLY_FOR_NPS,
    answers.NOT_MEASURED_ALONE: CELL_NOT_MEASURED_ALONE,
    answers.OTHER_NAME_MISSING: CELL_OTHER_NAME_MISSING,
    answers.OTHER_NAME_ONLY: CELL_OTHER_NAME_ONLY,
    answers.NOT_SCORE: CELL_NOT_SCORE,
    answers.SCORE_RANGE: CELL_SCORE_RANGE,
    answers.NOT_DECIMAL: CELL_NOT_DECIMAL,
    answers.DECIMAL_RANGE: CELL_DECIMAL_RANGE,
    answers.TOO_LONG: CELL_TOO_LONG,
    answers.COUNTS_INCOMPLETE: CELL_COUNTS_INCOMPLETE,
    answers.NO_RESPONDENTS: CELL_NO_RESPONDENTS,
    answers.COUNTS_DISAGREE: CELL_COUNTS_DISAGREE,
    answers.NPS_DISAGREES: CELL_NPS_DISAGREES,
    answers.DUPLICATE_METHOD: CELL_DUPLICATE_METHOD,
    answers.NONE_WITH_METHODS: CELL_NONE_WITH_METHODS,
    answers.DUPLICATE_TYPE: CELL_DUPLICATE_TYPE,
    answers.NOT_MEASURED_WITH_OTHERS: CELL_NOT_MEASURED_WITH_OTHERS,
}

# --- the change summary -------------------------------------------------------------------

SUMMARY_HEADER = N_("The file is valid: {division}, {year}. Compared with what is saved:")
SUMMARY_PARTICIPATION = N_("participation: new {added}, changed {changed}, removed {removed}")
SUMMARY_SATISFACTION = N_("satisfaction: new {added}, changed {changed}, removed {removed}")
SUMMARY_UNCHECKED = N_(
    "Rows still marked “{mark}”: {count}. They are not saved; clear the mark to save them."
)
SUMMARY_ASK = N_("Save these changes?")
SUMMARY_LEVEL = N_("Level {number}")
SUMMARY_CHANGED = N_("   {where}: {old} → {new}")
SUMMARY_ADDED = N_("   + {where}: {new}")
SUMMARY_REMOVED = N_("   − {where}: {old}")
SUMMARY_MORE = N_("… and {count} more changes")
SUMMARY_NO_CHANGES = N_(
    "The file is valid and matches what is already saved ({division}, {year}): nothing to save."
)
