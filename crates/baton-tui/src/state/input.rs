//! The message editor: multi-line text, history, long pastes collapsed to
//! a placeholder, and the token under the cursor for `@` path and `/`
//! command completion.

use super::paste::{self, Paste};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};
use std::path::Path;
use unicode_segmentation::UnicodeSegmentation;

/// At most this many completion candidates are offered.
const MAX_CANDIDATES: usize = 8;

/// What the token before the cursor can complete to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The token being completed, as typed (with its `@` or `/`).
    pub token: String,
    /// Candidates, each a full replacement for the token.
    pub candidates: Vec<String>,
    /// The highlighted candidate.
    pub selected: usize,
}

/// A message as the editor holds it: the text shown, and the pastes its
/// placeholders stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Draft {
    text: String,
    pastes: Vec<Paste>,
}

/// The editor.
#[derive(Debug, Clone)]
pub struct Editor {
    area: TextArea<'static>,
    /// Collapsed pastes of the text being edited (kept until the text is
    /// taken or replaced, so an undo brings a placeholder back whole).
    pastes: Vec<Paste>,
    history: Vec<Draft>,
    /// Position in `history` while browsing it (`None`: editing a draft).
    browsing: Option<usize>,
    /// The draft put aside while browsing.
    draft: Draft,
    /// Offered completions for the token under the cursor.
    pub completion: Option<Completion>,
}

impl Default for Editor {
    fn default() -> Self {
        Self::with_placeholder("Message  (Enter send · Shift+Enter/Ctrl+J new line · ? keys)")
    }
}

impl Editor {
    /// An empty editor that shows `placeholder` while nothing is typed.
    pub fn with_placeholder(placeholder: &str) -> Self {
        let mut area = TextArea::default();
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        area.set_cursor_line_style(ratatui::style::Style::default());
        area.set_placeholder_text(placeholder);
        Self {
            area,
            pastes: Vec::new(),
            history: Vec::new(),
            browsing: None,
            draft: Draft::default(),
            completion: None,
        }
    }

    /// The text area, for drawing.
    pub fn area(&self) -> &TextArea<'static> {
        &self.area
    }

    /// The whole text as shown (a collapsed paste as its placeholder).
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// The whole text as it is sent: each paste's placeholder replaced by
    /// what was pasted.
    pub fn message(&self) -> String {
        paste::expand(&self.text(), &self.pastes)
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.area.lines().iter().all(|l| l.is_empty())
    }

    /// Number of lines typed.
    pub fn line_count(&self) -> usize {
        self.area.lines().len()
    }

    /// Replaces the text, with the cursor at its end.
    pub fn set_text(&mut self, text: &str) {
        let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let placeholder = self.area.placeholder_text().to_owned();
        let mut area = TextArea::new(lines);
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        area.set_cursor_line_style(ratatui::style::Style::default());
        area.set_placeholder_text(placeholder);
        area.move_cursor(CursorMove::Bottom);
        area.move_cursor(CursorMove::End);
        self.area = area;
        self.pastes.clear();
        self.completion = None;
    }

    /// Puts a message back as it was held, pastes collapsed.
    fn restore(&mut self, draft: Draft) {
        self.set_text(&draft.text);
        self.pastes = draft.pastes;
    }

    /// The text and the pastes its placeholders still stand for.
    fn draft(&self) -> Draft {
        let text = self.text();
        let pastes = self
            .pastes
            .iter()
            .filter(|p| text.contains(p.token.as_str()))
            .cloned()
            .collect();
        Draft { text, pastes }
    }

    /// Takes the message out (clearing the editor), its pastes expanded,
    /// and remembers it in the history (pastes still collapsed).
    pub fn take(&mut self) -> String {
        let message = self.message();
        let draft = self.draft();
        if !message.trim().is_empty() && self.history.last() != Some(&draft) {
            self.history.push(draft);
        }
        self.browsing = None;
        self.draft = Draft::default();
        self.set_text("");
        message
    }

    /// Clears the text without remembering it.
    pub fn clear(&mut self) {
        self.browsing = None;
        self.set_text("");
    }

    /// Starts a new line at the cursor.
    pub fn newline(&mut self) {
        self.area.insert_newline();
    }

    /// Inserts text at the cursor, as it is.
    pub fn insert(&mut self, text: &str) {
        let clean = text.replace("\r\n", "\n").replace('\r', "\n");
        self.area.insert_str(clean);
    }

    /// Inserts a paste at the cursor: a long one (more than
    /// [`paste::COLLAPSE_LINES`] lines or [`paste::COLLAPSE_CHARS`]
    /// characters) as a placeholder such as `[pasted 120 lines]`, which
    /// [`Editor::message`] and [`Editor::take`] expand.
    pub fn paste(&mut self, text: &str) {
        let clean = text.replace("\r\n", "\n").replace('\r', "\n");
        if !paste::is_long(&clean) {
            self.area.insert_str(clean);
            return;
        }
        let token = paste::token_for(&clean, &self.pastes, &self.text());
        self.area.insert_str(&token);
        self.pastes.push(Paste { token, text: clean });
    }

    /// Removes a whole placeholder next to the cursor: before it for
    /// Backspace, after it for Delete. Returns whether there was one.
    fn delete_placeholder(&mut self, backward: bool) -> bool {
        let cursor = self.area.cursor();
        let (row, col) = (cursor.0, cursor.1);
        let Some(line) = self.area.lines().get(row) else {
            return false;
        };
        let (before, after): (String, String) = (
            line.chars().take(col).collect(),
            line.chars().skip(col).collect(),
        );
        let Some(token) = self.pastes.iter().map(|p| p.token.as_str()).find(|t| {
            if backward {
                before.ends_with(t)
            } else {
                after.starts_with(t)
            }
        }) else {
            return false;
        };
        let n = token.chars().count();
        if backward {
            for _ in 0..n {
                self.area.move_cursor(CursorMove::Back);
            }
        }
        self.area.delete_str(n)
    }

    /// Hands an editing key to the text area. Returns whether the text
    /// changed.
    pub fn edit(&mut self, key: crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        let (ctrl, alt) = (
            key.modifiers.contains(KeyModifiers::CONTROL),
            key.modifiers.contains(KeyModifiers::ALT),
        );
        let delete = !alt
            && match key.code {
                KeyCode::Delete => !ctrl,
                KeyCode::Char('d') => ctrl,
                _ => false,
            };
        let backspace = !ctrl && !alt && key.code == KeyCode::Backspace;
        if (delete || backspace)
            && !self.area.is_selecting()
            && !self.pastes.is_empty()
            && self.delete_placeholder(backspace)
        {
            return true;
        }
        if delete && !self.area.is_selecting() {
            return self.delete_next();
        }
        self.area.input(key)
    }

    /// Deletes what follows the cursor: the next character as it shows (a
    /// letter with its marks, an emoji with its selector), or the line
    /// break at the end of a line. (The text area steps over characters
    /// that take no column, so its own Delete could remove only the mark,
    /// or nothing.)
    fn delete_next(&mut self) -> bool {
        let cursor = self.area.cursor();
        let (row, col) = (cursor.0, cursor.1);
        let lines = self.area.lines();
        let Some(line) = lines.get(row) else {
            return false;
        };
        let rest: String = line.chars().skip(col).collect();
        let chars = match rest.graphemes(true).next() {
            Some(next) => next.chars().count(),
            None if row + 1 < lines.len() => 1,
            None => return false,
        };
        self.area.delete_str(chars)
    }

    /// Whether the cursor is on the first line (Up browses history).
    pub fn on_first_line(&self) -> bool {
        self.area.cursor().0 == 0
    }

    /// Whether the cursor is on the last line (Down browses history).
    pub fn on_last_line(&self) -> bool {
        self.area.cursor().0 + 1 >= self.area.lines().len()
    }

    /// Moves the cursor up a line.
    pub fn cursor_up(&mut self) {
        self.area.move_cursor(CursorMove::Up);
    }

    /// Moves the cursor down a line.
    pub fn cursor_down(&mut self) {
        self.area.move_cursor(CursorMove::Down);
    }

    /// Shows the previous message from the history.
    pub fn history_back(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let next = match self.browsing {
            None => {
                self.draft = self.draft();
                self.history.len() - 1
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        let draft = self.history[next].clone();
        self.restore(draft);
    }

    /// Shows the next message from the history, then the draft.
    pub fn history_forward(&mut self) {
        let Some(i) = self.browsing else { return };
        if i + 1 < self.history.len() {
            self.browsing = Some(i + 1);
            let draft = self.history[i + 1].clone();
            self.restore(draft);
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.restore(draft);
        }
    }

    /// The token before the cursor on its line (after the last space).
    pub fn token(&self) -> String {
        let (row, col) = (self.area.cursor().0, self.area.cursor().1);
        let Some(line) = self.area.lines().get(row) else {
            return String::new();
        };
        let before: String = line.chars().take(col).collect();
        before
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Replaces the token before the cursor.
    pub fn replace_token(&mut self, with: &str) {
        let token = self.token();
        for _ in 0..token.chars().count() {
            self.area.delete_char();
        }
        self.area.insert_str(with);
        self.completion = None;
    }

    /// Works out what the token under the cursor completes to: a file
    /// path under `root` after `@`, or a command for a leading `/`.
    pub fn update_completion(&mut self, root: &Path, commands: &[&str]) {
        let token = self.token();
        let candidates = if let Some(partial) = token.strip_prefix('@') {
            path_candidates(root, partial)
                .into_iter()
                .map(|p| format!("@{p}"))
                .collect()
        } else if token.starts_with('/') && self.text().trim_start() == token {
            commands
                .iter()
                .filter(|c| c.starts_with(token.as_str()) && **c != token)
                .map(|c| (*c).to_owned())
                .collect()
        } else {
            Vec::new()
        };
        self.completion = if candidates.is_empty() {
            None
        } else {
            let selected = match &self.completion {
                Some(c) if c.token == token => c.selected.min(candidates.len() - 1),
                _ => 0,
            };
            Some(Completion {
                token,
                candidates,
                selected,
            })
        };
    }

    /// Moves the highlighted completion.
    pub fn select_completion(&mut self, down: bool) {
        if let Some(c) = &mut self.completion {
            let n = c.candidates.len();
            c.selected = if down {
                (c.selected + 1) % n
            } else {
                (c.selected + n - 1) % n
            };
        }
    }

    /// Puts the highlighted completion in place of the token. Returns
    /// whether there was one.
    pub fn accept_completion(&mut self) -> bool {
        let Some(c) = self.completion.take() else {
            return false;
        };
        let Some(choice) = c.candidates.get(c.selected) else {
            return false;
        };
        let choice = choice.clone();
        self.replace_token(&choice);
        true
    }
}

/// Paths under `root` that start with `partial` (relative, `/` after
/// directories), directories first, at most [`MAX_CANDIDATES`].
fn path_candidates(root: &Path, partial: &str) -> Vec<String> {
    let (dir, stem) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    if dir.starts_with('/') || dir.split('/').any(|c| c == "..") {
        return Vec::new();
    }
    let Ok(read) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hidden = name.starts_with('.') && !stem.starts_with('.');
            if hidden || !name.starts_with(stem) || name == ".git" {
                return None;
            }
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let path = format!("{dir}{name}{}", if is_dir { "/" } else { "" });
            Some((!is_dir, path))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(_, p)| p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn typed(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            editor.edit(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn delete_takes_the_next_character_as_it_shows() {
        let mut e = Editor::default();
        e.insert("a\u{301}b❤\u{fe0f}c\nd");
        e.area.move_cursor(CursorMove::Top);
        e.area.move_cursor(CursorMove::Head);
        let delete = KeyEvent::new(KeyCode::Delete, KeyModifiers::NONE);
        assert!(e.edit(delete));
        assert_eq!(e.text(), "b❤\u{fe0f}c\nd", "the letter with its mark");
        e.edit(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
        assert!(e.edit(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)));
        assert_eq!(e.text(), "bc\nd", "the emoji with its selector");
        e.area.move_cursor(CursorMove::End);
        assert!(e.edit(delete));
        assert_eq!(e.text(), "bcd", "the line break");
        e.area.move_cursor(CursorMove::End);
        assert!(!e.edit(delete), "nothing after the end");
    }

    #[test]
    fn newlines_and_take() {
        let mut e = Editor::default();
        typed(&mut e, "one");
        e.newline();
        typed(&mut e, "two");
        assert_eq!(e.line_count(), 2);
        assert_eq!(e.take(), "one\ntwo");
        assert!(e.is_empty());
    }

    #[test]
    fn history_browses_back_and_returns_to_the_draft() {
        let mut e = Editor::default();
        typed(&mut e, "first");
        e.take();
        typed(&mut e, "second");
        e.take();
        typed(&mut e, "draft");
        e.history_back();
        assert_eq!(e.text(), "second");
        e.history_back();
        assert_eq!(e.text(), "first");
        e.history_back();
        assert_eq!(e.text(), "first");
        e.history_forward();
        assert_eq!(e.text(), "second");
        e.history_forward();
        assert_eq!(e.text(), "draft");
    }

    #[test]
    fn at_completes_paths_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "").unwrap();
        std::fs::write(dir.path().join("README.md"), "").unwrap();
        let mut e = Editor::default();
        typed(&mut e, "look at @s");
        e.update_completion(dir.path(), &[]);
        assert_eq!(e.completion.as_ref().unwrap().candidates, ["@src/"]);
        assert!(e.accept_completion());
        e.update_completion(dir.path(), &[]);
        assert_eq!(e.completion.as_ref().unwrap().candidates, ["@src/main.rs"]);
        e.accept_completion();
        assert_eq!(e.text(), "look at @src/main.rs");
        typed(&mut e, " @../");
        e.update_completion(dir.path(), &[]);
        assert!(e.completion.is_none(), "nothing outside the root");
    }

    #[test]
    fn a_long_paste_shows_as_a_placeholder_and_is_sent_whole() {
        let pasted: String = (1..=120).map(|i| format!("line {i}\r\n")).collect();
        let mut e = Editor::default();
        typed(&mut e, "look: ");
        e.paste(&pasted);
        typed(&mut e, " please");
        assert_eq!(e.text(), "look: [pasted 120 lines] please");
        assert_eq!(e.line_count(), 1);
        let sent = e.take();
        assert_eq!(
            sent,
            format!("look: {} please", pasted.replace("\r\n", "\n"))
        );
        // The history keeps it collapsed, and it is sent whole again.
        e.history_back();
        assert_eq!(e.text(), "look: [pasted 120 lines] please");
        assert_eq!(e.message(), sent);
    }

    #[test]
    fn several_pastes_each_expand_in_place() {
        let a: String = (0..11).map(|i| format!("a{i}\n")).collect();
        let b = "b".repeat(1200);
        let mut e = Editor::default();
        e.paste(&a);
        typed(&mut e, " and ");
        e.paste(&b);
        typed(&mut e, " and ");
        e.paste(&a);
        e.paste("short");
        assert_eq!(
            e.text(),
            "[pasted 11 lines] and [pasted 1200 chars] and [pasted 11 lines #2]short"
        );
        assert_eq!(e.take(), format!("{a} and {b} and {a}short"));
    }

    #[test]
    fn a_placeholder_is_deleted_as_a_unit() {
        let long: String = (0..20).map(|i| format!("{i}\n")).collect();
        let mut e = Editor::default();
        typed(&mut e, "x");
        e.paste(&long);
        let backspace = KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE);
        assert!(e.edit(backspace));
        assert_eq!(e.text(), "x");
        assert_eq!(e.message(), "x");
        e.paste(&long);
        typed(&mut e, "y");
        e.area.move_cursor(CursorMove::Head);
        e.edit(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
        assert!(e.edit(KeyEvent::new(KeyCode::Delete, KeyModifiers::NONE)));
        assert_eq!(e.text(), "xy");
        // Backspace elsewhere takes one character, as always.
        e.area.move_cursor(CursorMove::End);
        assert!(e.edit(backspace));
        assert_eq!(e.take(), "x");
    }

    #[test]
    fn slash_completes_commands_only_at_the_start() {
        let mut e = Editor::default();
        typed(&mut e, "/mo");
        e.update_completion(Path::new("."), &["/model", "/new"]);
        assert_eq!(e.completion.as_ref().unwrap().candidates, ["/model"]);
        e.clear();
        typed(&mut e, "see /mo");
        e.update_completion(Path::new("."), &["/model"]);
        assert!(e.completion.is_none());
    }
}
