"""The engine every guided conversation (/raportoi, /tyytyvaisyys) runs on.

A flow is a set of named steps. For each step the flow says how to ask (``render``), what a
typed answer or a button does, where Back goes and what /ohje says. The engine does the rest,
the same way for every step and every update:

* who is asking is looked up again (``caller``) and must still be a division contact;
* the person's draft (``data.drafts``) is the single source of truth for the answers *and* the
  step; it is written in the same transaction as any confirmed answer, before replying;
* a draft idle for ``conversation.idle_timeout_minutes`` (on the application's clock, so
  tests can move time and a restart does not lose the timer) ends the conversation with a
  message and keeps the draft, which the next start offers to continue;
* buttons carry the prompt number of the draft (`bot.flow.buttons`): any button other than
  the newest question's is answered "This button is no longer valid." and changes nothing;
* every question shows "Step n/N" and has a Back button where going back makes sense;
  /peru discards the draft, /ohje explains the current step and asks it again;
* another command pauses the conversation (draft kept) and is then handled normally.

Handler groups: each flow's ConversationHandler sits in its own group before the default
group 0 and stops further processing of the updates it handles, so the catch-alls of group 0
(unknown text, stale buttons) never answer a second time. Entry commands do not stop: the
other flow's handler sees them and pauses itself; `FLOW_STOP_GROUP` then stops them.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.access import Caller, caller, refuse
from bot.flow import buttons
from bot.flow.delivery import Outbox, deliver, send_safely
from bot.flow.inputs import InputError
from core.services import Services, services
from data import drafts
from data.db import transaction
from data.models import ConversationDraft, Person, Role
from data.reports import AccessDenied
from i18n import N_

log = logging.getLogger(__name__)
M = TypeVar("M")

END = ConversationHandler.END
RESUME = "resume"
RESUME_TAG = "R"
FLOW_STOP_GROUP = -1

MSG_STALE = N_("This button is no longer valid.")
MSG_STEP = N_("Step {n}/{total}")
MSG_BACK = N_("‹ Back")
MSG_USE_BUTTONS = N_("Please choose one of the buttons below.")
MSG_TEXT_ONLY = N_("I can only read text here. Please type the answer or use the buttons.")
MSG_IDLE = N_(
    "This conversation ended after {minutes} minutes without activity. Your answers so far "
    "are kept: /{command} continues where you left off."
)
MSG_GONE = N_("This conversation has already ended. /{command} starts a new one.")
MSG_CANCELLED = N_(
    "Cancelled. The answers of this conversation were not saved; what you saved earlier is "
    "unchanged."
)
MSG_PAUSED = N_("{flow} paused. Your answers so far are kept: /{command} continues.")
MSG_RESUME = N_(
    "You have unsaved answers from {when}: {summary}\n\nContinue where you left off, or start "
    "over (the unsaved answers are then discarded)?"
)
MSG_CONTINUE = N_("Continue")
MSG_START_OVER = N_("Start over")
MSG_HELP_RESUME = N_(
    "Continue returns to the question where you left off with your unsaved answers. Start "
    "over discards them and begins again."
)
MSG_HELP_HEADER = N_("Help for this step:")
MSG_HELP_FOOTER = N_("‹ Back returns to the previous question. /peru cancels without saving.")
MSG_ENTITY_GONE = N_(
    "This service entity is no longer available to you, so the unsaved answers about it were "
    "discarded. /{command} starts again."
)

# Commands that never interrupt a guided conversation: they are answered by group 0.
PASS_THROUGH_COMMANDS = ("kieli", "start")


@dataclass
class Button:
    """A button of the current question: the engine adds prompt number and step tag."""

    label: str
    action: str
    arg: object | None = None


@dataclass
class LinkButton:
    """A button with fixed callback data (an entry point such as ``report:start``)."""

    label: str
    data: str


Row: TypeAlias = list[Button | LinkButton]


@dataclass
class Prompt:
    text: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Done:
    """The conversation ends with this message (the draft is discarded unless kept)."""

    text: str
    rows: list[Row] = field(default_factory=list)
    keep_draft: bool = False
    toast: str | None = None


class Retry(Exception):
    """Bad input: say why and ask the same question again; nothing changes."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class Stale(Exception):
    """A button that does not belong to the current question, or to this person."""


Outcome: TypeAlias = "str | Done"


@dataclass
class Turn:
    """One update inside a flow: the person, their draft's data, a database session."""

    who: Caller
    session: Session
    services: Services
    step: str
    data: dict[str, Any]
    held: dict[tuple[type, int], Any] = field(default_factory=dict)

    def get(self, model: type[M], row_id: int) -> M | None:
        """A row by id, loaded at most once per update.

        The session's identity map holds rows only weakly, so catalog rows looked up again
        and again while rendering would be queried again each time; this keeps them.
        """
        key = (model, int(row_id))
        if key not in self.held:
            self.held[key] = self.session.get(model, int(row_id))
        return self.held[key]  # type: ignore[no-any-return]

    @property
    def person(self) -> Person:
        assert self.who.person is not None
        return self.who.person

    @property
    def language(self) -> str:
        return self.who.language

    def _(self, message: str) -> str:
        return self.who._(message)

    @property
    def now(self) -> dt.datetime:
        return self.services.now()


TextHandler: TypeAlias = Callable[[Turn, str], Outcome]
ButtonHandler: TypeAlias = Callable[[Turn, buttons.Press], Outcome]


@dataclass
class StepSpec:
    step: str
    tag: str
    render: Callable[[Turn], Prompt]
    help: str
    counter: Callable[[Turn], tuple[int, int] | None] | None = None
    on_text: TextHandler | None = None
    on_button: dict[str, ButtonHandler] = field(default_factory=dict)
    back: Callable[[Turn], Outcome] | None = None
    inplace: bool = False


class Flow:
    """One guided conversation; build its steps with `step`, then `register` it."""

    flows: ClassVar[list[Flow]] = []

    def __init__(
        self,
        *,
        name: str,
        title: str,
        prefix: str,
        command: str,
        group: int,
        start: Callable[[Turn], Outcome],
        describe: Callable[[Turn, ConversationDraft], str],
        guard: Callable[[Turn], Done | None] | None = None,
        verify: Callable[[Turn], None] | None = None,
        entry_data: tuple[str, ...] = (),
    ) -> None:
        """
        Args:
            name: ConversationHandler name and ConversationDraft.flow.
            title: translatable name of the flow ("Participation report").
            prefix: callback_data prefix of the flow's buttons.
            command: the command that starts it (without the slash).
            group: handler group (negative: before group 0).
            start: first step for a fresh draft (``turn.data`` has year and seq).
            describe: one line summarising a draft, for the "continue?" question.
            guard: run at every start; a Done ends the conversation (e.g. report locked).
            verify: run on every update of a running conversation; AccessDenied ends it.
            entry_data: fixed callback_data values that also start the flow.
        """
        self.name = name
        self.title = title
        self.prefix = prefix
        self.command = command
        self.group = group
        self.start = start
        self.describe = describe
        self.guard = guard
        self.verify = verify
        self.entry_data = entry_data
        self.specs: dict[str, StepSpec] = {}
        self.by_tag: dict[str, StepSpec] = {}
        self.step(
            RESUME,
            RESUME_TAG,
            render=self._render_resume,
            help=MSG_HELP_RESUME,
            on_button={"c": self._continue, "n": self._start_over},
        )
        Flow.flows = [f for f in Flow.flows if f.name != name] + [self]

    # --- building ------------------------------------------------------------------------

    def step(
        self,
        step: str,
        tag: str,
        *,
        render: Callable[[Turn], Prompt],
        help: str,
        counter: Callable[[Turn], tuple[int, int] | None] | None = None,
        on_text: TextHandler | None = None,
        on_button: dict[str, ButtonHandler] | None = None,
        back: Callable[[Turn], Outcome] | None = None,
        inplace: bool = False,
    ) -> None:
        """Declare a step: how to ask, what typed text and each button action do.

        ``inplace``: a button that leaves the person on this step (a toggle) updates the
        question's message instead of sending a new one.
        """
        if tag in self.by_tag or not tag or buttons.SEP in tag:
            raise ValueError(f"step tag {tag!r} is used twice or invalid")
        spec = StepSpec(
            step, tag, render, help, counter, on_text, dict(on_button or {}), back, inplace
        )
        self.specs[step] = spec
        self.by_tag[tag] = spec

    def conversation(self, settings_idle_minutes: float) -> ConversationHandler[Any]:
        """The ConversationHandler: persistent, one state per step, engine callbacks."""
        states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
            spec.step: [
                CallbackQueryHandler(
                    self._on_button, pattern=buttons.pattern(self.prefix, spec.tag)
                ),
                MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, self._on_message),
            ]
            for spec in self.specs.values()
        }
        states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, self._on_timer)]
        entry_points: list[BaseHandler[Update, Any, Any]] = [
            CommandHandler(self.command, self._on_entry)
        ]
        entry_points += [
            CallbackQueryHandler(self._on_entry, pattern=rf"^{data}$") for data in self.entry_data
        ]
        with warnings.catch_warnings():
            # Text and buttons are mixed, so per_message stays False; stale buttons are caught
            # by the prompt number in callback_data instead (see bot.flow.buttons).
            warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
            return self._build(entry_points, states, settings_idle_minutes)

    def _build(
        self,
        entry_points: list[BaseHandler[Update, Any, Any]],
        states: dict[object, list[BaseHandler[Update, Any, Any]]],
        idle_minutes: float,
    ) -> ConversationHandler[Any]:
        return ConversationHandler(
            entry_points=entry_points,
            states=states,
            fallbacks=[
                CommandHandler("peru", self._on_cancel),
                CommandHandler("ohje", self._on_help),
                CallbackQueryHandler(self._on_stale, pattern=buttons.pattern(self.prefix)),
                MessageHandler(filters.COMMAND & ~_pass_through_filter(), self._on_other),
                CallbackQueryHandler(self._on_other, pattern=_sibling_pattern(self)),
            ],
            allow_reentry=True,
            name=self.name,
            persistent=True,
            conversation_timeout=dt.timedelta(minutes=idle_minutes),
        )

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        idle = services(application).settings.conversation.idle_timeout_minutes
        application.add_handler(self.conversation(idle), group=self.group)
        stop = [CommandHandler(self.command, _stop)]
        stop += [CallbackQueryHandler(_stop, pattern=rf"^{data}$") for data in self.entry_data]
        for handler in stop:
            application.add_handler(handler, group=FLOW_STOP_GROUP)

    # --- PTB callbacks -------------------------------------------------------------------

    async def _on_entry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        """/command or an entry button: offer the draft, or start fresh. Does not stop."""
        who = caller(update, context)
        if not _is_contact(who):
            await refuse(update, who)
            return END
        svc = services(context)
        outbox = Outbox()
        with transaction(svc.sessions) as session:
            assert who.person is not None
            row = drafts.get(session, who.person.id, self.name)
            data = copy.deepcopy(row.data) if row is not None else {}
            turn = Turn(who, session, svc, row.step if row else "", data)
            year = svc.current_year()
            if row is not None and data.get("year") != year:
                drafts.discard(session, who.person.id, self.name)
                row = None
            done = self.guard(turn) if self.guard else None
            if done is not None:
                state = self._finish(turn, row, dataclasses.replace(done, keep_draft=True), outbox)
            elif row is not None:
                if row.step != RESUME:
                    turn.data["resume"] = row.step
                turn.step = RESUME
                turn.data["summary"] = self.describe(turn, row)
                turn.data["resume_at"] = local_time(svc, row.last_activity_at)
                state = self._ask(turn, row, outbox)
            else:
                turn.data = {"year": year, "seq": 0}
                state = self._apply(turn, None, self.start(turn), outbox)
        await deliver(update, outbox)
        return state

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        query = update.callback_query
        assert query is not None
        press = buttons.decode(query.data, self.prefix)
        return await self._run(update, context, lambda turn, row, out: self._press(turn, press))

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        message = update.message
        text = message.text if message is not None else None

        def typed(turn: Turn, row: ConversationDraft, outbox: Outbox) -> Outcome:
            spec = self.specs[turn.step]
            if text is None:
                raise Retry(MSG_TEXT_ONLY)
            if spec.on_text is None:
                raise Retry(MSG_USE_BUTTONS)
            return spec.on_text(turn, text)

        return await self._run(update, context, typed)

    async def _on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        def explain(turn: Turn, row: ConversationDraft, outbox: Outbox) -> Outcome:
            spec = self.specs[turn.step]
            outbox.say(
                f"{turn._(MSG_HELP_HEADER)}\n{turn._(spec.help)}\n\n{turn._(MSG_HELP_FOOTER)}"
            )
            return turn.step

        return await self._run(update, context, explain)

    async def _on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        who = caller(update, context)
        svc = services(context)
        if who.person is not None:
            with transaction(svc.sessions) as session:
                drafts.discard(session, who.person.id, self.name)
        outbox = Outbox()
        outbox.say(who._(MSG_CANCELLED))
        await deliver(update, outbox)
        raise ApplicationHandlerStop(END)

    async def _on_stale(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        """A button of this flow whose step tag is not the current step's."""
        who = caller(update, context)
        await deliver(update, Outbox(toast=who._(MSG_STALE), alert=True))
        raise ApplicationHandlerStop(None)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        """Another command (or another flow's start button): pause, keep the draft.

        Does not stop: the command is then handled by its own handler.
        """
        message = update.effective_message
        text = message.text if message is not None and update.callback_query is None else ""
        word = (text or "").split()[0].lstrip("/").split("@")[0] if text else ""
        sibling = update.callback_query is not None or any(
            word == flow.command for flow in Flow.flows
        )
        if not sibling and update.effective_chat is not None:
            who = caller(update, context)
            pause = who._(MSG_PAUSED).format(flow=who._(self.title), command=self.command)
            await send_safely(update.effective_chat.id, update, pause, None)
        return END

    async def _on_timer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's real-time conversation_timeout (lost on restart; the draft check covers)."""
        if update.effective_chat is None:
            return
        who = caller(update, context)
        idle = services(context).settings.conversation.idle_timeout_minutes
        text = who._(MSG_IDLE).format(minutes=_minutes(idle), command=self.command)
        try:
            await update.effective_chat.send_message(text)
        except Exception as error:  # a timer has nobody to report to
            log.warning("could not send the idle message: %s", error)

    # --- the common path of every update in a running conversation ----------------------

    async def _run(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        act: Callable[[Turn, ConversationDraft, Outbox], Outcome],
    ) -> object:
        who = caller(update, context)
        if not _is_contact(who):
            await refuse(update, who)
            raise ApplicationHandlerStop(END)
        assert who.person is not None
        svc = services(context)
        outbox = Outbox()
        state: object = None
        with transaction(svc.sessions) as session:
            row = drafts.get(session, who.person.id, self.name)
            idle = svc.settings.conversation.idle_timeout_minutes
            if row is None or row.step not in self.specs:
                # No draft (saved or cancelled elsewhere), or one from an older version.
                outbox.say(who._(MSG_GONE).format(command=self.command))
                state = END
            elif drafts.is_idle(row, svc.now(), idle):
                outbox.say(who._(MSG_IDLE).format(minutes=_minutes(idle), command=self.command))
                state = END
            else:
                turn = Turn(who, session, svc, row.step, copy.deepcopy(row.data))
                state = self._guarded(turn, row, outbox, act, is_button=update.callback_query)
        await deliver(update, outbox)
        raise ApplicationHandlerStop(state)

    def _guarded(
        self,
        turn: Turn,
        row: ConversationDraft,
        outbox: Outbox,
        act: Callable[[Turn, ConversationDraft, Outbox], Outcome],
        *,
        is_button: object,
    ) -> object:
        try:
            if self.verify is not None and turn.step != RESUME:
                self.verify(turn)
            outcome = act(turn, row, outbox)
        except Stale:
            outbox.toast, outbox.alert = turn._(MSG_STALE), True
            return None
        except AccessDenied:
            if is_button:
                outbox.toast, outbox.alert = turn._(MSG_STALE), True
            done = Done(turn._(MSG_ENTITY_GONE).format(command=self.command))
            return self._finish(turn, row, done, outbox)
        except (Retry, InputError) as problem:
            message = turn._(problem.message).format(**problem.params)
            if is_button:
                outbox.toast, outbox.alert = message, True
                return None
            turn.data = copy.deepcopy(row.data)  # nothing the failed answer touched is kept
            turn.step = row.step
            return self._ask(turn, row, outbox, warning=message)
        stayed = bool(is_button) and outcome == row.step and self.specs[row.step].inplace
        return self._apply(turn, row, outcome, outbox, inplace=stayed)

    def _press(self, turn: Turn, press: buttons.Press | None) -> Outcome:
        spec = self.specs[turn.step]
        if press is None or press.seq != turn.data.get("seq") or press.tag != spec.tag:
            raise Stale
        if press.action == "b" and spec.back is not None:
            return spec.back(turn)
        handler = spec.on_button.get(press.action)
        if handler is None:
            raise Stale
        return handler(turn, press)

    def _apply(
        self,
        turn: Turn,
        row: ConversationDraft | None,
        outcome: Outcome,
        outbox: Outbox,
        *,
        inplace: bool = False,
    ) -> object:
        if isinstance(outcome, Done):
            return self._finish(turn, row, outcome, outbox)
        turn.step = outcome
        return self._ask(turn, row, outbox, inplace=inplace)

    def _ask(
        self,
        turn: Turn,
        row: ConversationDraft | None,
        outbox: Outbox,
        *,
        warning: str | None = None,
        inplace: bool = False,
    ) -> object:
        """Store the draft (new prompt number, step, activity time) and ask the step."""
        turn.data["seq"] = int(turn.data.get("seq", 0)) + 1
        spec = self.specs[turn.step]
        prompt = spec.render(turn)
        lines = []
        if warning:
            lines.append(f"⚠️ {warning}")
        counter = spec.counter(turn) if spec.counter else None
        if counter is not None:
            lines.append(turn._(MSG_STEP).format(n=counter[0], total=counter[1]))
        lines.append(prompt.text)
        rows = list(prompt.rows)
        if spec.back is not None:
            rows.append([Button(turn._(MSG_BACK), "b")])
        markup = self._markup(turn, spec, rows)
        if row is None:
            drafts.put(turn.session, turn.person.id, self.name, turn.step, turn.data, turn.now)
        else:
            drafts.write(row, turn.step, turn.data, turn.now)
        if inplace:
            outbox.edit = ("\n\n".join(lines), markup)
        else:
            outbox.say("\n\n".join(lines), markup)
        return turn.step

    def _finish(
        self, turn: Turn, row: ConversationDraft | None, done: Done, outbox: Outbox
    ) -> object:
        if not done.keep_draft:
            drafts.discard(turn.session, turn.person.id, self.name)
        if done.toast and outbox.toast is None:
            outbox.toast = done.toast
        outbox.say(done.text, self._markup(turn, None, done.rows) if done.rows else None)
        return END

    def _markup(self, turn: Turn, spec: StepSpec | None, rows: list[Row]) -> InlineKeyboardMarkup:
        keyboard = []
        for row in rows:
            line = []
            for button in row:
                if isinstance(button, LinkButton):
                    data = button.data
                else:
                    assert spec is not None
                    data = buttons.encode(
                        self.prefix, turn.data["seq"], spec.tag, button.action, button.arg
                    )
                line.append(InlineKeyboardButton(button.label, callback_data=data))
            if line:
                keyboard.append(line)
        return InlineKeyboardMarkup(keyboard)

    # --- the resume step -----------------------------------------------------------------

    def _render_resume(self, turn: Turn) -> Prompt:
        when = turn.data.get("resume_at") or ""
        text = turn._(MSG_RESUME).format(when=when, summary=turn.data.get("summary", ""))
        return Prompt(
            text,
            [[Button(turn._(MSG_CONTINUE), "c"), Button(turn._(MSG_START_OVER), "n")]],
        )

    def _continue(self, turn: Turn, press: buttons.Press) -> Outcome:
        step = turn.data.pop("resume", None)
        turn.data.pop("summary", None)
        turn.data.pop("resume_at", None)
        if step not in self.specs or step == RESUME:
            return self._start_over(turn, press)
        if self.verify is not None:
            self.verify(turn)
        return str(step)

    def _start_over(self, turn: Turn, press: buttons.Press) -> Outcome:
        turn.data = {"year": turn.data["year"], "seq": turn.data.get("seq", 0)}
        return self.start(turn)


def _is_contact(who: Caller) -> bool:
    return who.person is not None and who.has(Role.CONTACT)


def _minutes(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _pass_through_filter() -> filters.BaseFilter:
    words = "|".join(PASS_THROUGH_COMMANDS)
    return filters.Regex(rf"^/({words})(@\w+)?(\s|$)")


def _sibling_pattern(flow: Flow) -> str:
    """Start buttons of the *other* flows (pressing one pauses this flow)."""
    others = [data for other in Flow.flows if other is not flow for data in other.entry_data]
    if not others:
        return r"^\b$"  # never matches
    return "^(" + "|".join(others) + ")$"


async def _stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After every flow has seen a start command, nothing else answers it."""
    raise ApplicationHandlerStop


def local_time(services_: Services, moment: dt.datetime) -> str:
    """Finnish-style day, month and time: "2.11. 10.05"."""
    local = moment.astimezone(services_.settings.tz)
    return f"{local.day}.{local.month}. {local.hour}.{local.minute:02d}"
