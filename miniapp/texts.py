"""Every text of the Mini App page and API, as gettext message ids (English).

Translated in ``i18n/locales/<lang>/miniapp.po``. The page gets the texts of the person's
language from the API, so the page itself holds no words; the error messages next to the
fields are the Excel import's cell messages (``sheets.messages``), and the submitted
report's the chat's (``bot.flow.entities.MSG_LOCKED``, ``bot.status.render.locked_text``).
"""

from __future__ import annotations

from i18n import N_, formats, gettext_for

#: Texts the page shows, by key; sent in the person's language with the division.
PAGE = {
    "title": N_("Report form"),
    "year": N_("Round {year}"),
    "state": N_("Report state: {state}"),
    "missing_title": N_("Still missing"),
    "nothing_missing": N_("Everything has been answered."),
    "level": N_("Level {number}"),
    "level_label": N_("{entity}, level {number}"),
    "count": N_("count"),
    "note": N_("note"),
    "add_note": N_("Note"),
    "own_method": N_("Other method (your own words)"),
    "add_own": N_("Add another method"),
    "no_methods": N_("No methods at this level"),
    "satisfaction": N_("Customer satisfaction measurement"),
    "measurement": N_("Measurement {number}"),
    "type": N_("Measurement type"),
    "choose": N_("— choose —"),
    "other_name": N_("Name of the other method"),
    "scale": N_("Scale"),
    "frequency": N_("Frequency"),
    "frequency_text": N_("Frequency in your own words"),
    "nps": N_("NPS ({range})"),  # the rule book's range, "−100–100"
    "promoters": N_("Promoters (9–10)"),
    "passives": N_("Passives (7–8)"),
    "detractors": N_("Detractors (0–6)"),
    "respondents": N_("Respondents"),
    "latest_result": N_("Latest result"),
    "period": N_("Period"),
    "add_measurement": N_("Add a measurement"),
    "remove": N_("Remove"),
    "save_entity": N_("Save {entity}"),
    "save_all": N_("Save all changes"),
    "saving": N_("Saving…"),
    "saved": N_("Saved."),
    "no_changes": N_("Nothing changed since the last save."),
    "errors": N_("Fix the fields marked below; nothing was saved."),
    "unsaved": N_("Unsaved changes"),
    "previous": N_(
        "Last year's ({year}) answers are filled in: check them. They are saved as this "
        "year's only when you confirm."
    ),
    "confirm_previous": N_("I have checked these: save them as this year's answers"),
    "confirm_needed": N_("Confirm last year's answers first (the box above)."),
    "complete": N_("complete"),
    "incomplete": N_("incomplete"),
    "read_only": N_("Read only"),
    "reload": N_("Reload"),
    "no_access": N_("Open the form from the bot's chat in Telegram (the “Form” button)."),
    "failed": N_("The connection failed. Nothing was saved; try again."),
    "other_frequency": N_("Other (your own words)"),
}

#: Answers of the API that are not about one field.
CHANGED_ELSEWHERE = N_(
    "Changed elsewhere (in the chat or Excel) after you opened the form — reload to see the "
    "current answers. Nothing was saved."
)
TOO_MANY_SAVES = N_("Too many saves in a minute. Wait a moment and save again.")
TOO_LARGE = N_("The form is too large to save.")
NOT_YOURS = N_("You do not have permission for this.")
BAD_REQUEST = N_("The form could not be read. Reload and try again.")
CONFIRM_PREVIOUS = PAGE["confirm_needed"]
#: A field that must be one of the page's choices was something else.
NOT_A_CHOICE = N_("“{value}” is not one of the choices")

#: The chat's menu button and the buttons under /tila and /raportoi.
MENU_BUTTON = N_("Form")
OPEN_FORM = N_("Open the form")


def page_texts(language: str) -> dict[str, str]:
    _ = gettext_for(language)
    texts = {key: _(message) for key, message in PAGE.items()}
    texts["nps"] = texts["nps"].format(range=formats.nps_range(language))
    return texts
