//! Markdown to wrapped, styled lines.
//!
//! Model replies are Markdown, and they are rendered while they still
//! arrive: a fence may be open, a list half written. pulldown-cmark closes
//! whatever is open at the end of the text, so an incomplete message renders
//! as the complete message it is so far, and the next delta simply renders
//! again.
//!
//! Block structure becomes prefixes: a list item contributes its marker to
//! its first line and an indent of the same width to the others (a hanging
//! indent), a block quote contributes a `│ ` gutter to all of them. Every
//! block is wrapped with the prefixes of the containers it sits in.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::highlight::highlight_code;
use super::theme;
use super::wrap::{hard_wrap_prefixed, wrap_line, wrap_line_prefixed};

/// Bullets of unordered lists, by nesting depth (cycling).
const BULLETS: [&str; 2] = ["•", "◦"];

/// The gutter of block quotes.
const QUOTE_GUTTER: &str = "│ ";

/// The indent of code block lines within their container.
const CODE_INDENT: &str = "  ";

/// In front of the continuation of a code line too long for the width.
const CODE_CONTINUATION: &str = "↳ ";

/// Between table cells.
const CELL_SEPARATOR: &str = " │ ";

/// Renders Markdown into lines at most `width` columns wide.
///
/// Headings are bold and coloured (level 1 underlined too), blocks are
/// separated by one blank line, lists get `•`/`1.` markers with hanging
/// indents, block quotes a `│ ` gutter, fenced code is syntax highlighted
/// and cut (not word-wrapped) to fit, links show their URL after the text
/// when it differs, and tables are drawn with ` │ ` between cells. Tables,
/// strikethrough and task lists are enabled. Incomplete Markdown (an
/// unclosed fence, half a list) renders as far as it goes. Trailing blank
/// lines are dropped; empty input gives no lines.
pub fn render_markdown(text: &str, width: u16) -> Vec<Line<'static>> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut renderer = Renderer::new(width);
    for event in Parser::new_ext(text, options) {
        renderer.event(event);
    }
    renderer.finish()
}

/// A block that holds other blocks and adds a prefix to their lines.
enum Container {
    /// `> quote`.
    Quote,
    /// A list; `next` is the number of the next item when ordered.
    List { next: Option<u64> },
    /// A list item: its marker, shown on its first line, and the width of
    /// the indent shown on the others.
    Item {
        marker: Vec<Span<'static>>,
        indent: usize,
        marker_shown: bool,
    },
}

/// A fenced or indented code block being collected.
struct CodeBlock {
    lang: String,
    text: String,
}

/// A table being collected.
struct Table {
    alignments: Vec<Alignment>,
    header: Option<Vec<Line<'static>>>,
    rows: Vec<Vec<Line<'static>>>,
    row: Vec<Line<'static>>,
}

/// An open link: where its text starts in the inline buffer, and its URL.
struct OpenLink {
    url: String,
    text_start: usize,
}

/// Turns pulldown-cmark events into lines.
struct Renderer {
    width: u16,
    lines: Vec<Line<'static>>,
    containers: Vec<Container>,
    /// Text of the paragraph, heading, item or cell being written.
    inline: Vec<Span<'static>>,
    /// Inline styles; the last one applies to new text.
    styles: Vec<Style>,
    links: Vec<OpenLink>,
    code: Option<CodeBlock>,
    table: Option<Table>,
    /// A block ended: the next block starts after a blank line.
    blank_pending: bool,
    /// A nested list ended: a blank line goes before the next block unless
    /// it is the next item of the outer list.
    nested_list_ended: bool,
}

impl Renderer {
    fn new(width: u16) -> Self {
        Self {
            width,
            lines: Vec::new(),
            containers: Vec::new(),
            inline: Vec::new(),
            styles: Vec::new(),
            links: Vec::new(),
            code: None,
            table: None,
            blank_pending: false,
            nested_list_ended: false,
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.text.push_str(&text),
                None => self.push_text(&text, self.style()),
            },
            Event::Code(text) | Event::InlineMath(text) => {
                self.push_text(&text, self.style().patch(theme::INLINE_CODE));
            }
            Event::DisplayMath(text) => {
                self.start_block(false);
                self.render_code("", &text);
                self.blank_pending = true;
            }
            Event::Html(html) => {
                for line in html.lines() {
                    self.emit_wrapped(Line::from(Span::styled(line.to_owned(), theme::HTML)));
                }
            }
            Event::InlineHtml(html) => self.push_text(&html, theme::HTML),
            Event::FootnoteReference(label) => {
                self.push_text(&format!("[^{label}]"), theme::DIM);
            }
            Event::SoftBreak => self.push_text(" ", self.style()),
            Event::HardBreak => self.flush_inline(),
            Event::Rule => {
                self.start_block(false);
                let (first, _) = self.prefixes();
                let length = usize::from(self.width).saturating_sub(first.width()).max(1);
                let rule = Line::from(Span::styled("─".repeat(length), theme::RULE));
                self.emit_wrapped(rule);
                self.blank_pending = true;
            }
            Event::TaskListMarker(done) => self.task_marker(done),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph
            | Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.start_block(false),
            Tag::Heading { level, .. } => {
                self.start_block(false);
                self.push_style(theme::heading(heading_number(level)));
            }
            Tag::BlockQuote(_) => {
                self.start_block(false);
                self.containers.push(Container::Quote);
                self.push_style(theme::QUOTE);
            }
            Tag::CodeBlock(kind) => {
                self.start_block(false);
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info_language(&info).to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(CodeBlock {
                    lang,
                    text: String::new(),
                });
            }
            Tag::List(start) => {
                self.start_block(false);
                self.containers.push(Container::List { next: start });
            }
            Tag::Item => {
                self.start_block(true);
                let marker = self.next_marker();
                let indent = marker.iter().map(Span::width).sum();
                self.containers.push(Container::Item {
                    marker,
                    indent,
                    marker_shown: false,
                });
            }
            Tag::Table(alignments) => {
                self.start_block(false);
                self.table = Some(Table {
                    alignments,
                    header: None,
                    rows: Vec::new(),
                    row: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.push_style(theme::EMPHASIS),
            Tag::Strong => self.push_style(theme::STRONG),
            Tag::Strikethrough => self.push_style(theme::STRIKETHROUGH),
            Tag::Superscript | Tag::Subscript => self.push_style(Style::new()),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.push_style(theme::LINK);
                self.links.push(OpenLink {
                    url: dest_url.into_string(),
                    text_start: self.inline.len(),
                });
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::HtmlBlock
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {
                self.flush_inline();
                self.blank_pending = true;
            }
            TagEnd::Heading(_) => {
                self.flush_inline();
                self.styles.pop();
                self.blank_pending = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush_inline();
                self.containers.pop();
                self.styles.pop();
                self.blank_pending = true;
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.render_code(&code.lang, &code.text);
                }
                self.blank_pending = true;
            }
            TagEnd::List(_) => {
                self.flush_inline();
                self.containers.pop();
                if self.in_item() {
                    self.nested_list_ended = true;
                } else {
                    self.blank_pending = true;
                }
            }
            TagEnd::Item => {
                self.flush_inline();
                if let Some(Container::Item {
                    marker_shown: false,
                    ..
                }) = self.containers.last()
                {
                    // An empty item ("- " still being typed): show its marker.
                    let (first, _) = self.prefixes();
                    let line = self.prefix_line(first);
                    self.lines.push(line);
                    self.markers_shown();
                }
                self.containers.pop();
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.render_table(table);
                }
                self.blank_pending = true;
            }
            TagEnd::TableHead => {
                let cells = self.finish_row();
                if let Some(table) = &mut self.table {
                    table.header = Some(cells);
                }
            }
            TagEnd::TableRow => {
                let cells = self.finish_row();
                if let Some(table) = &mut self.table {
                    table.rows.push(cells);
                }
            }
            TagEnd::TableCell => {
                let cell = Line::from(std::mem::take(&mut self.inline));
                if let Some(table) = &mut self.table {
                    table.row.push(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.styles.pop();
                if let Some(link) = self.links.pop() {
                    self.close_link(link);
                }
            }
        }
    }

    /// The style for new text.
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or(theme::TEXT)
    }

    fn push_style(&mut self, style: Style) {
        self.styles.push(self.style().patch(style));
    }

    /// Adds text to the inline buffer, merging with the last span when the
    /// style is the same.
    fn push_text(&mut self, text: &str, style: Style) {
        match self.inline.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(text),
            _ => self.inline.push(Span::styled(text.to_owned(), style)),
        }
    }

    fn in_item(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }))
    }

    /// Before a block starts: writes out text of a tight list item that
    /// precedes it, and the blank line that separates it from the block
    /// before.
    fn start_block(&mut self, is_item: bool) {
        self.flush_inline();
        let blank = self.blank_pending || (self.nested_list_ended && !is_item);
        self.blank_pending = false;
        self.nested_list_ended = false;
        if blank && !self.lines.is_empty() {
            let (_, rest) = self.prefixes();
            let line = self.prefix_line(rest);
            self.lines.push(line);
        }
    }

    /// The prefixes of the next line (`first`) and of the lines after it.
    fn prefixes(&self) -> (Line<'static>, Line<'static>) {
        let mut first: Vec<Span<'static>> = Vec::new();
        let mut rest: Vec<Span<'static>> = Vec::new();
        for container in &self.containers {
            match container {
                Container::Quote => {
                    first.push(Span::styled(QUOTE_GUTTER, theme::QUOTE_GUTTER));
                    rest.push(Span::styled(QUOTE_GUTTER, theme::QUOTE_GUTTER));
                }
                Container::List { .. } => {}
                Container::Item {
                    marker,
                    indent,
                    marker_shown,
                } => {
                    if *marker_shown {
                        first.push(Span::raw(" ".repeat(*indent)));
                    } else {
                        first.extend(marker.iter().cloned());
                    }
                    rest.push(Span::raw(" ".repeat(*indent)));
                }
            }
        }
        (Line::from(first), Line::from(rest))
    }

    /// A line holding only a prefix, without its trailing spaces, cut to the
    /// width: blank lines inside quotes and lists, empty list items.
    fn prefix_line(&self, prefix: Line<'static>) -> Line<'static> {
        let prefix = Line::from(trim_end(prefix.spans));
        hard_wrap_prefixed(Line::default(), self.width, &prefix, &Line::default())
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// Marks every item marker as shown: they appear on one line only.
    fn markers_shown(&mut self) {
        for container in &mut self.containers {
            if let Container::Item { marker_shown, .. } = container {
                *marker_shown = true;
            }
        }
    }

    /// Word-wraps a line of prose inside the current containers.
    fn emit_wrapped(&mut self, line: Line<'static>) {
        let (first, rest) = self.prefixes();
        self.lines
            .extend(wrap_line_prefixed(line, self.width, &first, &rest));
        self.markers_shown();
    }

    /// Writes out the inline buffer as wrapped lines.
    fn flush_inline(&mut self) {
        if self.inline.is_empty() || self.table.is_some() {
            return;
        }
        let spans = std::mem::take(&mut self.inline);
        self.emit_wrapped(Line::from(spans));
    }

    /// The marker of a new item of the innermost list.
    fn next_marker(&mut self) -> Vec<Span<'static>> {
        let depth = self
            .containers
            .iter()
            .filter(|c| matches!(c, Container::List { .. }))
            .count();
        let list = self.containers.iter_mut().rev().find_map(|c| match c {
            Container::List { next } => Some(next),
            _ => None,
        });
        let label = match list {
            Some(Some(number)) => {
                let label = format!("{number}.");
                *number = number.saturating_add(1);
                label
            }
            _ => BULLETS[depth.saturating_sub(1) % BULLETS.len()].to_owned(),
        };
        vec![Span::styled(label, theme::LIST_MARKER), Span::raw(" ")]
    }

    /// `[ ]`/`[x]` of a task list item: replaces the bullet, or follows the
    /// number of an ordered item.
    fn task_marker(&mut self, done: bool) {
        let (text, style) = if done {
            ("[x]", theme::TASK_DONE)
        } else {
            ("[ ]", theme::TASK_OPEN)
        };
        let ordered = self
            .containers
            .iter()
            .rev()
            .find_map(|c| match c {
                Container::List { next } => Some(next.is_some()),
                _ => None,
            })
            .unwrap_or(false);
        match self.containers.last_mut() {
            Some(Container::Item {
                marker,
                indent,
                marker_shown: false,
            }) if !ordered => {
                *marker = vec![Span::styled(text, style), Span::raw(" ")];
                *indent = marker.iter().map(Span::width).sum();
            }
            _ => {
                self.push_text(text, style);
                self.push_text(" ", self.style());
            }
        }
    }

    /// Appends a link's URL after its text when the two differ.
    fn close_link(&mut self, link: OpenLink) {
        if link.url.is_empty() {
            return;
        }
        let text: String = self.inline[link.text_start.min(self.inline.len())..]
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        let shown = link.url.strip_prefix("mailto:").unwrap_or(&link.url);
        if text == link.url || text == shown {
            return;
        }
        if text.is_empty() {
            self.push_text(&link.url, theme::LINK_URL);
        } else {
            self.push_text(&format!(" ({})", link.url), theme::LINK_URL);
        }
    }

    /// Highlights a code block and cuts its lines to the width: code is not
    /// word-wrapped, a long line continues on the next behind `↳ `.
    fn render_code(&mut self, lang: &str, code: &str) {
        for line in highlight_code(code, lang) {
            let (mut first, mut rest) = self.prefixes();
            first.spans.push(Span::raw(CODE_INDENT));
            rest.spans
                .push(Span::styled(CODE_CONTINUATION, theme::CODE_CONTINUATION));
            self.lines
                .extend(hard_wrap_prefixed(line, self.width, &first, &rest));
            self.markers_shown();
        }
    }

    /// The cells of the row just finished.
    fn finish_row(&mut self) -> Vec<Line<'static>> {
        self.inline.clear();
        self.table
            .as_mut()
            .map(|t| std::mem::take(&mut t.row))
            .unwrap_or_default()
    }

    /// Draws a table: columns padded to their widest cell, or narrowed with
    /// their cells wrapped when the table is wider than the width, or one
    /// wrapped line per row when even that cannot fit.
    fn render_table(&mut self, table: Table) {
        let Table {
            alignments,
            header,
            rows,
            ..
        } = table;
        let header = header.map(|cells| {
            cells
                .into_iter()
                .map(|cell| {
                    let spans = cell.spans.into_iter();
                    Line::from(
                        spans
                            .map(|span| span.patch_style(theme::TABLE_HEADER))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        });
        let columns = header.iter().chain(&rows).map(Vec::len).max().unwrap_or(0);
        if columns == 0 {
            return;
        }
        let (_, rest) = self.prefixes();
        let avail = usize::from(self.width).saturating_sub(rest.width());
        let separators = CELL_SEPARATOR.width() * (columns - 1);
        if columns + separators > avail {
            for row in header.iter().chain(&rows) {
                self.emit_wrapped(join_cells(row));
            }
            return;
        }
        let mut natural = vec![0; columns];
        for row in header.iter().chain(&rows) {
            for (column, cell) in row.iter().enumerate() {
                natural[column] = natural[column].max(cell.width());
            }
        }
        let widths = share_columns(&natural, avail - separators);
        let mut drawn = Vec::new();
        if let Some(header) = &header {
            drawn.extend(table_row(header, &widths, &alignments));
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            drawn.push(Line::from(Span::styled(
                rule.join("─┼─"),
                theme::TABLE_BORDER,
            )));
        }
        for row in &rows {
            drawn.extend(table_row(row, &widths, &alignments));
        }
        for line in drawn {
            let (first, rest) = self.prefixes();
            self.lines
                .extend(hard_wrap_prefixed(line, self.width, &first, &rest));
            self.markers_shown();
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        while self.lines.last().is_some_and(is_blank) {
            self.lines.pop();
        }
        self.lines
    }
}

/// 1 for `#`, 6 for `######`.
fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The language of a fence's info string: its first word (`rust` in
/// `rust,ignore` or `rust title="x"`).
fn info_language(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == ',' || c == '{')
        .next()
        .unwrap_or_default()
}

/// Spans without the spaces at their end: prefixes of otherwise empty lines.
fn trim_end(mut spans: Vec<Span<'static>>) -> Vec<Span<'static>> {
    while let Some(last) = spans.last_mut() {
        let trimmed = last.content.trim_end();
        if trimmed.is_empty() {
            spans.pop();
        } else {
            if trimmed.len() < last.content.len() {
                last.content = trimmed.to_owned().into();
            }
            break;
        }
    }
    spans
}

/// True for a line with nothing but spaces.
fn is_blank(line: &Line<'_>) -> bool {
    line.spans.iter().all(|s| s.content.trim().is_empty())
}

/// Cells joined by ` │ ` on one line, for tables too narrow to draw.
fn join_cells(cells: &[Line<'static>]) -> Line<'static> {
    let mut spans = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            spans.push(Span::styled(CELL_SEPARATOR, theme::TABLE_BORDER));
        }
        spans.extend(cell.spans.iter().cloned());
    }
    Line::from(spans)
}

/// Column widths within `budget`: narrow columns keep their natural width,
/// wide ones share what is left evenly. `budget` is at least one column each.
fn share_columns(natural: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by_key(|&column| natural[column]);
    let mut widths = vec![0; natural.len()];
    let mut remaining = budget;
    for (placed, &column) in order.iter().enumerate() {
        let share = remaining / (natural.len() - placed);
        widths[column] = natural[column].min(share);
        remaining -= widths[column];
    }
    widths
}

/// One table row, its cells wrapped to their column widths and padded; as
/// many lines as its tallest cell.
fn table_row(
    cells: &[Line<'static>],
    widths: &[usize],
    alignments: &[Alignment],
) -> Vec<Line<'static>> {
    let wrapped: Vec<Vec<Line<'static>>> = widths
        .iter()
        .enumerate()
        .map(|(column, &width)| match cells.get(column) {
            Some(cell) => wrap_line(cell.clone(), u16::try_from(width).unwrap_or(u16::MAX)),
            None => Vec::new(),
        })
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    let last_column = widths.len().saturating_sub(1);
    (0..height)
        .map(|row_line| {
            let mut spans = Vec::new();
            for (column, &width) in widths.iter().enumerate() {
                if column > 0 {
                    spans.push(Span::styled(CELL_SEPARATOR, theme::TABLE_BORDER));
                }
                let content = wrapped[column].get(row_line);
                let used = content.map_or(0, Line::width);
                let space = width.saturating_sub(used);
                let alignment = alignments.get(column).copied().unwrap_or(Alignment::None);
                let (left, right) = match alignment {
                    Alignment::Right => (space, 0),
                    Alignment::Center => (space / 2, space - space / 2),
                    Alignment::None | Alignment::Left => (0, space),
                };
                let right = if column == last_column { 0 } else { right };
                if left > 0 {
                    spans.push(Span::raw(" ".repeat(left)));
                }
                if let Some(content) = content {
                    spans.extend(content.spans.iter().cloned());
                }
                if right > 0 {
                    spans.push(Span::raw(" ".repeat(right)));
                }
            }
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use ratatui::style::{Color, Modifier};

    use super::*;
    use crate::render::wrap::lines_to_plain;

    fn plain(text: &str, width: u16) -> String {
        lines_to_plain(&render_markdown(text, width))
    }

    fn assert_fits(lines: &[Line<'_>], width: u16) {
        for line in lines {
            assert!(
                line.width() <= usize::from(width),
                "{:?} is {} wide at width {width}",
                lines_to_plain(std::slice::from_ref(line)),
                line.width()
            );
        }
    }

    /// The span whose text contains `needle`.
    fn span_with<'a>(lines: &'a [Line<'static>], needle: &str) -> &'a Span<'static> {
        lines
            .iter()
            .flat_map(|l| &l.spans)
            .find(|s| s.content.contains(needle))
            .unwrap_or_else(|| panic!("no span contains {needle:?}"))
    }

    const DOCUMENT: &str = r#"# Release notes

baton delegates work to **sub-agents** that run in the *background*, and
tells the parent when they finish. Use `baton run` for headless runs, and
see [the design](https://example.com/design) or https://example.com.

## What changed

1. Tasks survive restarts: they show as `interrupted`, never as running
   forever.
2. Cancelling a session cancels its children:
   - shells are killed by process group;
   - sub-agents stop spending tokens.
3. Permissions never hang silently.

- [x] write the engine
- [ ] write the ~~manual~~ guide

> Delegation is a tool, completion is a message. Notices are persisted
> first, so none is ever lost.

```rust
fn main() {
    let tasks = vec!["build", "test"]; // a comment that makes this line long
    println!("{}", tasks.len());
}
```

| Tool | Blocks? | Notes |
|:-----|:-------:|------:|
| task | no | returns at once |
| task_wait | yes | with a timeout |

---

That's all."#;

    #[test]
    fn snapshot_document_at_width_60() {
        let lines = render_markdown(DOCUMENT, 60);
        assert_fits(&lines, 60);
        insta::assert_snapshot!(lines_to_plain(&lines));
    }

    #[test]
    fn no_line_is_wider_than_width() {
        let extra = "\n\n> - quoted list item with `code` and a [link](https://example.com/a/really/long/url/that/goes/on)\n>   > nested quote 日本語のテキスト\n\n```\nplain code line that is quite long indeed\n\tand tabbed\n```\n";
        let text = format!("{DOCUMENT}{extra}");
        for width in (0..=30).chain([41, 60, 80, 200]) {
            assert_fits(&render_markdown(&text, width), width);
        }
    }

    #[test]
    fn heading_is_bold_coloured_and_separated() {
        let lines = render_markdown("# Title\nbody text", 40);
        assert_eq!(lines_to_plain(&lines), "Title\n\nbody text");
        let title = span_with(&lines, "Title");
        assert_eq!(title.style, theme::heading(1));
        assert!(title.style.add_modifier.contains(Modifier::BOLD));
        assert!(title.style.add_modifier.contains(Modifier::UNDERLINED));
        assert_eq!(span_with(&lines, "body").style, theme::TEXT);
        let lines = render_markdown("### Small", 40);
        assert!(
            lines[0].spans[0]
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert_ne!(lines[0].spans[0].style.fg, None);
    }

    #[test]
    fn paragraphs_are_separated_by_one_blank_line() {
        assert_eq!(plain("one\ntwo\n\n\n\nthree\n\n", 40), "one two\n\nthree");
    }

    #[test]
    fn inline_styles() {
        let lines = render_markdown("a *em* **strong** ~~gone~~ `code` ***both***", 80);
        assert_eq!(lines_to_plain(&lines), "a em strong gone code both");
        assert!(
            span_with(&lines, "em")
                .style
                .add_modifier
                .contains(Modifier::ITALIC)
        );
        assert!(
            span_with(&lines, "strong")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert!(
            span_with(&lines, "gone")
                .style
                .add_modifier
                .contains(Modifier::CROSSED_OUT)
        );
        assert_eq!(span_with(&lines, "code").style, theme::INLINE_CODE);
        let both = span_with(&lines, "both").style.add_modifier;
        assert!(both.contains(Modifier::BOLD | Modifier::ITALIC));
        // Inline code inside strong text is both.
        let lines = render_markdown("**a `b` c**", 80);
        let code = span_with(&lines, "b").style;
        assert_eq!(code.fg, theme::INLINE_CODE.fg);
        assert!(code.add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn styles_survive_wrapping() {
        let lines = render_markdown("**one two three four five six**", 10);
        assert!(lines.len() >= 3);
        for line in &lines {
            for span in &line.spans {
                assert!(span.style.add_modifier.contains(Modifier::BOLD), "{span:?}");
            }
        }
    }

    #[test]
    fn bullet_list_has_markers_and_hanging_indent() {
        let lines = render_markdown("- first item that wraps around\n- second", 14);
        assert_eq!(
            lines_to_plain(&lines),
            "• first item\n  that wraps\n  around\n• second"
        );
        assert_eq!(span_with(&lines, "•").style, theme::LIST_MARKER);
    }

    #[test]
    fn ordered_list_numbers_from_its_start() {
        assert_eq!(
            plain("3. three\n4. four wraps here\n5. five", 12),
            "3. three\n4. four\n   wraps\n   here\n5. five"
        );
    }

    #[test]
    fn nested_lists_indent_further() {
        let text = "- outer\n  - inner item wraps\n    1. deep\n- next";
        assert_eq!(
            plain(text, 14),
            "• outer\n  ◦ inner item\n    wraps\n    1. deep\n• next"
        );
    }

    #[test]
    fn loose_lists_keep_blank_lines_between_items() {
        assert_eq!(
            plain("- one\n\n- two\n\n  more\n\nafter", 40),
            "• one\n\n• two\n\n  more\n\nafter"
        );
    }

    #[test]
    fn list_after_paragraph_and_paragraph_after_list() {
        assert_eq!(
            plain("intro\n\n- a\n- b\n\noutro", 40),
            "intro\n\n• a\n• b\n\noutro"
        );
    }

    #[test]
    fn task_list_items() {
        let lines = render_markdown("- [x] done thing\n- [ ] open thing that wraps", 16);
        assert_eq!(
            lines_to_plain(&lines),
            "[x] done thing\n[ ] open thing\n    that wraps"
        );
        assert_eq!(span_with(&lines, "[x]").style, theme::TASK_DONE);
        assert_eq!(span_with(&lines, "[ ]").style, theme::TASK_OPEN);
        assert_eq!(plain("1. [x] numbered", 40), "1. [x] numbered");
    }

    #[test]
    fn block_quotes_have_a_gutter() {
        let lines = render_markdown("> quoted text that wraps\n>\n> second\n\nafter", 14);
        assert_eq!(
            lines_to_plain(&lines),
            "│ quoted text\n│ that wraps\n│\n│ second\n\nafter"
        );
        assert_eq!(lines[0].spans[0].style, theme::QUOTE_GUTTER);
        assert!(
            span_with(&lines, "quoted")
                .style
                .add_modifier
                .contains(Modifier::ITALIC)
        );
        assert_eq!(plain("> > nested", 20), "│ │ nested");
    }

    #[test]
    fn code_block_is_highlighted_and_not_word_wrapped() {
        let text = "```rust\nfn main() {\n    let answer: u32 = 42; // the answer\n}\n```";
        let lines = render_markdown(text, 30);
        assert_eq!(
            lines_to_plain(&lines),
            "  fn main() {\n      let answer: u32 = 42; //\n↳  the answer\n  }"
        );
        let colours: HashSet<Color> = lines
            .iter()
            .flat_map(|l| &l.spans)
            .filter_map(|s| s.style.fg)
            .collect();
        assert!(colours.len() >= 3, "{colours:?}");
    }

    #[test]
    fn unknown_language_and_indented_code_are_plain() {
        let lines = render_markdown("```nosuchlang\nx = 1\n```\n\n    indented", 40);
        assert_eq!(lines_to_plain(&lines), "  x = 1\n\n  indented");
        assert_eq!(span_with(&lines, "x = 1").style, theme::CODE);
        assert_eq!(span_with(&lines, "indented").style, theme::CODE);
    }

    #[test]
    fn unclosed_fence_renders_what_has_arrived() {
        let text = "Here is the fix:\n\n```rust\nfn main() {\n    let x = ";
        let lines = render_markdown(text, 40);
        assert_eq!(
            lines_to_plain(&lines),
            "Here is the fix:\n\n  fn main() {\n      let x = "
        );
        assert!(span_with(&lines, "fn").style.fg != theme::CODE.fg);
    }

    #[test]
    fn incomplete_markdown_never_panics() {
        let text =
            "# Head\n\n- item **bold\n  1. sub [link](http://x\n> quote `code\n| a | b |\n|---|";
        for end in 0..=text.len() {
            if text.is_char_boundary(end) {
                for width in [0, 1, 5, 40] {
                    assert_fits(&render_markdown(&text[..end], width), width);
                }
            }
        }
    }

    #[test]
    fn code_in_a_list_item_follows_the_item() {
        assert_eq!(
            plain("- run:\n\n  ```sh\n  cargo test\n  ```\n- done", 40),
            "• run:\n\n    cargo test\n\n• done"
        );
    }

    #[test]
    fn links_show_their_url_when_it_differs() {
        let lines = render_markdown(
            "[docs](https://x.dev/docs) <https://x.dev> [https://x.dev](https://x.dev) <a@b.c>",
            80,
        );
        assert_eq!(
            lines_to_plain(&lines),
            "docs (https://x.dev/docs) https://x.dev https://x.dev a@b.c"
        );
        assert_eq!(span_with(&lines, "docs").style, theme::LINK);
        assert_eq!(span_with(&lines, "(https").style, theme::LINK_URL);
    }

    #[test]
    fn horizontal_rule_spans_the_width() {
        let lines = render_markdown("a\n\n---\n\nb", 12);
        assert_eq!(lines_to_plain(&lines), "a\n\n────────────\n\nb");
        assert_eq!(lines[2].spans[0].style, theme::RULE);
    }

    #[test]
    fn table_with_bold_header_and_separators() {
        let text = "| a | bb |\n|---|---:|\n| 1 | 2 |\n| long | x |";
        let lines = render_markdown(text, 40);
        assert_eq!(
            lines_to_plain(&lines),
            "a    │ bb\n─────┼───\n1    │  2\nlong │  x"
        );
        assert!(
            span_with(&lines, "a")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert_eq!(span_with(&lines, "│").style, theme::TABLE_BORDER);
    }

    #[test]
    fn wide_tables_wrap_their_cells() {
        let text = "| key | value |\n|---|---|\n| k | a long value that must wrap |";
        let lines = render_markdown(text, 16);
        assert_fits(&lines, 16);
        assert_eq!(
            lines_to_plain(&lines),
            "key │ value\n────┼───────────\nk   │ a long\n    │ value that\n    │ must wrap"
        );
    }

    #[test]
    fn hard_breaks_and_html() {
        assert_eq!(plain("one\\\ntwo", 40), "one\ntwo");
        let lines = render_markdown("a <b>bold</b> tag\n\n<div>\nblock\n</div>", 40);
        assert_eq!(
            lines_to_plain(&lines),
            "a <b>bold</b> tag\n\n<div>\nblock\n</div>"
        );
        assert_eq!(span_with(&lines, "<div>").style, theme::HTML);
    }

    #[test]
    fn empty_and_blank_input() {
        assert!(render_markdown("", 40).is_empty());
        assert!(render_markdown("\n\n  \n", 40).is_empty());
        assert_eq!(plain("- ", 40), "•");
    }

    #[test]
    fn trailing_blank_lines_are_trimmed() {
        let lines = render_markdown("para\n\n```\ncode\n\n\n```\n\n", 40);
        assert_eq!(lines_to_plain(&lines), "para\n\n  code");
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render_markdown(DOCUMENT, 50), render_markdown(DOCUMENT, 50));
    }
}
