"""The Mini App's HTTP side: the page's static files and its JSON API, as Starlette routes.

* ``GET  /app/``                 the page (static; it reads ``tgWebAppData`` from the URL
                                 fragment and sends it back in the header below)
* ``GET  /app/api/division``     the division's form for the current round (JSON)
* ``POST /app/api/save``         one entity or all changed entities, in one transaction

Every API call carries Telegram's signed init data in ``X-Telegram-Init-Data``
(`miniapp.auth`): missing or bad → 401; then the person is looked up exactly as the chat
does it (``data.people.active_person``, ``data.reports`` access rules): not a person with
access to that division → 403. A body over 256 kB → 413; more than 10 saves a minute by one
person → 429, counted in the database (``data.ratelimit``) so any replica may answer any
call; a save over a newer version of an entity → 409 "changed elsewhere"; a save to a
submitted report → 423 with the chat's words; answers that break a rule → 422 with each
problem next to its field. In all those cases nothing is saved. No cookie, no session:
the database and the signed header are all the state there is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.flow.entities import MSG_LOCKED
from core.services import Services
from data import catalog, people, progress, ratelimit, reports, versions
from data.db import transaction
from data.models import Division, Person, ReportState
from i18n import gettext_for, normalize_language
from miniapp import auth, form, texts

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 256 * 1024
SAVES_PER_WINDOW = 10
SAVE_WINDOW = dt.timedelta(minutes=1)
SOURCE = "miniapp"
NO_STORE = {"Cache-Control": "no-store"}


class Refusal(Exception):
    """An API answer other than 200, with its JSON body."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


class MiniApp:
    """The routes' shared state: the services (settings, database, clock) and the token."""

    def __init__(self, services: Services, bot_token: str) -> None:
        self.services = services
        self.bot_token = bot_token

    # --- who is asking -------------------------------------------------------------------

    def _user(self, request: Request) -> auth.WebAppUser:
        try:
            return auth.verify(
                request.headers.get(auth.HEADER), self.bot_token, self.services.now()
            )
        except auth.BadInitData as error:
            raise Refusal(401, "unauthorized", reason=str(error)) from None

    def _words(self, user: auth.WebAppUser) -> Callable[[str], str]:
        """Texts in the language of the person's Telegram app (before the person is read)."""
        default = self.services.settings.default_language
        return gettext_for(normalize_language(user.language_code, default))

    def _person(self, session: Session, user: auth.WebAppUser) -> tuple[Person, str]:
        person = people.active_person(session, user.telegram_user_id)
        language = normalize_language(
            (person.language if person else None) or user.language_code,
            self.services.settings.default_language,
        )
        if person is None:
            raise Refusal(403, gettext_for(language)(texts.NOT_YOURS))
        return person, language

    def _division(
        self, session: Session, person: Person, language: str, code: str | None
    ) -> Division:
        division = catalog.division_by_code(session, code) if code else person.division
        if (
            division is None
            or division.retired_at is not None
            or not reports.can_read_division(person, division.id)
        ):
            raise Refusal(403, gettext_for(language)(texts.NOT_YOURS))
        return division

    # --- GET /app/api/division -----------------------------------------------------------

    def division(self, request: Request) -> dict[str, Any]:
        user = self._user(request)
        with transaction(self.services.sessions) as session:
            person, language = self._person(session, user)
            code = request.query_params.get("division")
            division = self._division(session, person, language, code)
            return form.division_view(session, self.services, person, division, language)

    # --- POST /app/api/save --------------------------------------------------------------

    def save(self, request: Request, body: bytes) -> dict[str, Any]:
        user = self._user(request)
        if len(body) > MAX_BODY_BYTES:
            raise Refusal(413, self._words(user)(texts.TOO_LARGE))
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("entities"), list):
                raise ValueError("no entities")
        except (ValueError, UnicodeDecodeError):
            raise Refusal(400, self._words(user)(texts.BAD_REQUEST)) from None
        sessions = self.services.sessions
        now = self.services.now()
        counted: list[int] = []  # the person whose save was counted toward the limit
        try:
            with transaction(sessions) as session:
                view, saved = self._save(session, user, payload, now, counted)
        except Refusal:
            # A refused save rolled its count back with everything else: count it again on
            # its own, so refused attempts are limited too (the 429 itself is not counted).
            if counted:
                with transaction(sessions) as session:
                    ratelimit.take_save_slot(
                        session, counted[0], now, limit=SAVES_PER_WINDOW, window=SAVE_WINDOW
                    )
            raise
        view["saved"] = saved
        return view

    def _save(
        self,
        session: Session,
        user: auth.WebAppUser,
        payload: dict[str, Any],
        now: dt.datetime,
        counted: list[int],
    ) -> tuple[dict[str, Any], list[int]]:
        """One save in the caller's transaction: the count toward the limit, the checks,
        the version check and the data save functions; a Refusal rolls all of it back."""
        person, language = self._person(session, user)
        _ = gettext_for(language)
        if not ratelimit.take_save_slot(
            session, person.id, now, limit=SAVES_PER_WINDOW, window=SAVE_WINDOW
        ):
            raise Refusal(429, _(texts.TOO_MANY_SAVES))
        counted.append(person.id)
        division = self._division(session, person, language, payload.get("division"))
        if not reports.can_write_division(person, division.id):
            raise Refusal(403, _(texts.NOT_YOURS))
        year = self.services.current_year()
        rnd = progress.find_round(session, year)
        if rnd is not None and progress.report_state(session, rnd.id, division.id) is (
            ReportState.SUBMITTED
        ):
            raise Refusal(423, _(MSG_LOCKED).format(year=year))
        own = {e.id for e in catalog.service_entities(session, division.id)}
        problems: list[form.Problem] = []
        read = []
        try:
            for posted in payload["entities"]:
                if not isinstance(posted, dict):
                    raise ValueError("entity")
                entity = form.read_entity(session, posted, language, problems)
                if entity.entity_id not in own:
                    raise Refusal(403, _(texts.NOT_YOURS))
                read.append(entity)
        except ValueError:
            raise Refusal(400, _(texts.BAD_REQUEST)) from None
        if len({e.entity_id for e in read}) != len(read):
            raise Refusal(400, _(texts.BAD_REQUEST))
        if problems:
            raise Refusal(422, _(texts.PAGE["errors"]), problems=[p.to_json() for p in problems])
        rnd = rnd or progress.get_or_create_round(session, year)
        try:
            versions.check(session, rnd.id, {e.entity_id: e.version for e in read})
        except versions.VersionConflict as conflict:
            raise Refusal(
                409, _(texts.CHANGED_ELSEWHERE), entities=conflict.service_entity_ids
            ) from None
        try:
            saved = self._write(session, person, year, rnd.id, read)
        except reports.ReportLocked:  # submitted between the check above and the write
            raise Refusal(423, _(MSG_LOCKED).format(year=year)) from None
        except reports.AccessDenied:
            raise Refusal(403, _(texts.NOT_YOURS)) from None
        session.flush()
        view = form.division_view(
            session, self.services, person, division, language, only=set(saved)
        )
        return view, saved

    def _write(
        self,
        session: Session,
        person: Person,
        year: int,
        round_id: int,
        read: list[form.EntityAnswers],
    ) -> list[int]:
        """Each entity's changed part through the data save functions; the ids saved."""
        saved = []
        for entity in read:
            changed = False
            stored_p = reports.participation_answers(session, round_id, entity.entity_id)
            if _key(stored_p) != _key(entity.participation):
                reports.save_participation(
                    session, person, year, entity.entity_id, entity.participation, source=SOURCE
                )
                changed = True
            stored_s = reports.satisfaction_answers(session, round_id, entity.entity_id)
            if _key(stored_s) != _key(entity.satisfaction):
                reports.save_satisfaction(
                    session, person, year, entity.entity_id, entity.satisfaction, source=SOURCE
                )
                changed = True
            if changed:
                saved.append(entity.entity_id)
        return saved


def _key(items: list[Any]) -> list[str]:
    return sorted(json.dumps(item.to_dict(), sort_keys=True) for item in items)


def _handler(
    work: Callable[[Request], dict[str, Any]],
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await asyncio.to_thread(work, request)
        except Refusal as refusal:
            return _json(refusal.body, refusal.status)
        return _json(body)

    return endpoint


def routes(services: Services, *, bot_token: str) -> list[BaseRoute]:
    """The Mini App's routes, to be mounted into the bot's Starlette app (webhook or polling)."""
    app = MiniApp(services, bot_token)

    async def save(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            # Refused before reading; the signature is checked first all the same.
            try:
                user = app._user(request)
            except Refusal as refusal:
                return _json(refusal.body, refusal.status)
            return _json({"error": app._words(user)(texts.TOO_LARGE)}, 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                break
        started = time.perf_counter()
        try:
            answer = await asyncio.to_thread(app.save, request, bytes(body))
        except Refusal as refusal:
            return _json(refusal.body, refusal.status)
        response = _json(answer)
        # How long the save took inside the server (the benchmark reads it).
        response.headers["Server-Timing"] = f"save;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    async def to_page(_request: Request) -> Response:
        return RedirectResponse("/app/", status_code=308)

    return [
        Route("/app", to_page, methods=["GET"]),
        Route("/app/", page, methods=["GET"]),
        Route("/app/api/division", _handler(app.division), methods=["GET"]),
        Route("/app/api/save", save, methods=["POST"]),
        Mount("/app/static", app=StaticFiles(directory=STATIC), name="miniapp-static"),
    ]
