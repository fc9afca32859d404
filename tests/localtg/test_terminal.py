"""The terminal chat with scripted (non-TTY) input."""

from __future__ import annotations

import io
from pathlib import Path

from localtg import LocalBotApi, local_application_builder
from localtg.terminal import run_terminal_chat
from tests.localtg.echo_bot import REPORT, build_echo_app


async def chat(
    api: LocalBotApi, script: str, tmp_path: Path, **kwargs: object
) -> tuple[str, list[BaseException]]:
    application = build_echo_app(local_application_builder(api))
    out = io.StringIO()
    await run_terminal_chat(
        application,
        api,
        user_id=501,
        first_name="Aino",
        stdin=io.StringIO(script),
        stdout=out,
        download_dir=tmp_path / "files",
        **kwargs,  # type: ignore[arg-type]
    )
    return out.getvalue(), application.bot_data.get("errors", [])


async def test_b_numbers_press_buttons_and_files_are_saved(
    api: LocalBotApi, tmp_path: Path
) -> None:
    output, errors = await chat(
        api, "/start\nb1\nB2\nhei <b>\n:3\n:quit\nthis is never sent\n", tmp_path
    )
    assert errors == []
    lines = output.splitlines()
    assert "🤖 Hei Aino! payload=-" in lines
    assert "   [b1] Paina  [b2] Raportti" in lines
    assert "   [b3] Ohje ↗ https://example.org/ohje" in lines
    assert "🤖 ✏️  (edited) Painettu ✔" in lines
    assert "💬 Painettu!" in lines  # the toast of answerCallbackQuery
    saved = tmp_path / "files" / "raportti.csv"
    assert f"📎 raportti.csv (1 kB) saved to {saved}" in lines
    assert saved.read_bytes() == REPORT
    assert "🤖 hei <b>" in lines
    assert "↗ https://example.org/ohje" in lines
    assert "this is never sent" not in output
    assert api.user(501).texts()[-1] == "hei <b>"


async def test_meta_commands_and_eof(api: LocalBotApi, tmp_path: Path) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def on_meta(command: str, args: list[str]) -> str:
        seen.append((command, args))
        return f"rooli vaihdettu: {args[0]}"

    output, errors = await chat(
        api,
        ":help\n:rooli admin\n7\n:send 8\n:press rap\n",
        tmp_path,
        on_meta=on_meta,
        meta_help="  :rooli <rooli>  vaihda roolia",
    )
    assert errors == []
    assert ":quit" in output and ":rooli <rooli>" in output
    assert seen == [("rooli", ["admin"])]
    assert "rooli vaihdettu: admin" in output
    # No keyboard yet: numbers are plain messages. Then ":press" without keyboard warns.
    assert "🤖 7" in output and "🤖 8" in output
    assert "⚠  localtg: no button 'rap'" in output


async def test_initial_messages_and_echo(api: LocalBotApi, tmp_path: Path) -> None:
    output, errors = await chat(api, "b1\n", tmp_path, initial_messages=["/start"])
    assert errors == []
    lines = output.splitlines()
    assert lines.index("› /start") < lines.index("🤖 Hei Aino! payload=-")
    assert lines.index("› b1") < lines.index("🤖 ✏️  (edited) Painettu ✔")


async def test_unknown_meta_without_handler(api: LocalBotApi, tmp_path: Path) -> None:
    output, _errors = await chat(api, ":mitä\n", tmp_path)
    assert "unknown command :mitä" in output


async def test_a_plain_number_is_an_answer_even_when_a_keyboard_is_shown(
    api: LocalBotApi, tmp_path: Path
) -> None:
    output, errors = await chat(api, "/start\n1\nb9\n:send b1\n", tmp_path)
    assert errors == []
    assert api.user(501).texts()[-2:] == ["1", "b1"]  # sent as text, nothing pressed
    assert "Painettu ✔" not in output
    assert "⚠  no button b9: the newest keyboard has b1…b3" in output


async def test_help_names_the_button_prefix_and_no_help_command(
    api: LocalBotApi, tmp_path: Path
) -> None:
    output, _errors = await chat(api, ":help\n", tmp_path)
    assert "b<number>" in output and "/help" not in output
