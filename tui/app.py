"""The Airlock app: registers themes and global keys, keeps one workspace per project, and
runs the scheduled tasks that come due while it is open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from airlock.config import AirlockConfig, ProjectConfig, load_config, save_config
from airlock.errors import AirlockError
from airlock.scheduler import CHECK_INTERVAL, Clock, TaskRun, run_forever
from airlock.sessions import current_id
from tui.engine import preload_engine
from tui.keys import key_for, user_actions
from tui.mcp_approvals import McpApprovals, McpAsk
from tui.questions import ANSWERS, Question, Questions
from tui.recent import remember_project
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen, binding_rows
from tui.screens.mcp import McpScreen
from tui.screens.mcp_approval import McpApprovalScreen
from tui.screens.network import NetworkScreen
from tui.screens.project_editor import ProjectEditor
from tui.screens.projects import ProjectSwitcher
from tui.screens.sessions import SessionsScreen
from tui.screens.vms import VMScreen
from tui.screens.welcome import WelcomeScreen
from tui.screens.workspace import Opening, WorkspaceScreen
from tui.task_news import TaskNews, mark_seen
from tui.themes import VARIABLE_DEFAULTS, app_themes

if TYPE_CHECKING:
    from tui.screens.review import ReviewScreen

DEFAULT_THEME = "airlock-dark"
PRELOAD_AFTER = 1.0  # seconds after start: the engine loads while the user picks a project
# Actions that open a screen: they wait while an MCP call is being approved.
SIDE_SCREENS = (VMScreen, NetworkScreen, SessionsScreen, McpScreen)  # one at a time
SCREEN_ACTIONS = {"review", "projects", "vms", "network", "sessions", "mcp", "command_palette"}


class AirlockApp(App[None]):
    """Keyboard-first front end of the engine: every action is a binding with an id."""

    CSS_PATH = "app.tcss"
    TITLE = "Airlock"
    BINDINGS = [
        # f1 first, and a priority binding like the others, so the footer always shows it;
        # `?` is not priority: it must still type a question mark in the prompt.
        Binding("f1", "help", "Help", priority=True, id="app.help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+r", "review", "Review", priority=True, id="app.review"),
        Binding("ctrl+o", "projects", "Projects", priority=True, id="app.projects"),
        Binding("ctrl+l", "vms", "VMs", priority=True, id="app.vms"),
        Binding("ctrl+n", "network", "Network", priority=True, id="app.network"),
        Binding("ctrl+s", "sessions", "Sessions", id="app.sessions"),
        Binding("f2", "mcp", "MCP", id="app.mcp"),
        Binding(
            "ctrl+p", "command_palette", "Commands", show=False, priority=True, id="app.commands"
        ),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+g", "answer('once')", "Allow once", priority=True, id="app.allow-once"),
        Binding("ctrl+t", "answer('always')", "Allow always", priority=True, id="app.allow-always"),
        Binding("ctrl+b", "answer('deny')", "Deny", priority=True, id="app.deny"),
    ]

    def __init__(
        self,
        config: AirlockConfig,
        opening: Opening | None = None,
        *,
        clock: Clock = dt.datetime.now,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        """`clock` and `check_interval` drive the scheduler of due tasks (tests speed them)."""
        super().__init__()
        self.config = config
        self.workspaces: dict[Path, WorkspaceScreen] = {}
        self.questions = Questions(self._question_changed)
        self.mcp_calls = McpApprovals(self._ask_mcp_call)
        self.task_news = TaskNews(self._announce, self._sessions_key)
        self._opening = opening
        self._clock = clock
        self._check_interval = check_interval
        themes, self._theme_errors = app_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = config.theme if config.theme in self.available_themes else DEFAULT_THEME
        self._theme_missing = wanted != config.theme
        self.theme = wanted

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def get_default_screen(self) -> Screen[None]:
        return WelcomeScreen()

    def on_mount(self) -> None:
        self.set_timer(PRELOAD_AFTER, preload_engine)  # not to slow the first frames
        self.set_keymap(self.config.keymap)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        problems = [str(error) for error in self._theme_errors]
        if self._theme_missing:
            problems.append(f"theme {self.config.theme!r} not found; using {DEFAULT_THEME}")
        if problems:
            self.notify(
                "\n".join(problems),
                title="Some themes could not be used",
                severity="error",
                timeout=20,
                markup=False,
            )
        if self._opening is not None:
            self.open_workspace(self._opening)
        else:
            self.action_projects()
        self.task_news.at_start(self.config)
        tasks = run_forever(
            self.task_news.config, self._task_ran, self._clock, self._check_interval
        )
        self.run_worker(tasks, name="scheduler", exit_on_error=False)

    # -- workspaces ------------------------------------------------------------

    @property
    def workspace(self) -> WorkspaceScreen | None:
        """The workspace on screen (under any screens pushed over it)."""
        base = self.screen_stack[0] if self.screen_stack else None
        return base if isinstance(base, WorkspaceScreen) else None

    def open_workspace(self, opening: Opening) -> None:
        """Show the project's workspace, made on first use and kept while the app runs."""
        path = opening.project.path
        mode = f"workspace:{path}"
        if path not in self.workspaces:
            screen = WorkspaceScreen(opening, self.questions, self.mcp_calls)
            self.workspaces[path] = screen
            self.add_mode(mode, lambda: screen)
        self.switch_mode(mode)
        self.sub_title = opening.project.name
        remember_project(path)

    def _switch_to(self, project: ProjectConfig | None) -> None:
        if project is not None:
            self.open_workspace(Opening(project, self.config))

    @on(ProjectEditor.Saved)
    def _project_saved(self, message: ProjectEditor.Saved) -> None:
        """Edited instructions apply to the open workspace's next turn."""
        workspace = self.workspaces.get(message.project.path)
        if workspace is not None:
            workspace.project.instructions = message.project.instructions

    # -- actions -----------------------------------------------------------------

    def action_projects(self) -> None:
        if isinstance(self.screen, ProjectSwitcher):
            return
        open_projects = [screen.project for screen in self.workspaces.values()]
        current = self.workspace.project if self.workspace else None
        self.push_screen(ProjectSwitcher(open_projects, current), self._switch_to)

    def action_review(self) -> None:
        workspace = self.workspace
        session = workspace.session if workspace else None
        if session is None:
            self.notify("Nothing to review yet: open a project and send a prompt.")
            return
        from tui.screens.review import ReviewScreen

        if isinstance(self.screen, ReviewScreen):
            return
        try:
            session.gate  # noqa: B018 - raises until the session has started
        except AirlockError:
            self.notify("The sandbox is still starting; try again in a moment.")
            return
        self.push_screen(ReviewScreen(session))

    def _push_side(
        self, screen: Screen[Any], callback: Callable[[Any], None] | None = None
    ) -> None:
        """Show one of the side screens (VMs, network, sessions, MCP) in place of another."""
        top = self.screen
        if isinstance(top, NetworkScreen) and top.unsaved:
            self.notify("Save the allowlist (ctrl+s) or drop the edits (esc) first.")
            return
        if isinstance(top, SIDE_SCREENS):
            self.pop_screen()
        self.push_screen(screen, callback)

    def action_vms(self) -> None:
        if not isinstance(self.screen, VMScreen):
            self._push_side(VMScreen())

    def action_network(self) -> None:
        workspace = self.workspace
        if workspace is None:
            self.notify("Open a project first: its network log and allowlist are per project.")
        elif not isinstance(self.screen, NetworkScreen):
            self._push_side(NetworkScreen(workspace.project, workspace.session))

    def action_sessions(self) -> None:
        workspace = self.workspace
        if workspace is None:
            self.notify("Open a project first: sessions are listed per project.")
        elif not isinstance(self.screen, SessionsScreen):
            session = workspace.session
            current = session.record.id if session else current_id(workspace.project)
            screen = SessionsScreen(workspace.project, current)
            self._push_side(screen, partial(self._open_session, workspace))

    def _open_session(self, workspace: WorkspaceScreen, session_id: str | None) -> None:
        if session_id is not None and workspace.open_session(session_id):
            mark_seen(session_id)

    def action_mcp(self) -> None:
        workspace = self.workspace
        if workspace is None:
            self.notify("Open a project first: MCP servers are per project.")
        elif not isinstance(self.screen, McpScreen):
            self._push_side(McpScreen(workspace.project, workspace.session))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(binding_rows(self.screen)))

    async def action_quit(self) -> None:
        """Quit; while the agent works, only after a yes (ctrl+q twice also quits)."""
        working = [screen.project.name for screen in self.workspaces.values() if screen.working]
        if not working or isinstance(self.screen, ConfirmScreen):
            self.exit()
            return
        question = (
            f"The agent is still working in {', '.join(working)}. Quit and interrupt it? "
            "Its session can be continued later; nothing reaches your folder unreviewed."
        )
        self.push_screen(ConfirmScreen(question), lambda yes: self.exit() if yes else None)

    def action_answer(self, verdict: str) -> None:
        if verdict in ANSWERS and (question := self.questions.answer(verdict)) is not None:
            self.notify(f"{question.text}: {verdict}", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            return self.questions.oldest is not None
        if action in SCREEN_ACTIONS and isinstance(self.screen, McpApprovalScreen):
            return None
        # A screen's OPENED_BY names the action that shows it: no key for where we are.
        return getattr(self.screen, "OPENED_BY", None) != action

    def on_review_screen_rejections_sent(self, message: ReviewScreen.RejectionsSent) -> None:
        """Rejections go back to the agent as a turn of the workspace, shown there."""
        from tui.screens.review import ReviewScreen

        workspace = self.workspace
        sent = workspace is not None and workspace.send(message.prompt)
        if sent and isinstance(self.screen, ReviewScreen):
            self.screen.dismiss()  # back to the workspace, to follow the turn

    def _ask_mcp_call(self, ask: McpAsk) -> None:
        self.push_screen(McpApprovalScreen(ask), lambda _: self.mcp_calls.closed())

    def _question_changed(self, question: Question | None) -> None:
        self.refresh_bindings()
        if question is None:
            return
        keys = " · ".join(
            f"{key_for(self.screen, f'answer({verdict!r})')} {label}"
            for verdict, label in (("once", "allow once"), ("always", "always"), ("deny", "deny"))
        )
        self.notify(
            f"{question.text}\n{keys}",
            title="Allow?",
            severity="warning",
            timeout=60,
            markup=False,
        )

    # -- scheduled tasks -------------------------------------------------------------

    def _task_ran(self, run: TaskRun) -> None:
        self.task_news.ran(run)
        if isinstance(self.screen, SessionsScreen):
            self.screen.reload()

    def _announce(self, text: str, failed: bool) -> None:
        severity: SeverityLevel = "error" if failed else "information"
        self.notify(text, title="Scheduled task", severity=severity, timeout=30, markup=False)

    def _sessions_key(self) -> str:
        return key_for(self.screen_stack[0], "sessions") if self.screen_stack else "sessions"

    # -- themes and the command palette ----------------------------------------

    def _remember_theme(self, theme: Theme) -> None:
        try:
            config = load_config()
            config.theme = theme.name
            save_config(config)
        except AirlockError as exc:
            self.notify(f"cannot remember the theme: {exc}", severity="error", markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, then every action that has a key (so the palette lists them)."""
        yield from super().get_system_commands(screen)
        for active in user_actions(screen):
            binding = active.binding
            if binding.action not in ("quit", "command_palette"):  # Textual lists those
                yield SystemCommand(
                    binding.description,
                    f"{binding.tooltip or binding.description} ({self.get_key_display(binding)})",
                    partial(self.run_action, binding.action, active.node),
                )
