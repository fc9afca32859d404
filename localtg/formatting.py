"""Telegram's text formatting: ``parse_mode`` text → plain text + message entities.

The real Bot API parses HTML / MarkdownV2 / Markdown on the server and rejects malformed
markup with ``400 Can't parse entities``. Bots typically break there (an unescaped ``<`` or
``.`` coming from user data), so the emulation parses the same way and answers the same error
instead of silently accepting text that Telegram would refuse. Entity offsets and lengths are
in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from localtg.errors import ApiError, bad_request

Entity = dict[str, object]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _Builder:
    """Accumulates plain text while tracking the UTF-16 position for entity offsets."""

    parts: list[str] = field(default_factory=list)
    offset: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: object) -> None:
        # Telegram drops entities that cover no text.
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start})
            self.entities[-1].update(extra)

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.parts), sorted(self.entities, key=_entity_order)


def _entity_order(entity: Entity) -> tuple[int, int]:
    """Telegram lists entities by offset, outer (longer) ones first."""
    offset, length = entity["offset"], entity["length"]
    assert isinstance(offset, int) and isinstance(length, int)
    return offset, -length


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Return (plain text, entities) for ``text`` sent with ``parse_mode``.

    Raises `ApiError` (400) for markup Telegram would reject.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _MarkdownV2(text).parse()
    if mode == "markdown":
        return _parse_legacy_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


# --- HTML -------------------------------------------------------------------------------------

_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*/?>")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTRIBUTE = re.compile(r"""([a-zA-Z_][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _unescape_html(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _HTML_NAMED:
            return _HTML_NAMED[name]
        code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)

    return _HTML_ENTITY.sub(replace, value)


@dataclass
class _OpenTag:
    name: str
    kind: str
    start: int
    extra: dict[str, object]


def _html_tag_entity(name: str, attributes: dict[str, str], source: str, index: int) -> _OpenTag:
    """Map a start tag to the entity it opens (offset filled in by the caller)."""
    lowered = name.lower()
    if lowered in _HTML_SIMPLE:
        return _OpenTag(lowered, _HTML_SIMPLE[lowered], 0, {})
    if lowered == "span" and attributes.get("class") == "tg-spoiler":
        return _OpenTag(lowered, "spoiler", 0, {})
    if lowered == "a" and "href" in attributes:
        return _OpenTag(lowered, "text_link", 0, {"url": attributes["href"]})
    if lowered == "tg-emoji" and "emoji-id" in attributes:
        return _OpenTag(lowered, "custom_emoji", 0, {"custom_emoji_id": attributes["emoji-id"]})
    if lowered == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        return _OpenTag(lowered, kind, 0, {})
    raise _parse_error(
        f'unsupported start tag "{lowered}" at byte offset {_byte_offset(source, index)}'
    )


def _parse_html(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    stack: list[_OpenTag] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            end = _END_TAG.match(source, i)
            if end:
                name = end.group(1).lower()
                if not stack:
                    raise _parse_error(
                        f"unexpected end tag at byte offset {_byte_offset(source, i)}"
                    )
                top = stack.pop()
                if top.name != name:
                    raise _parse_error(
                        f"unmatched end tag at byte offset {_byte_offset(source, i)}, "
                        f'expected "</{top.name}>", found "</{name}>"'
                    )
                _close_html(out, top, stack)
                i = end.end()
                continue
            start = _START_TAG.match(source, i)
            if not start:
                raise _parse_error(
                    f"unsupported start tag at byte offset {_byte_offset(source, i)}"
                )
            attributes = {
                m.group(1).lower(): _unescape_html(m.group(2) or m.group(3) or m.group(4) or "")
                for m in _ATTRIBUTE.finditer(start.group(2) or "")
            }
            tag = _html_tag_entity(start.group(1), attributes, source, i)
            tag.start = out.offset
            if tag.name == "code" and "class" in attributes:
                tag.extra["language_class"] = attributes["class"]
            stack.append(tag)
            i = start.end()
        elif char == "&":
            entity = _HTML_ENTITY.match(source, i)
            if entity:
                out.add(_unescape_html(entity.group(0)))
                i = entity.end()
            else:
                out.add("&")
                i += 1
        else:
            j = i
            while j < len(source) and source[j] not in "<&":
                j += 1
            out.add(source[i:j])
            i = j
    if stack:
        raise _parse_error(f'can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.result()


def _close_html(out: _Builder, tag: _OpenTag, stack: list[_OpenTag]) -> None:
    extra = dict(tag.extra)
    language = extra.pop("language_class", None)
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is a pre entity with a language, not a code entity.
        if isinstance(language, str) and language.startswith("language-"):
            stack[-1].extra["language"] = language.removeprefix("language-")
        return
    out.entity(tag.kind, tag.start, **extra)


# --- MarkdownV2 -------------------------------------------------------------------------------

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough"}
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


class _MarkdownV2:
    """A MarkdownV2 parser faithful enough to reject what Telegram rejects."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()
        self.open: list[tuple[str, int, int]] = []  # (kind, utf16 start, source index)
        self.quote_start: int | None = None

    def error_at(self, detail: str, index: int) -> ApiError:
        return _parse_error(f"{detail} at byte offset {_byte_offset(self.source, index)}")

    def parse(self) -> tuple[str, list[Entity]]:
        src = self.source
        i = 0
        while i < len(src):
            char = src[i]
            at_line_start = i == 0 or src[i - 1] == "\n"
            if char == "\\":
                if i + 1 >= len(src) or not 1 <= ord(src[i + 1]) <= 126:
                    raise _parse_error("character '\\' is reserved and must be escaped")
                self.out.add(src[i + 1])
                i += 2
            elif char == "`":
                i = self.code(i)
            elif src.startswith("__", i):
                self.toggle("underline", i)
                i += 2
            elif src.startswith("||", i):
                self.toggle("spoiler", i)
                i += 2
            elif char in "*_~":
                self.toggle(_MDV2_TOGGLES[char], i)
                i += 1
            elif char == "[":
                self.open.append(("text_link", self.out.offset, i))
                i += 1
            elif char == "]":
                i = self.link_end(i)
            elif char == ">" and at_line_start:
                self.start_quote()
                i += 1
            elif char == "\n":
                self.out.add(char)
                i += 1
                if self.quote_start is not None and not src.startswith(">", i):
                    self.end_quote(newline_included=True)
            elif char in _MDV2_RESERVED:
                raise _parse_error(
                    f"character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.out.add(char)
                i += 1
        if self.open:
            kind, _start, index = self.open[-1]
            raise self.error_at(f"can't find end of {_MDV2_NAMES[kind]} entity", index)
        if self.quote_start is not None:
            self.end_quote(newline_included=False)
        return self.out.result()

    def toggle(self, kind: str, index: int) -> None:
        for position in range(len(self.open) - 1, -1, -1):
            if self.open[position][0] == kind:
                _kind, start, _index = self.open.pop(position)
                self.out.entity(kind, start)
                return
        self.open.append((kind, self.out.offset, index))

    def code(self, index: int) -> int:
        src = self.source
        fence = "```" if src.startswith("```", index) else "`"
        i = index + len(fence)
        language = ""
        if fence == "```":
            newline = src.find("\n", i)
            first_line = src[i:newline] if newline != -1 else ""
            if newline != -1 and re.fullmatch(r"[\w+#.-]*", first_line):
                language, i = first_line, newline + 1
        start = self.out.offset
        while i < len(src):
            if src[i] == "\\" and i + 1 < len(src):
                self.out.add(src[i + 1])
                i += 2
            elif src.startswith(fence, i):
                extra: dict[str, object] = {"language": language} if language else {}
                self.out.entity("pre" if fence == "```" else "code", start, **extra)
                return i + len(fence)
            else:
                self.out.add(src[i])
                i += 1
        kind = "Pre" if fence == "```" else "Code"
        raise self.error_at(f"can't find end of {kind} entity", index)

    def link_end(self, index: int) -> int:
        src = self.source
        if not self.open or self.open[-1][0] != "text_link":
            raise _parse_error(
                "character ']' is reserved and must be escaped with the preceding '\\'"
            )
        if not src.startswith("(", index + 1):
            raise self.error_at("can't find end of TextUrl entity", self.open[-1][2])
        i = index + 2
        url: list[str] = []
        while i < len(src) and src[i] != ")":
            if src[i] == "\\" and i + 1 < len(src):
                i += 1
            url.append(src[i])
            i += 1
        if i >= len(src):
            raise self.error_at("can't find end of a url", index + 1)
        _kind, start, _index = self.open.pop()
        self.out.entity("text_link", start, url="".join(url))
        return i + 1

    def start_quote(self) -> None:
        if self.quote_start is None:
            self.quote_start = self.out.offset

    def end_quote(self, *, newline_included: bool) -> None:
        assert self.quote_start is not None
        end = self.out.offset - (1 if newline_included else 0)
        if end > self.quote_start:
            self.out.entities.append(
                {"type": "blockquote", "offset": self.quote_start, "length": end - self.quote_start}
            )
        self.quote_start = None


# --- legacy Markdown --------------------------------------------------------------------------

_LEGACY = {"*": "bold", "_": "italic", "`": "code"}


def _parse_legacy_markdown(source: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
        elif source.startswith("```", i):
            end = source.find("```", i + 3)
            if end == -1:
                raise _legacy_unclosed(source, i)
            start = out.offset
            out.add(source[i + 3 : end])
            out.entity("pre", start)
            i = end + 3
        elif char in _LEGACY:
            end = source.find(char, i + 1)
            if end == -1:
                raise _legacy_unclosed(source, i)
            start = out.offset
            out.add(source[i + 1 : end])
            out.entity(_LEGACY[char], start)
            i = end + 1
        elif char == "[":
            match = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(source, i)
            if not match:
                raise _legacy_unclosed(source, i)
            start = out.offset
            out.add(match.group(1))
            out.entity("text_link", start, url=match.group(2))
            i = match.end()
        else:
            out.add(char)
            i += 1
    return out.result()


def _legacy_unclosed(source: str, index: int) -> ApiError:
    return _parse_error(
        f"can't find end of the entity starting at byte offset {_byte_offset(source, index)}"
    )
