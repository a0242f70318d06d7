//! Panels over the conversation: tasks, shells, permissions, the session
//! picker, agents, models, help and confirmations.

use super::centered;
use super::status::tokens;
use super::tab_bar::{activity_mark, status_mark};
use crate::render::{theme, truncate_line, wrap_plain};
use crate::state::{
    Activity, App, COMMAND_HELP, Choice, Confirm, Overlay, PermissionPanel, Selection,
};
use crate::words::{plural, tasks_and_shells};
use baton_protocol::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The keys, as the help panel lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send (queued if the session is busy)"),
    ("Shift+Enter, Ctrl+J", "new line"),
    ("Up / Down", "message history"),
    ("@path  /command", "complete with Tab"),
    ("Alt+1..9", "go to tab"),
    ("Ctrl+PgUp / Ctrl+PgDn", "previous / next tab"),
    ("Ctrl+S", "sessions: tabs and older sessions"),
    ("Ctrl+T", "tasks panel (Enter open, x cancel)"),
    ("Ctrl+O", "shells panel (x kill)"),
    ("Ctrl+L", "timeline: sessions, tasks and shells over time"),
    (
        "Ctrl+P",
        "answer permission requests (←→ choose, Enter answer)",
    ),
    (
        "Ctrl+B",
        "move the running command or wait to the background",
    ),
    (
        "Esc",
        "interrupt (queued messages back to the editor); twice: cancel tasks too",
    ),
    ("Ctrl+↑ / Ctrl+↓", "select a tool call, notice or reasoning"),
    (
        "Ctrl+E, click",
        "show the selected entry in full (none selected: all)",
    ),
    ("Click a tab", "go to that tab"),
    (
        "F2",
        "mouse off/on (off: select and copy with the terminal)",
    ),
    ("PgUp / PgDn, wheel", "scroll; Ctrl+End to the bottom"),
    ("Ctrl+C twice", "quit"),
];

/// A bordered panel with a title and a footer of keys.
pub(super) fn panel(
    frame: &mut Frame,
    rect: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    footer: &str,
) {
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(Color::Cyan))
                .title(Span::styled(
                    format!(" {title} "),
                    Style::new().add_modifier(Modifier::BOLD),
                ))
                .title_bottom(Span::styled(format!(" {footer} "), theme::DIM)),
        ),
        rect,
    );
}

fn highlight(line: Line<'static>, on: bool) -> Line<'static> {
    if on {
        line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
    } else {
        line
    }
}

/// Keeps the selected row in view: the rows to show.
pub(super) fn window(len: usize, sel: Selection, rows: usize) -> std::ops::Range<usize> {
    let start = sel.selected.saturating_sub(rows.saturating_sub(1));
    start..len.min(start + rows)
}

/// Draws whatever is open.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, now: Timestamp) {
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help(frame, body),
        Overlay::Timeline(sel) => super::timeline::draw(frame, body, app, *sel, now),
        Overlay::Tasks(sel) => tasks(frame, body, app, *sel, now),
        Overlay::Shells(sel) => shells(frame, body, app, *sel),
        Overlay::Permissions(panel) => permissions(frame, body, app, panel),
        Overlay::Picker(picker) => {
            let rect = centered(body, 72, 16);
            let inner = rect.width.saturating_sub(2);
            let mut rows: Vec<Line<'static>> = app
                .order
                .iter()
                .enumerate()
                .filter_map(|(i, id)| {
                    let tab = app.tabs.get(id)?;
                    let (mark, color) = status_mark(tab.view.status, app.frame);
                    let indent = if tab.view.parent_id.is_some() {
                        "  └ "
                    } else {
                        ""
                    };
                    Some(truncate_line(
                        Line::from(vec![
                            Span::raw(format!(" {} {indent}", i + 1)),
                            Span::styled(format!("{mark} "), Style::new().fg(color)),
                            Span::styled(
                                format!("{} ", tab.view.agent),
                                Style::new().add_modifier(Modifier::BOLD),
                            ),
                            Span::raw(tab.title().to_owned()),
                        ]),
                        inner,
                    ))
                })
                .collect();
            match &picker.older {
                None => rows.push(Line::styled(" loading older sessions…", theme::DIM)),
                Some(older) if older.is_empty() => {
                    rows.push(Line::styled(" no older sessions here", theme::DIM));
                }
                Some(older) => {
                    rows.push(Line::styled(
                        " older sessions in this directory",
                        theme::DIM,
                    ));
                    for s in older {
                        let (mark, color) = status_mark(s.status, app.frame);
                        rows.push(truncate_line(
                            Line::from(vec![
                                Span::raw("   "),
                                Span::styled(format!("{mark} "), Style::new().fg(color)),
                                Span::styled(
                                    s.updated_at.format("%m-%d %H:%M ").to_string(),
                                    theme::DIM,
                                ),
                                Span::styled(
                                    format!("{} ", s.agent),
                                    Style::new().add_modifier(Modifier::BOLD),
                                ),
                                Span::raw(if s.title.is_empty() {
                                    "(untitled)".to_owned()
                                } else {
                                    s.title.clone()
                                }),
                            ]),
                            inner,
                        ));
                    }
                }
            }
            // Highlight: row index maps past the "older sessions" heading.
            let sel = picker.selection.selected;
            let row = if sel < app.order.len() { sel } else { sel + 1 };
            let lines = rows
                .into_iter()
                .enumerate()
                .map(|(i, l)| highlight(l, i == row))
                .collect::<Vec<_>>();
            let visible = window(
                lines.len(),
                Selection { selected: row },
                usize::from(rect.height.saturating_sub(2)),
            );
            panel(
                frame,
                rect,
                "sessions",
                lines[visible].to_vec(),
                "Enter open · Esc close",
            );
        }
        Overlay::Agents(list) => {
            let rect = centered(body, 72, 14);
            let lines = match &list.items {
                None => vec![Line::styled(" loading…", theme::DIM)],
                Some(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        highlight(
                            truncate_line(
                                Line::from(vec![
                                    Span::styled(
                                        format!(" {:<10} ", a.name),
                                        Style::new().add_modifier(Modifier::BOLD),
                                    ),
                                    Span::styled(format!("{:<9}", a.mode), theme::DIM),
                                    Span::raw(a.description.clone()),
                                ]),
                                rect.width.saturating_sub(2),
                            ),
                            i == list.selection.selected,
                        )
                    })
                    .collect(),
            };
            panel(
                frame,
                rect,
                "agents",
                lines,
                "Enter: new session with it · Esc close",
            );
        }
        Overlay::Models(list) => {
            let rect = centered(body, 64, 14);
            let current = app.focused().map(|t| t.view.model.clone());
            let lines = match &list.items {
                None => vec![Line::styled(" loading…", theme::DIM)],
                Some(items) if items.is_empty() => {
                    vec![Line::styled(" no models configured", theme::DIM)]
                }
                Some(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let mark = if Some(&m.id) == current.as_ref() {
                            "● "
                        } else {
                            "  "
                        };
                        let mut spans = vec![Span::raw(format!(" {mark}{}", m.id))];
                        if !m.aliases.is_empty() {
                            spans.push(Span::styled(
                                format!("  ({})", m.aliases.join(", ")),
                                theme::DIM,
                            ));
                        }
                        if m.is_default {
                            spans.push(Span::styled("  default", theme::DIM));
                        }
                        highlight(
                            truncate_line(Line::from(spans), rect.width.saturating_sub(2)),
                            i == list.selection.selected,
                        )
                    })
                    .collect(),
            };
            panel(
                frame,
                rect,
                "model of this session",
                lines,
                "Enter switch · Esc close",
            );
        }
        Overlay::Confirm(confirm) => {
            let text = match confirm {
                Confirm::CancelTask { children, .. } => format!(
                    "This task has {} of its own. Cancel it and {}?",
                    plural(*children, "running task", "running tasks"),
                    if *children == 1 {
                        "that one"
                    } else {
                        "all of them"
                    }
                ),
                Confirm::Quit {
                    tasks,
                    shells,
                    busy,
                } => {
                    let work = work_sentence(*busy, *tasks, *shells);
                    if app.setup.remote {
                        format!("{work} This work goes on in the server. Quit?")
                    } else {
                        format!("{work} Quitting cancels it. Quit?")
                    }
                }
                Confirm::CancelSession(_) => {
                    "Cancel this session's turn, tasks and shells?".to_owned()
                }
            };
            let rect = centered(body, 56, 6);
            let lines = wrap_plain(&text, rect.width.saturating_sub(2), Style::new());
            panel(frame, rect, "confirm", lines, "y yes · n no");
        }
    }
}

/// What runs, as the quit confirmation says it: "1 session working, 2
/// tasks and 1 shell running." (only the parts that are not zero).
fn work_sentence(busy: usize, tasks: usize, shells: usize) -> String {
    let mut parts = Vec::new();
    if busy > 0 {
        parts.push(format!("{} working", plural(busy, "session", "sessions")));
    }
    if tasks + shells > 0 {
        parts.push(format!("{} running", tasks_and_shells(tasks, shells)));
    }
    if parts.is_empty() {
        "Nothing is running.".to_owned()
    } else {
        let mut sentence = parts.join(", ");
        if let Some(first) = sentence.get(..1) {
            sentence = format!("{}{}", first.to_uppercase(), &sentence[1..]);
        }
        format!("{sentence}.")
    }
}

fn help(frame: &mut Frame, body: Rect) {
    let rect = centered(body, 76, 30);
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!(" {k:<22}"), Style::new().fg(Color::Cyan)),
                Span::raw((*v).to_owned()),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.extend(COMMAND_HELP.iter().map(|(k, v)| {
        Line::from(vec![
            Span::styled(format!(" {k:<22}"), Style::new().fg(Color::Yellow)),
            Span::raw((*v).to_owned()),
        ])
    }));
    let inner = rect.width.saturating_sub(2);
    let lines = lines.into_iter().map(|l| truncate_line(l, inner)).collect();
    panel(frame, rect, "keys", lines, "any key closes");
}

/// An activity in the tasks panel's status column (11 columns).
fn short_words(activity: Activity) -> &'static str {
    match activity {
        Activity::Shell => "shell",
        Activity::Tasks => "its tasks",
        Activity::Asking => "asking",
        other => other.words(),
    }
}

fn tasks(frame: &mut Frame, body: Rect, app: &App, sel: Selection, now: Timestamp) {
    let rect = centered(body, body.width, body.height);
    let inner = rect.width.saturating_sub(2);
    let order = app.task_order();
    let mut lines = vec![Line::styled(
        format!(
            " {:<28} {:<16} {:<11} {:>6} {:>7} {:>6}  activity",
            "task", "model", "status", "time", "tokens", "cost"
        ),
        theme::DIM,
    )];
    if order.is_empty() {
        lines.push(Line::styled(" no tasks yet", theme::DIM));
    }
    let rows = usize::from(rect.height.saturating_sub(3));
    for (pos, &i) in order
        .iter()
        .enumerate()
        .skip(window(order.len(), sel, rows).start)
        .take(rows)
    {
        let task = &app.tasks[i];
        let depth = app.task_depth(i);
        let activity = app.activity_of(&task.child);
        let (mark, color) = activity_mark(activity, app.frame);
        let usage = app.subtree_usage(&task.child);
        let name = format!("{}{} {}", "  ".repeat(depth), task.agent, task.description);
        let name: String = name.chars().take(26).collect();
        let model: String = task.model.chars().take(16).collect();
        let line = Line::from(vec![
            Span::styled(format!(" {mark} "), Style::new().fg(color)),
            Span::raw(format!("{name:<26} ")),
            Span::styled(format!("{model:<16} "), theme::DIM),
            Span::styled(
                format!("{:<11} ", short_words(activity)),
                Style::new().fg(color),
            ),
            Span::raw(format!("{:>5.0}s ", task.elapsed_s(now))),
            Span::raw(format!("{:>7} ", tokens(usage.total_tokens()))),
            Span::raw(format!("${:>5.2}  ", usage.cost_usd)),
            Span::styled(app.activity(&task.child), theme::DIM),
        ]);
        lines.push(highlight(truncate_line(line, inner), pos == sel.selected));
    }
    panel(
        frame,
        rect,
        "tasks",
        lines,
        "Enter open tab · x cancel · Esc close",
    );
}

fn shells(frame: &mut Frame, body: Rect, app: &App, sel: Selection) {
    let rect = centered(body, body.width, body.height);
    let inner = rect.width.saturating_sub(2);
    let list_rows = app.shells.len().clamp(1, 6);
    let mut lines = Vec::new();
    if app.shells.is_empty() {
        lines.push(Line::styled(" no background shells", theme::DIM));
    }
    for i in window(app.shells.len(), sel, list_rows) {
        let shell = &app.shells[i];
        let color = if shell.running() {
            Color::Cyan
        } else {
            Color::DarkGray
        };
        let line = Line::from(vec![
            Span::styled(
                format!(" {:<9} ", shell.state_label()),
                Style::new().fg(color),
            ),
            Span::styled(format!("{} ", shell.shell_id), theme::DIM),
            Span::raw(shell.command.lines().next().unwrap_or_default().to_owned()),
        ]);
        lines.push(highlight(truncate_line(line, inner), i == sel.selected));
    }
    if let Some(shell) = app.shells.get(sel.selected) {
        lines.push(Line::styled("─".repeat(usize::from(inner)), theme::DIM));
        let room = usize::from(rect.height.saturating_sub(3)).saturating_sub(lines.len());
        let tail = match &shell.tail {
            None => vec![Line::styled(" loading output…", theme::DIM)],
            Some(out) => {
                let all: Vec<Line<'static>> = out
                    .lines()
                    .map(|l| truncate_line(Line::raw(l.to_owned()), inner))
                    .collect();
                let skip = all.len().saturating_sub(room);
                all.into_iter().skip(skip).collect()
            }
        };
        lines.extend(tail);
    }
    panel(
        frame,
        rect,
        "shells",
        lines,
        "x kill · Esc close · output follows live",
    );
}

fn permissions(frame: &mut Frame, body: Rect, app: &App, open: &PermissionPanel) {
    let rect = centered(body, body.width.min(90), body.height);
    let inner = rect.width.saturating_sub(2);
    let chosen = open
        .request
        .as_ref()
        .and_then(|id| app.permissions.iter().position(|p| p.id == *id));
    // What the bottom of the panel needs: the choices, or the reason.
    let reason_rows = open
        .reason
        .as_ref()
        .map_or(0, |r| r.editor.line_count().clamp(1, 4) as u16);
    let answer_rows = 2 + reason_rows.max(1);
    let list_rows = usize::from(rect.height.saturating_sub(2 + answer_rows));
    let mut lines = Vec::new();
    if app.permissions.is_empty() {
        lines.push(Line::styled(
            " nothing is waiting for an answer",
            theme::DIM,
        ));
    }
    // The highlighted request's lines, kept in view.
    let mut shown = 0..0;
    for (i, p) in app.permissions.iter().enumerate() {
        let first = lines.len();
        let title = app
            .tabs
            .get(&p.session_id)
            .map(|t| t.title().to_owned())
            .unwrap_or_default();
        let on = chosen == Some(i);
        let head = Line::from(vec![
            Span::raw(if on { "▸" } else { " " }),
            Span::styled(
                format!(" {} ", p.agent),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("({title}) "), theme::DIM),
            Span::styled(p.tool.clone(), Style::new().fg(Color::Yellow)),
        ]);
        lines.push(highlight(truncate_line(head, inner), on));
        for l in wrap_plain(&p.detail, inner.saturating_sub(3), Style::new())
            .into_iter()
            .take(3)
        {
            let mut l = l;
            l.spans.insert(0, Span::raw("   "));
            lines.push(l);
        }
        lines.push(truncate_line(
            Line::styled(format!("   allow always: {}", p.pattern), theme::DIM),
            inner,
        ));
        if on {
            shown = first..lines.len();
        }
    }
    let skip = shown.end.saturating_sub(list_rows).min(shown.start);
    let mut lines: Vec<Line<'static>> = lines.into_iter().skip(skip).take(list_rows).collect();
    let filler = list_rows.saturating_sub(lines.len());
    lines.extend(std::iter::repeat_n(Line::default(), filler));
    lines.push(Line::styled("─".repeat(usize::from(inner)), theme::DIM));
    let request = chosen.and_then(|i| app.permissions.get(i));
    let footer = match (&open.reason, request) {
        (Some(_), _) => "Enter deny with this reason · Shift+Enter/Ctrl+J new line · Esc back",
        (None, Some(_)) => {
            "←→ or y/a/n/r choose · Enter answer · ↑↓ request · g go to tab · Esc close"
        }
        (None, None) => "↑↓ request · Esc close",
    };
    match (request, &open.reason) {
        (None, _) if open.request.is_some() => lines.push(Line::styled(
            " answered elsewhere: ↑↓ picks another request",
            theme::DIM,
        )),
        (None, _) => {}
        (Some(p), Some(_)) => lines.push(truncate_line(
            Line::styled(
                format!(" deny {}'s {}, and tell the agent why:", p.agent, p.tool),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            inner,
        )),
        (Some(p), None) => {
            lines.push(truncate_line(
                Line::styled(format!(" answer {}'s {}:", p.agent, p.tool), theme::DIM),
                inner,
            ));
            lines.push(choices(open.choice, inner));
        }
    }
    panel(frame, rect, "permission requests", lines, footer);
    if let (Some(reason), Some(_)) = (&open.reason, request) {
        let area = Rect::new(
            rect.x + 2,
            rect.bottom().saturating_sub(1 + reason_rows),
            rect.width.saturating_sub(4),
            reason_rows,
        )
        .intersection(Rect::new(
            rect.x + 1,
            rect.y + 1,
            inner,
            rect.height.saturating_sub(2),
        ));
        frame.render_widget(reason.editor.area(), area);
    }
}

/// The row of answers, the highlighted one reversed.
fn choices(chosen: Choice, width: u16) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for choice in Choice::ALL {
        let color = match choice {
            Choice::AllowOnce | Choice::AllowAlways => Color::Green,
            Choice::Deny | Choice::DenyWithReason => Color::Red,
        };
        let mut style = Style::new().fg(color);
        if choice == chosen {
            style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        spans.push(Span::styled(
            format!(" {} {} ", choice.key(), choice.label()),
            style,
        ));
        spans.push(Span::raw(" "));
    }
    truncate_line(Line::from(spans), width)
}
