"""The one engine every guided conversation runs on (/raportoi, /tyytyvaisyys, /muokkaa, /valmis).

A flow is a set of named steps, declared top to bottom in one file per flow (``bot/flows``):
for each step how to ask (``render``), what a typed answer and each button do, where Back goes
and what /ohje says. The engine does the rest, the same way for every step and every update:

* **The draft row is the only conversation state.** The person's draft (``data.drafts``) holds
  the step, the prompt number and every unsaved answer; no ConversationHandler state and no
  ``user_data``. An update reads the draft, acts, and writes the draft in the same transaction
  as any confirmed answer, then replies — so any process can answer any update and a restart
  needs nothing from memory (``bot.flow.router`` is the single handler that does this).
* Who is asking is looked up again on every update and must still be allowed (``allowed``).
* A draft idle for ``conversation.idle_timeout_minutes`` (on the application's clock) is
  paused with a message and kept; the flow's command offers to continue it.
* Buttons carry the draft's prompt number (``bot.flow.codec``): only the newest question's
  buttons act; any other gets the one stale-button answer (``bot.ui``) and changes nothing.
* Every question can show "Step n/N" and has one Back button where going back makes sense;
  /peru discards the draft, /ohje explains the current step and asks it again.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import logging
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar, cast

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from bot import ui
from bot.access import Caller
from bot.flow import codec
from core.services import Services
from data import catalog, drafts
from data.drafts import Draft, copy_data
from data.limits import MAX_TEXT
from data.models import (
    CatalogMethod,
    Division,
    Level,
    MeasurementType,
    Role,
    ServiceEntity,
)
from data.people import PersonValue
from data.reports import AccessDenied
from delivery.replies import Keyboard, Outbox
from i18n import N_, formats
from i18n.formats import InputError

log = logging.getLogger(__name__)

M = TypeVar("M")

#: Rows served from `data.catalog`'s process-held copy, never read per update.
CATALOG_MODELS: frozenset[type] = frozenset(
    {Level, CatalogMethod, Division, ServiceEntity, MeasurementType}
)

RESUME = "resume"
RESUME_TAG = "R"

MSG_STALE = ui.MSG_STALE
MSG_STEP = N_("Step {n}/{total}")
MSG_BACK = ui.MSG_BACK
#: The button on a question about an answer already given: keep it and go on.
MSG_KEEP_AS_IS = N_("Keep as it is ({value})")
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
    "You have unsaved answers (last changed {when}): {summary}\n\nContinue where you left "
    "off, or start over (the unsaved answers are then discarded)?"
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


@with_config(ConfigDict(extra="forbid"))
class EngineDraft(TypedDict, total=False):
    """The draft keys the engine itself keeps; each flow's draft model extends it, and a
    draft is validated against its flow's model whenever it is read (a key the flow does
    not declare, or a value of the wrong type, makes it a draft the flow cannot continue)."""

    version: int  # of the flow's draft shape (Flow.version)
    year: int  # the round
    seq: int  # prompt number (core.codec)
    resume: str  # the step the "continue?" question returns to
    summary: str  # what that question says is unsaved
    resume_at: str  # when it was last answered


@dataclass
class Button:
    """A button of the current question: the engine adds flow, prompt number and step tag."""

    label: str
    action: str
    arg: object | None = None


@dataclass
class LinkButton:
    """A button with fixed callback data (an entry point such as ``report:start``)."""

    label: str
    data: str


@dataclass(frozen=True)
class WebAppButton:
    """A button that opens the Mini App (``settings.miniapp_page``) inside Telegram."""

    label: str
    url: str


Row: TypeAlias = Sequence[Button | LinkButton | WebAppButton]


@dataclass
class Prompt:
    text: str
    rows: Sequence[Row] = field(default_factory=list)
    #: What just happened ("✓ Saved."), shown first, above the step counter.
    notice: str | None = None


@dataclass
class Done:
    """The conversation ends with this message (the draft is discarded unless kept)."""

    text: str
    rows: Sequence[Row] = field(default_factory=list)
    keep_draft: bool = False
    toast: str | None = None
    #: Pressed on the question: the answer replaces it, so its buttons cannot be used again.
    replace: bool = False
    #: The draft stays (paused) at this step with the turn's data, e.g. after saving one
    #: entity while another's unsaved answers are kept.
    draft_step: str | None = None


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
    #: An alert shown on the pressed button (e.g. "this answer no longer exists").
    alert: str | None = None
    #: Said above the next question, once (e.g. "your unsaved answers … are kept").
    notices: list[str] = field(default_factory=list)

    def get(self, model: type[M], row_id: int) -> M | None:
        """A row by id, loaded at most once per update (catalog rows are read often)."""
        if model in CATALOG_MODELS:
            held: M | None = catalog.get(self.session, cast(Any, model), row_id)  # process-held
            return held
        key = (model, int(row_id))
        if key not in self.held:
            self.held[key] = self.session.get(model, int(row_id))
        return self.held[key]

    @property
    def person(self) -> PersonValue:
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

    @property
    def year(self) -> int:
        return int(self.data["year"])

    def number(self, value: int) -> str:
        """A count as the person's language writes it: "1 200" / "1,200"."""
        return formats.format_count(value, self.language)


TextHandler: TypeAlias = Callable[[Turn, str], Outcome]
ButtonHandler: TypeAlias = Callable[[Turn, codec.Press], Outcome]


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
    moves_in_place: bool = False


def is_contact(who: Caller) -> bool:
    """An active division contact: the people the reporting flows serve."""
    return (
        who.person is not None
        and who.person.active
        and who.has(Role.CONTACT)
        and who.person.division_id is not None
    )


class Flow:
    """One guided conversation; declare its steps with `step`."""

    flows: ClassVar[dict[str, Flow]] = {}

    def __init__(
        self,
        *,
        name: str,
        title: str,
        prefix: str,
        command: str,
        start: Callable[[Turn], Outcome],
        describe: Callable[[Turn, Draft], str | None],
        guard: Callable[[Turn], Done | None] | None = None,
        verify: Callable[[Turn], None] | None = None,
        entry_data: tuple[str, ...] = (),
        allowed: Callable[[Caller], bool] = is_contact,
        gone_message: str = MSG_ENTITY_GONE,
        idle_message: str = MSG_IDLE,
        cancel_message: str = MSG_CANCELLED,
        html: bool = False,
        resumable: bool = True,
        version: int = 1,
        redirect: Callable[[Turn, str], str | None] | None = None,
        draft: type[EngineDraft] = EngineDraft,
        reads_progress: bool = False,
    ) -> None:
        """
        Args:
            name: the draft's flow (``data.drafts.Draft.flow``).
            title: translatable name of the flow ("Participation report").
            prefix: the flow's name in callback data (see `bot.flow.codec`).
            command: the command that starts it (without the slash).
            start: first step for a fresh draft (``turn.data`` has year and seq).
            describe: one line summarising a draft for the "continue?" question, or None when
                the draft holds no answer worth offering (the flow then simply starts again).
            guard: run at every start; a Done ends the conversation (e.g. report locked).
            verify: run on every update of a running conversation; AccessDenied ends it.
            entry_data: fixed callback_data values that also start the flow.
            allowed: who may use the flow (checked on every update).
            gone_message: what ends the flow when ``verify`` finds the person's access gone.
            idle_message: what the person is told when the flow was idle too long.
            cancel_message: the answer to /peru.
            html: the flow's texts are HTML (its renderers escape what people typed).
            resumable: its command continues an open draft; False: it always starts afresh.
            version: of the flow's draft data; raise it when the shape changes, and a draft
                written by an older version is discarded instead of misread.
            redirect: asked with an entry button's data before the flow starts; a flow name
                starts that flow instead (the reminders' "Report now" opens what is missing).
            draft: the typed model of the flow's draft data (extends `EngineDraft`),
                validated whenever a draft is read.
            reads_progress: its start shows the person's division's progress of the
                current year (the entity list): the router reads it with the person, in
                the update's first statement (``data.progress.preload``).
        """
        self.name = name
        self.title = title
        self.prefix = prefix
        self.command = command
        self.start = start
        self.describe = describe
        self.guard = guard
        self.verify = verify
        self.entry_data = entry_data
        self.allowed = allowed
        self.gone_message = gone_message
        self.idle_text = idle_message
        self.cancel_text = cancel_message
        self.html = html
        self.resumable = resumable
        self.version = version
        self.redirect = redirect
        self.draft_model: TypeAdapter[EngineDraft] = TypeAdapter(draft)
        self.draft_keys = frozenset(draft.__annotations__)
        self.reads_progress = reads_progress  # a TypedDict's, inherited ones too
        self.specs: dict[str, StepSpec] = {}
        self.by_tag: dict[str, StepSpec] = {}
        self.step(
            RESUME,
            RESUME_TAG,
            render=self._render_resume,
            help=MSG_HELP_RESUME,
            on_button={"c": self._continue, "n": self._start_over},
        )
        Flow.flows[name] = self

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
        moves_in_place: bool = False,
    ) -> None:
        """Declare a step: how to ask, what typed text and each button action do.

        ``inplace``: a button that leaves the person on this step (a toggle) updates the
        question's message instead of sending a new one. ``moves_in_place``: any button of
        this step's question (Back too) turns that message into the next question — one
        message instead of two — where the question's own text is not needed any more (its
        answer shows on the next question or the review); the end of the conversation
        (`Done`) still says its words anew, unless it replaces. A typed answer always gets a
        new message (the question is above the person's own words then).
        """
        if tag in self.by_tag or not codec.is_token(tag):
            raise ValueError(f"step tag {tag!r} is used twice or invalid")
        handled = set(on_button or {}) | ({codec.BACK} if back is not None else set())
        unhandled = literal_actions(render) - handled
        if unhandled:  # a button without a handler is a start-up error, not a "stale" press
            raise ValueError(f"step {step!r} shows buttons without a handler: {unhandled}")
        spec = StepSpec(
            step,
            tag,
            render,
            help,
            counter,
            on_text,
            dict(on_button or {}),
            back,
            inplace,
            moves_in_place,
        )
        self.specs[step] = spec
        self.by_tag[tag] = spec

    def readable(self, data: dict[str, Any]) -> bool:
        """The draft data is of this flow's version and model (see `EngineDraft`).

        During a rolling upgrade an older replica may read a draft a newer one wrote. A
        key added by the newer release (an optional part, the version unchanged) is left
        alone here — logged, kept in the data so the newer replica finds it again, never
        read — so the person's answers go on; a changed shape (a renamed key, a key read
        differently) raises the flow's version, and a draft of another version is not
        continued. A known key of the wrong type is never read either."""
        if data.get("version", 1) != self.version:
            return False
        unknown = sorted(data.keys() - self.draft_keys)
        known = data if not unknown else {k: v for k, v in data.items() if k in self.draft_keys}
        try:
            self.draft_model.validate_python(known)
        except ValidationError:
            return False
        if unknown:
            log.warning(
                "draft of flow %s has keys this release does not know, left alone: %s",
                self.name,
                ", ".join(unknown),
            )
        return True

    # --- what the router calls, inside the update's one transaction ------------------

    def begin(self, turn: Turn, row: Draft | None, outbox: Outbox) -> None:
        """The command or an entry button: offer a draft worth continuing, or start fresh."""
        outbox.html = self.html
        year = turn.services.current_year()
        if row is not None and (
            row.data.get("year") != year or not self.resumable or not self.readable(row.data)
        ):
            drafts.discard(turn.session, turn.person.id, self.name)
            row = None
        turn.data = {"year": year, "seq": int(row.data.get("seq", 0)) if row else 0}
        done = self.guard(turn) if self.guard else None
        if done is not None:
            self._finish(turn, row, Done(done.text, done.rows, keep_draft=True), outbox)
            return
        summary = self._summary(turn, row) if row is not None else None
        if row is not None and summary is None and row.step in self.specs and row.step != RESUME:
            # Nothing answered yet: no "unsaved answers?" question, just the same step again.
            turn.data = copy_data(row.data)
            turn.step = row.step
            try:
                if self.verify is not None:
                    self.verify(turn)
                self._ask(turn, row, outbox)
                return
            except AccessDenied:
                turn.data = {"year": year, "seq": int(row.data.get("seq", 0))}
        if row is not None and summary is not None:
            turn.data = copy_data(row.data)
            if row.step != RESUME:
                turn.data["resume"] = row.step
            turn.data["summary"] = summary
            turn.data["resume_at"] = local_time(turn.services, row.last_activity_at)
            turn.step = RESUME
            self._ask(turn, row, outbox)
            return
        self._apply(turn, row, self.start(turn), outbox)

    def _summary(self, turn: Turn, row: Draft) -> str | None:
        if row.step == RESUME:
            return str(row.data.get("summary") or "") or None
        probe = Turn(turn.who, turn.session, turn.services, row.step, copy_data(row.data))
        return self.describe(probe, row)

    def press(self, turn: Turn, row: Draft, press: codec.Press, out: Outbox) -> None:
        def act(t: Turn) -> Outcome:
            spec = self.specs[t.step]
            if press.seq != t.data.get("seq") or press.tag != spec.tag:
                raise Stale
            if press.action == codec.BACK and spec.back is not None:
                return spec.back(t)
            handler = spec.on_button.get(press.action)
            if handler is None:
                raise Stale
            return handler(t, press)

        self._guarded(turn, row, out, act, is_button=True)

    def typed(self, turn: Turn, row: Draft, text: str | None, out: Outbox) -> None:
        def act(t: Turn) -> Outcome:
            spec = self.specs[t.step]
            if text is None:
                raise Retry(MSG_TEXT_ONLY)
            if spec.on_text is None:
                raise Retry(MSG_USE_BUTTONS)
            return spec.on_text(t, text)

        self._guarded(turn, row, out, act, is_button=False)

    def help(self, turn: Turn, row: Draft, out: Outbox) -> None:
        def explain(t: Turn) -> Outcome:
            spec = self.specs[t.step]
            helped = t._(spec.help).format(limit=t.number(MAX_TEXT))  # the text limit, if named
            out.say(f"{t._(MSG_HELP_HEADER)}\n{helped}\n\n{t._(MSG_HELP_FOOTER)}")
            return t.step

        self._guarded(turn, row, out, explain, is_button=False)

    def cancel(self, turn: Turn, out: Outbox) -> None:
        drafts.discard(turn.session, turn.person.id, self.name)
        out.say(turn._(self.cancel_text))

    # --- the common path of every update in a running conversation --------------------

    def _guarded(
        self,
        turn: Turn,
        row: Draft,
        outbox: Outbox,
        act: Callable[[Turn], Outcome],
        *,
        is_button: bool,
    ) -> None:
        outbox.html = self.html
        try:
            if self.verify is not None and turn.step != RESUME:
                self.verify(turn)
            outcome = act(turn)
        except Stale:
            outbox.toast, outbox.alert = turn._(MSG_STALE), True
            return
        except AccessDenied:
            if is_button:
                outbox.toast, outbox.alert = turn._(MSG_STALE), True
            done = Done(turn._(self.gone_message).format(command=self.command))
            self._finish(turn, row, done, outbox)
            return
        except (Retry, InputError) as problem:
            if isinstance(problem, InputError):
                message = problem.render(turn.language)
            else:
                message = turn._(problem.message).format(**problem.params)
            if is_button:
                outbox.toast, outbox.alert = message, True
                return
            turn.data = copy_data(row.data)  # nothing the failed answer touched is kept
            turn.step = row.step
            turn.notices.clear()
            self._ask(turn, row, outbox, warning=message)
            return
        if turn.alert and outbox.toast is None:
            outbox.toast, outbox.alert = turn.alert, True
        spec = self.specs[row.step]
        stayed = outcome == row.step and spec.inplace
        moved = spec.moves_in_place and not isinstance(outcome, Done)
        self._apply(turn, row, outcome, outbox, inplace=is_button and (stayed or moved))

    def _apply(
        self,
        turn: Turn,
        row: Draft | None,
        outcome: Outcome,
        outbox: Outbox,
        *,
        inplace: bool = False,
    ) -> None:
        if isinstance(outcome, Done):
            self._finish(turn, row, outcome, outbox)
            return
        turn.step = outcome
        self._ask(turn, row, outbox, inplace=inplace)

    def _ask(
        self,
        turn: Turn,
        row: Draft | None,
        outbox: Outbox,
        *,
        warning: str | None = None,
        inplace: bool = False,
    ) -> None:
        """Store the draft (new prompt number, step, activity time) and ask the step."""
        turn.data["seq"] = int(turn.data.get("seq", 0)) + 1
        turn.data["version"] = self.version
        spec = self.specs[turn.step]
        prompt = spec.render(turn)
        lines = list(turn.notices)
        if prompt.notice:
            lines.append(prompt.notice)
        if warning:
            lines.append(f"⚠️ {warning}")
        counter = spec.counter(turn) if spec.counter else None
        if counter is not None:
            lines.append(turn._(MSG_STEP).format(n=counter[0], total=counter[1]))
        lines.append(prompt.text)
        rows = list(prompt.rows)
        if spec.back is not None:
            rows.append([Button(turn._(MSG_BACK), codec.BACK)])
        markup = self._markup(turn, spec, rows)
        if row is None:
            drafts.put(turn.session, turn.person.id, self.name, turn.step, turn.data, turn.now)
        else:
            drafts.write(row, turn.step, turn.data, turn.now)
        if inplace:
            outbox.edit = ("\n\n".join(lines), markup)
        else:
            outbox.say("\n\n".join(lines), markup)

    def _finish(self, turn: Turn, row: Draft | None, done: Done, outbox: Outbox) -> None:
        if done.draft_step is not None:
            turn.data["seq"] = int(turn.data.get("seq", 0)) + 1  # its old buttons are stale
            turn.data["version"] = self.version
            if row is None:
                drafts.put(
                    turn.session,
                    turn.person.id,
                    self.name,
                    done.draft_step,
                    turn.data,
                    turn.now,
                    paused=True,
                )
            else:
                drafts.write(row, done.draft_step, turn.data, turn.now)
                row.paused = True
        elif not done.keep_draft:
            drafts.discard(turn.session, turn.person.id, self.name)
        elif row is not None:
            row.paused = True
        if done.toast and outbox.toast is None:
            outbox.toast = done.toast
        markup = self._markup(turn, None, done.rows) if done.rows else None
        if done.replace:
            outbox.edit = (done.text, markup)
        else:
            outbox.say(done.text, markup)

    def _markup(self, turn: Turn, spec: StepSpec | None, rows: Sequence[Row]) -> Keyboard:
        """The step's buttons as Telegram's JSON (``delivery.replies.Keyboard``)."""
        keyboard = []
        for row in rows:
            line: list[dict[str, Any]] = []
            for button in row:
                if isinstance(button, WebAppButton):
                    line.append({"text": button.label, "web_app": {"url": button.url}})
                    continue
                if isinstance(button, LinkButton):
                    data = button.data
                else:
                    assert spec is not None
                    if button.action not in spec.on_button and not (
                        button.action == codec.BACK and spec.back is not None
                    ):
                        raise RuntimeError(f"{spec.step}: no handler for button {button.action!r}")
                    press = codec.Press(self.prefix, int(turn.data["seq"]), spec.tag, button.action)
                    data = codec.encode(press, button.arg)
                line.append({"text": button.label, "callback_data": data})
            if line:
                keyboard.append(line)
        return Keyboard(keyboard)

    # --- the resume step -----------------------------------------------------------------

    def _render_resume(self, turn: Turn) -> Prompt:
        when = turn.data.get("resume_at") or ""
        text = turn._(MSG_RESUME).format(when=when, summary=turn.data.get("summary", ""))
        return Prompt(
            text,
            [[Button(turn._(MSG_CONTINUE), "c"), Button(turn._(MSG_START_OVER), "n")]],
        )

    def _continue(self, turn: Turn, press: codec.Press) -> Outcome:
        step = turn.data.pop("resume", None)
        turn.data.pop("summary", None)
        turn.data.pop("resume_at", None)
        if step not in self.specs or step == RESUME:
            return self._start_over(turn, press)
        if self.verify is not None:
            self.verify(turn)
        return str(step)

    def _start_over(self, turn: Turn, press: codec.Press) -> Outcome:
        turn.data = {"year": turn.data["year"], "seq": turn.data.get("seq", 0)}
        return self.start(turn)

    def idle_message(self, turn: Turn) -> str:
        minutes = turn.services.settings.conversation.idle_timeout_minutes
        text = str(int(minutes)) if float(minutes).is_integer() else str(minutes)
        return turn._(self.idle_text).format(minutes=text, command=self.command)


def literal_actions(render: Callable[..., Any]) -> set[str]:
    """The actions of the buttons a render function writes as ``Button(label, "x", …)``
    (its own source; helpers it calls are checked when their buttons are drawn)."""
    function = inspect.unwrap(render)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Button"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.add(node.args[1].value)
    return found


def local_time(services_: Services, moment: dt.datetime) -> str:
    """ "2.11.2026 10.05" in the local time zone, as ``i18n.formats`` writes every date."""
    return formats.format_datetime(moment, services_.settings.tz)
