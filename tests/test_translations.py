"""Every message the code marks for translation exists, non-empty, in fi, sv and en."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from i18n import LANGUAGES, read_catalog

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "_n": (1, 2)}
PACKAGES = ("bot", "schedules", "i18n")


def _used_messages() -> dict[str, str]:
    used: dict[str, str] = {}
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for msgid in ids:
                if msgid:
                    used.setdefault(msgid, f"{package}/{filename}:{lineno}")
    return used


def test_every_used_message_is_translated_in_every_language() -> None:
    used = _used_messages()
    missing = []
    for language in LANGUAGES:
        catalog = read_catalog(language)
        for msgid, where in used.items():
            message = catalog.get(msgid)
            text = message.string if message else None
            if isinstance(text, tuple):
                text = text[0] if all(text) else None
            if not text:
                missing.append(f"{language}: {msgid!r} ({where})")
    assert not missing, "missing translations:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    import re

    placeholder = re.compile(r"\{[a-z_0-9]*\}")
    problems = []
    for language in LANGUAGES:
        for message in read_catalog(language):
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            want = set(placeholder.findall(ids[0]))
            for text in strings:
                if set(placeholder.findall(text)) != want:
                    problems.append(f"{language}: {ids[0]!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)
