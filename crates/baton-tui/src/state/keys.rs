//! What each key does.

use super::{App, COMMANDS, Choice, Confirm, Editor, Level, Overlay, PermissionPanel, Reason};
use crate::effect::Effect;
use crate::words::tasks_and_shells;
use baton_protocol::{PermissionAnswer, PermissionId};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use std::time::{Duration, Instant};

/// A second Esc within this cancels the session's background work too.
const ESC_AGAIN: Duration = Duration::from_secs(1);
/// A second Ctrl+C within this quits.
const CTRL_C_AGAIN: Duration = Duration::from_secs(2);
/// Lines a mouse wheel step scrolls.
const WHEEL_LINES: usize = 3;

impl App {
    /// Handles a key; returns what to ask of the engine.
    pub fn on_key(&mut self, key: KeyEvent, now: Instant) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.dirty = true;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if ctrl && key.code == KeyCode::Char('c') {
            return self.ctrl_c(now);
        }
        if !matches!(self.overlay, Overlay::None) {
            return self.overlay_key(key, now);
        }
        match key.code {
            KeyCode::Char(c @ '1'..='9') if alt => self.focus_tab(c as usize - '1' as usize),
            KeyCode::PageUp if ctrl => self.step_tab(false),
            KeyCode::PageDown if ctrl => self.step_tab(true),
            KeyCode::Char('s') if ctrl => self.open_picker(),
            KeyCode::Char('t') if ctrl => {
                self.overlay = Overlay::Tasks(Default::default());
                Vec::new()
            }
            KeyCode::Char('o') if ctrl => {
                self.overlay = Overlay::Shells(Default::default());
                Vec::new()
            }
            KeyCode::Char('p') if ctrl => {
                self.open_permissions();
                Vec::new()
            }
            KeyCode::Char('l') if ctrl => {
                self.overlay = Overlay::Timeline(Default::default());
                Vec::new()
            }
            KeyCode::Char('b') if ctrl => self.background(now),
            KeyCode::Char('e') if ctrl => {
                if let Some(tab) = self.focused_mut() {
                    match tab.selected {
                        Some(index) => tab.conversation.toggle_expanded(index),
                        None => {
                            tab.expand_tools = !tab.expand_tools;
                            tab.conversation.invalidate_all();
                        }
                    }
                }
                Vec::new()
            }
            KeyCode::Up if ctrl || alt => {
                self.select_step(false);
                Vec::new()
            }
            KeyCode::Down if ctrl || alt => {
                self.select_step(true);
                Vec::new()
            }
            KeyCode::F(2) => {
                self.toggle_mouse(now);
                Vec::new()
            }
            KeyCode::Esc if self.focused().is_some_and(|t| t.selected.is_some()) => {
                self.select(None);
                Vec::new()
            }
            KeyCode::Esc => self.escape(now),
            KeyCode::F(1) => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            KeyCode::PageUp => {
                self.scroll_by(self.page(), true);
                Vec::new()
            }
            KeyCode::PageDown => {
                self.scroll_by(self.page(), false);
                Vec::new()
            }
            KeyCode::End if ctrl => {
                if let Some(tab) = self.focused_mut() {
                    tab.scroll = 0;
                }
                Vec::new()
            }
            KeyCode::Char('?') if self.editor.is_empty() => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            KeyCode::Enter
                if key
                    .modifiers
                    .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT) =>
            {
                self.editor.newline();
                Vec::new()
            }
            KeyCode::Char('j') if ctrl => {
                self.editor.newline();
                Vec::new()
            }
            KeyCode::Enter => {
                if self.editor.completion.is_some() {
                    let command = self.editor.text().starts_with('/');
                    self.editor.accept_completion();
                    if !command {
                        return Vec::new();
                    }
                }
                self.submit(now)
            }
            KeyCode::Tab => {
                self.editor.accept_completion();
                self.refresh_completion();
                Vec::new()
            }
            KeyCode::Up if self.editor.completion.is_some() => {
                self.editor.select_completion(false);
                Vec::new()
            }
            KeyCode::Down if self.editor.completion.is_some() => {
                self.editor.select_completion(true);
                Vec::new()
            }
            KeyCode::Up if self.editor.on_first_line() => {
                self.editor.history_back();
                Vec::new()
            }
            KeyCode::Down if self.editor.on_last_line() => {
                self.editor.history_forward();
                Vec::new()
            }
            KeyCode::Up => {
                self.editor.cursor_up();
                Vec::new()
            }
            KeyCode::Down => {
                self.editor.cursor_down();
                Vec::new()
            }
            _ => {
                self.editor.edit(key);
                self.refresh_completion();
                Vec::new()
            }
        }
    }

    /// Text pasted into the terminal goes into the editor (a long paste
    /// as a placeholder, expanded when the message is sent), or into a
    /// denial's reason as it is while one is typed.
    pub fn on_paste(&mut self, text: &str) {
        match &mut self.overlay {
            Overlay::None => self.editor.paste(text),
            Overlay::Permissions(PermissionPanel {
                reason: Some(reason),
                ..
            }) => reason.editor.insert(text),
            _ => return,
        }
        self.dirty = true;
    }

    /// The mouse: the wheel scrolls the conversation, a click on a tab
    /// focuses it, a click on a tool call, a notice or reasoning selects
    /// it and shows it in full (or folds it again).
    pub fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let effects = match mouse.kind {
            MouseEventKind::ScrollUp => {
                self.scroll_by(WHEEL_LINES, true);
                Vec::new()
            }
            MouseEventKind::ScrollDown => {
                self.scroll_by(WHEEL_LINES, false);
                Vec::new()
            }
            MouseEventKind::Down(MouseButton::Left) if matches!(self.overlay, Overlay::None) => {
                self.click(mouse.column, mouse.row)
            }
            _ => return Vec::new(),
        };
        self.dirty = true;
        effects
    }

    fn click(&mut self, column: u16, row: u16) -> Vec<Effect> {
        if row == self.hits.tab_row {
            let hit = self
                .hits
                .tabs
                .iter()
                .find(|(start, end, _)| (*start..=*end).contains(&column))
                .map(|(_, _, index)| *index);
            return hit.map_or_else(Vec::new, |index| self.focus_tab(index));
        }
        let hit = self
            .hits
            .entries
            .iter()
            .find(|(r, _)| *r == row)
            .map(|(_, index)| *index);
        if let Some(index) = hit
            && let Some(tab) = self.focused_mut()
            && tab
                .conversation
                .entries()
                .get(index)
                .is_some_and(|e| e.expandable())
        {
            let before = tab.selected.replace(index);
            if let Some(old) = before.filter(|old| *old != index) {
                tab.conversation.redraw(old);
            }
            tab.conversation.toggle_expanded(index);
        }
        Vec::new()
    }

    /// Moves the selection to the previous or next entry that can expand;
    /// past the last, nothing is selected (the view follows the end).
    fn select_step(&mut self, down: bool) {
        let Some(tab) = self.focused() else {
            return;
        };
        let entries = tab.conversation.entries();
        let expandable = |i: &usize| entries[*i].expandable();
        let next = match (tab.selected, down) {
            (None, false) => (0..entries.len()).rev().find(expandable),
            (None, true) => None,
            (Some(at), false) => (0..at).rev().find(expandable).or(Some(at)),
            (Some(at), true) => (at + 1..entries.len()).find(expandable),
        };
        self.select(next);
    }

    /// Selects an entry of the focused tab (or none) and shows it.
    fn select(&mut self, index: Option<usize>) {
        if let Some(tab) = self.focused_mut() {
            if let Some(old) = tab.selected {
                tab.conversation.redraw(old);
            }
            tab.selected = index;
            match index {
                Some(index) => {
                    tab.conversation.redraw(index);
                    tab.reveal = true;
                }
                None => tab.scroll = 0,
            }
        }
    }

    /// Takes the mouse from the terminal, or gives it back so its own
    /// selection and copy work.
    fn toggle_mouse(&mut self, now: Instant) {
        self.mouse_capture = !self.mouse_capture;
        let text = if self.mouse_capture {
            "mouse on: clicks and the wheel go to baton (F2 gives them to the terminal)"
        } else {
            "mouse off: select and copy with the terminal (F2 takes it back)"
        };
        self.toast(Level::Info, text, now);
    }

    fn refresh_completion(&mut self) {
        let root = self.setup.cwd.clone();
        self.editor.update_completion(&root, COMMANDS);
    }

    /// Half the conversation's height: what PgUp/PgDn scroll.
    fn page(&self) -> usize {
        (self.viewport_height / 2).max(1)
    }

    fn scroll_by(&mut self, lines: usize, up: bool) {
        if let Some(tab) = self.focused_mut() {
            tab.scroll = if up {
                tab.scroll.saturating_add(lines)
            } else {
                tab.scroll.saturating_sub(lines)
            };
        }
    }

    fn step_tab(&mut self, forward: bool) -> Vec<Effect> {
        let n = self.order.len();
        if n == 0 {
            return Vec::new();
        }
        let next = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
        self.focus_tab(next)
    }

    /// The oldest unanswered permission request of the focused session.
    pub fn focused_permission(&self) -> Option<PermissionId> {
        let id = self.focused_id()?;
        self.permissions_of(id).next().map(|p| p.id.clone())
    }

    /// Opens the permission panel on the focused session's oldest request,
    /// else the tree's oldest.
    pub fn open_permissions(&mut self) {
        let request = self
            .focused_permission()
            .or_else(|| self.permissions.first().map(|p| p.id.clone()));
        self.overlay = Overlay::Permissions(PermissionPanel {
            request,
            ..PermissionPanel::default()
        });
    }

    /// The request before or after `current` (the first when `current` is
    /// no longer pending).
    fn step_request(&self, current: Option<&PermissionId>, down: bool) -> Option<PermissionId> {
        let n = self.permissions.len();
        if n == 0 {
            return None;
        }
        let at = current.and_then(|id| self.permissions.iter().position(|p| p.id == *id));
        let i = match at {
            Some(i) if down => (i + 1).min(n - 1),
            Some(i) => i.saturating_sub(1),
            None => 0,
        };
        Some(self.permissions[i].id.clone())
    }

    /// A key while a denial's reason is typed: everything goes to the
    /// reason but Enter (deny with it), the new-line chords and Esc (back
    /// to the choices).
    fn reason_key(&mut self, key: KeyEvent, now: Instant) -> Vec<Effect> {
        let Overlay::Permissions(mut panel) = std::mem::take(&mut self.overlay) else {
            return Vec::new();
        };
        let Some(mut reason) = panel.reason.take() else {
            self.overlay = Overlay::Permissions(panel);
            return Vec::new();
        };
        let newline = (key.code == KeyCode::Enter
            && key
                .modifiers
                .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT))
            || (key.code == KeyCode::Char('j') && key.modifiers.contains(KeyModifiers::CONTROL));
        match key.code {
            _ if newline => {
                reason.editor.newline();
                panel.reason = Some(reason);
            }
            KeyCode::Esc => {}
            KeyCode::Enter => {
                let text = reason.editor.text();
                let text = text.trim();
                if text.is_empty() {
                    self.toast(
                        Level::Info,
                        "type why the call is denied, or Esc and choose deny",
                        now,
                    );
                    panel.reason = Some(reason);
                } else if self.permissions.iter().any(|p| p.id == reason.request) {
                    return vec![Effect::Answer(
                        reason.request,
                        PermissionAnswer::deny_because(text),
                    )];
                } else {
                    self.toast(
                        Level::Info,
                        "that request was answered elsewhere; the reason was not sent",
                        now,
                    );
                }
            }
            _ => {
                reason.editor.edit(key);
                panel.reason = Some(reason);
            }
        }
        self.overlay = Overlay::Permissions(panel);
        Vec::new()
    }

    fn submit(&mut self, now: Instant) -> Vec<Effect> {
        let text = self.editor.take();
        if text.trim().is_empty() {
            return Vec::new();
        }
        if text.starts_with('/') {
            return self.command(text.trim(), now);
        }
        self.scroll_to_end();
        let Some(id) = self.focused_id().cloned() else {
            if self.creating {
                self.toast(Level::Info, "the session is still being created", now);
                self.editor.set_text(&text);
                return Vec::new();
            }
            self.creating = true;
            return vec![Effect::CreateSession {
                agent: self.setup.agent.clone(),
                model: self.setup.model.clone(),
                first_message: Some(text),
            }];
        };
        match self.tabs.get(&id).and_then(|t| t.task.clone()) {
            Some(task) => vec![Effect::SendToTask(task, text)],
            None => vec![Effect::Send(id, text)],
        }
    }

    fn scroll_to_end(&mut self) {
        if let Some(tab) = self.focused_mut() {
            tab.scroll = 0;
        }
    }

    fn background(&mut self, now: Instant) -> Vec<Effect> {
        let call = self.focused().and_then(|tab| {
            tab.conversation
                .running_tools()
                .filter(|t| matches!(t.name.as_str(), "bash" | "task" | "task_wait"))
                .last()
                .map(|t| t.call_id.to_string())
        });
        match call {
            Some(call) => vec![Effect::Background(call)],
            None => {
                self.toast(
                    Level::Info,
                    "no foreground command or waiting task to move to the background",
                    now,
                );
                Vec::new()
            }
        }
    }

    fn escape(&mut self, now: Instant) -> Vec<Effect> {
        if self.editor.completion.take().is_some() {
            return Vec::new();
        }
        let Some(id) = self.focused_id().cloned() else {
            return Vec::new();
        };
        let busy = self.focused().is_some_and(|t| t.busy());
        let tasks = self
            .tasks
            .iter()
            .filter(|t| t.parent == id && t.running())
            .count();
        let shells = self
            .shells
            .iter()
            .filter(|s| s.session == id && s.running())
            .count();
        let background = tasks + shells;
        let what = tasks_and_shells(tasks, shells);
        if self
            .last_esc
            .is_some_and(|t| now.saturating_duration_since(t) < ESC_AGAIN)
        {
            self.last_esc = None;
            self.toast(
                Level::Info,
                format!("cancelled this session's background work ({what})"),
                now,
            );
            return vec![Effect::Cancel(id)];
        }
        self.last_esc = Some(now);
        let mut effects = Vec::new();
        if busy {
            effects.push(Effect::Interrupt(id));
        }
        if background > 0 {
            self.toast(
                Level::Info,
                format!(
                    "{}{what} {}: Esc again to cancel {}",
                    if busy { "interrupted; " } else { "" },
                    if background == 1 {
                        "keeps running"
                    } else {
                        "keep running"
                    },
                    if background == 1 { "it" } else { "them" },
                ),
                now,
            );
        }
        effects
    }

    fn ctrl_c(&mut self, now: Instant) -> Vec<Effect> {
        if !matches!(self.overlay, Overlay::None) {
            self.overlay = Overlay::None;
            return Vec::new();
        }
        if !self.editor.is_empty() {
            self.editor.clear();
            return Vec::new();
        }
        if self
            .last_ctrl_c
            .is_some_and(|t| now.saturating_duration_since(t) < CTRL_C_AGAIN)
        {
            self.last_ctrl_c = None;
            self.request_quit();
        } else {
            self.last_ctrl_c = Some(now);
            self.toast(Level::Info, "press Ctrl+C again to quit", now);
        }
        Vec::new()
    }

    /// Quits, or asks first while work runs.
    pub(super) fn request_quit(&mut self) {
        let (tasks, shells, busy) = (
            self.running_tasks(),
            self.running_shells(),
            self.busy_sessions(),
        );
        if tasks + shells + busy == 0 {
            self.quit = true;
        } else {
            self.overlay = Overlay::Confirm(Confirm::Quit {
                tasks,
                shells,
                busy,
            });
        }
    }

    fn overlay_key(&mut self, key: KeyEvent, now: Instant) -> Vec<Effect> {
        if matches!(
            self.overlay,
            Overlay::Permissions(PermissionPanel {
                reason: Some(_),
                ..
            })
        ) {
            return self.reason_key(key, now);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let down = match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(false),
            KeyCode::Down | KeyCode::Char('j') => Some(true),
            _ => None,
        };
        let close = matches!(key.code, KeyCode::Esc | KeyCode::Char('q'))
            || (ctrl && matches!(key.code, KeyCode::Char('t' | 'o' | 'p' | 's' | 'l')));
        let mut overlay = std::mem::take(&mut self.overlay);
        let mut keep = !close;
        let mut effects = Vec::new();
        match &mut overlay {
            Overlay::None => {}
            Overlay::Help => keep = false,
            Overlay::Timeline(sel) => {
                let rows = self.timeline_rows();
                let page = self.page();
                match key.code {
                    KeyCode::PageUp => sel.selected = sel.selected.saturating_sub(page),
                    KeyCode::PageDown => {
                        sel.selected = (sel.selected + page).min(rows.len().saturating_sub(1));
                    }
                    _ => {}
                }
                if let Some(down) = down {
                    sel.step(down, rows.len());
                }
                if key.code == KeyCode::Enter
                    && let Some(row) = rows.get(sel.selected)
                {
                    effects = self.focus_session(&row.session);
                    keep = false;
                }
            }
            Overlay::Tasks(sel) => {
                let rows = self.task_order();
                if let Some(down) = down {
                    sel.step(down, rows.len());
                }
                let chosen = rows
                    .get(sel.selected)
                    .and_then(|i| self.tasks.get(*i))
                    .cloned();
                match (key.code, chosen) {
                    (KeyCode::Enter, Some(task)) => {
                        effects = self.focus_session(&task.child);
                        keep = false;
                    }
                    (KeyCode::Char('x'), Some(task)) if task.running() => {
                        let children = self.tasks_under(&task.task_id);
                        if children > 0 {
                            overlay = Overlay::Confirm(Confirm::CancelTask {
                                task: task.task_id.clone(),
                                children,
                            });
                        } else {
                            effects.push(Effect::CancelTask(task.task_id.clone()));
                        }
                    }
                    _ => {}
                }
            }
            Overlay::Shells(sel) => {
                if let Some(down) = down {
                    sel.step(down, self.shells.len());
                }
                let chosen = self.shells.get(sel.selected).cloned();
                match (key.code, chosen) {
                    (KeyCode::Char('x'), Some(shell)) if shell.running() => {
                        effects.push(Effect::KillShell(shell.shell_id));
                    }
                    (KeyCode::Enter, Some(shell)) => {
                        effects.push(Effect::FetchShell(shell.shell_id));
                    }
                    _ => {}
                }
                if down.is_some()
                    && let Some(shell) = self.shells.get(sel.selected)
                {
                    effects.push(Effect::FetchShell(shell.shell_id.clone()));
                }
            }
            Overlay::Permissions(panel) => {
                if let Some(down) = down {
                    panel.request = self.step_request(panel.request.as_ref(), down);
                    panel.choice = Choice::default();
                }
                let chosen = panel
                    .request
                    .as_ref()
                    .and_then(|id| self.permissions.iter().find(|p| p.id == *id))
                    .cloned();
                match (key.code, chosen) {
                    (KeyCode::Left | KeyCode::BackTab, _) => {
                        panel.choice = panel.choice.step(false);
                    }
                    (KeyCode::Right | KeyCode::Tab, _) => panel.choice = panel.choice.step(true),
                    (KeyCode::Enter, Some(request)) => {
                        let answer = match panel.choice {
                            Choice::AllowOnce => PermissionAnswer::AllowOnce,
                            Choice::AllowAlways => PermissionAnswer::AllowAlways,
                            Choice::Deny => PermissionAnswer::Deny { reason: None },
                            Choice::DenyWithReason => {
                                panel.reason = Some(Box::new(Reason {
                                    request: request.id,
                                    editor: Editor::with_placeholder(
                                        "why? the agent reads this  (Enter deny · Esc back)",
                                    ),
                                }));
                                return self.keep_overlay(overlay);
                            }
                        };
                        effects.push(Effect::Answer(request.id, answer));
                        keep = false;
                    }
                    (KeyCode::Enter, None) if panel.request.is_some() => {
                        self.toast(
                            Level::Info,
                            "that request is no longer waiting (answered elsewhere); ↑↓ picks another",
                            now,
                        );
                    }
                    (KeyCode::Char('g'), Some(request)) if !ctrl => {
                        effects = self.focus_session(&request.session_id);
                        keep = false;
                    }
                    (KeyCode::Char(c), _) if !ctrl => {
                        if let Some(choice) = Choice::of_key(c) {
                            panel.choice = choice;
                        }
                    }
                    _ => {}
                }
            }
            Overlay::Picker(picker) => {
                let older = picker.older.as_ref().map_or(0, Vec::len);
                if let Some(down) = down {
                    picker.selection.step(down, self.order.len() + older);
                }
                if key.code == KeyCode::Enter {
                    keep = false;
                    let i = picker.selection.selected;
                    if i < self.order.len() {
                        effects = self.focus_tab(i);
                    } else if let Some(session) = picker
                        .older
                        .as_ref()
                        .and_then(|o| o.get(i - self.order.len()))
                    {
                        effects.push(self.load_tree(session.id.clone()));
                    }
                }
            }
            Overlay::Agents(list) => {
                let n = list.items.as_ref().map_or(0, Vec::len);
                if let Some(down) = down {
                    list.selection.step(down, n);
                }
                if key.code == KeyCode::Enter
                    && let Some(agent) = list
                        .items
                        .as_ref()
                        .and_then(|a| a.get(list.selection.selected))
                {
                    let name = agent.name.clone();
                    keep = false;
                    self.start_new(Some(name.clone()));
                    self.toast(
                        Level::Info,
                        format!("new session with {name}: type its first message"),
                        now,
                    );
                }
            }
            Overlay::Models(list) => {
                let n = list.items.as_ref().map_or(0, Vec::len);
                if let Some(down) = down {
                    list.selection.step(down, n);
                }
                if key.code == KeyCode::Enter
                    && let Some(model) = list
                        .items
                        .as_ref()
                        .and_then(|m| m.get(list.selection.selected))
                {
                    keep = false;
                    match self.focused_id().cloned() {
                        Some(id) => effects.push(Effect::SetModel(id, model.id.clone())),
                        None => {
                            self.setup.model = Some(model.id.clone());
                            self.toast(Level::Info, format!("new sessions use {}", model.id), now);
                        }
                    }
                }
            }
            Overlay::Confirm(confirm) => {
                keep = false;
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Enter) {
                    match confirm {
                        Confirm::CancelTask { task, .. } => {
                            effects.push(Effect::CancelTask(task.clone()));
                        }
                        Confirm::Quit { .. } => self.quit = true,
                        Confirm::CancelSession(id) => effects.push(Effect::Cancel(id.clone())),
                    }
                }
            }
        }
        if keep {
            self.keep_overlay(overlay);
        }
        effects
    }

    /// Puts back an overlay a key left open (unless the key opened
    /// another).
    fn keep_overlay(&mut self, overlay: Overlay) -> Vec<Effect> {
        if matches!(self.overlay, Overlay::None) {
            self.overlay = overlay;
        }
        Vec::new()
    }

    /// Task indexes in tree order: each task followed by its sub-tasks.
    pub fn task_order(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let roots: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| !self.tasks.iter().any(|t| t.child == self.tasks[i].parent))
            .collect();
        let mut stack: Vec<usize> = roots.into_iter().rev().collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            let child = &self.tasks[i].child;
            let kids: Vec<usize> = (0..self.tasks.len())
                .filter(|&k| self.tasks[k].parent == *child)
                .collect();
            stack.extend(kids.into_iter().rev());
        }
        out
    }

    /// Depth of a task in the tree (0: delegated by the root).
    pub fn task_depth(&self, index: usize) -> usize {
        let mut depth = 0;
        let mut parent = self.tasks.get(index).map(|t| t.parent.clone());
        while let Some(p) = parent {
            match self.tasks.iter().find(|t| t.child == p) {
                Some(t) => {
                    depth += 1;
                    parent = Some(t.parent.clone());
                }
                None => break,
            }
        }
        depth
    }

    /// Periodic requests: conversations to load again (a call's output
    /// was cut on the event stream), the live tail of the selected shell
    /// while the shells panel is open.
    pub fn periodic(&mut self) -> Vec<Effect> {
        // A call whose output the event stream cut: the stored
        // conversation has it whole (the live view then equals it).
        let mut effects: Vec<Effect> = self
            .tabs
            .iter_mut()
            .filter_map(|(id, tab)| {
                tab.conversation
                    .take_stale()
                    .then(|| Effect::LoadHistory(id.clone()))
            })
            .collect();
        effects.extend(self.panel_refresh());
        effects
    }

    fn panel_refresh(&self) -> Vec<Effect> {
        match &self.overlay {
            Overlay::Shells(sel) => self
                .shells
                .get(sel.selected)
                .filter(|s| s.running() || s.tail.is_none())
                .map(|s| vec![Effect::FetchShell(s.shell_id.clone())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}
