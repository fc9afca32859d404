"""Every message the code marks for translation exists, non-empty, in fi, sv and en."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from i18n import LANGUAGES, read_catalog

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "_n": (1, 2)}
PACKAGES = ("bot", "delivery", "schedules", "sheets", "i18n", "miniapp")


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


def test_a_message_repeated_in_two_files_is_translated_the_same_way() -> None:
    """The per-feature .po files are merged; a repeated msgid must not silently change text."""
    from babel.messages.pofile import read_po

    from i18n import LOCALES

    conflicts = []
    for language in LANGUAGES:
        seen: dict[str, tuple[str, object]] = {}
        for po_file in sorted((LOCALES / language).glob("*.po")):
            with po_file.open("rb") as handle:
                for message in read_po(handle, locale=language):
                    if not message.id:
                        continue
                    earlier = seen.get(str(message.id))
                    if earlier is not None and earlier[1] != message.string:
                        conflicts.append(
                            f"{language}: {message.id!r} in {earlier[0]} and {po_file.name}"
                        )
                    seen[str(message.id)] = (po_file.name, message.string)
    assert not conflicts, "\n".join(conflicts)


def test_every_message_in_the_catalogs_is_still_used_by_the_code() -> None:
    """A message no code sends any more is not read by anyone checking the wording, so an
    old rule ("a whole number from 0 to 100 000") survives in it and misleads the next
    translator; an unused msgid is deleted, not kept."""
    used: set[str] = set()
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"]
    for package in packages:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            ids = message if isinstance(message, tuple) else (message,)
            used.update(msgid for msgid in ids if msgid)
    unused = []
    for language in LANGUAGES:
        for message in read_catalog(language):
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            if msgid and msgid not in used:
                unused.append(f"{language}: {msgid!r}")
    assert not unused, "messages no code uses:\n" + "\n".join(unused)
