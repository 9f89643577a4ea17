//! A scrollable list of rows with a filter (`&`), a search (`/`, `n`,
//! `N`), a cursor and marks: every area browser, and the source view, is
//! one of these over rows the views build from the facts.
//!
//! Scrolling is by pages: the first row shown is the cursor's page
//! (`cursor / height * height`). On a serial line a one-row scroll repaints
//! the whole list anyway (no scroll regions), so paging costs the same per
//! repaint and repaints far less often, and the view needs no state beyond
//! the cursor.

use super::theme::{severity_word, Theme};
use diag_core::model::Severity;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Why a row stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Nothing special.
    None,
    /// A severity (shown as `CRIT`/`WARN`/`INFO`).
    Severity(Severity),
    /// A line that is evidence of a finding (shown with the marker).
    Evidence,
    /// Something the browser calls out by a word (`OFFL` for an off-link
    /// neighbour, `DOWN` for an interface, ...).
    Word(&'static str),
}

/// A raw input and line a row came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
}

/// A column of a table browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its heading.
    pub name: String,
    /// Narrowest it is cut to before the row runs off the screen.
    pub min: usize,
    /// Cells aligned on the right (numbers).
    pub right: bool,
}

impl Column {
    /// A column headed `name`, never narrower than `min`.
    pub fn new(name: impl Into<String>, min: usize) -> Column {
        Column {
            name: name.into(),
            min,
            right: false,
        }
    }

    /// The column with its cells aligned on the right.
    pub fn right(mut self) -> Column {
        self.right = true;
        self
    }
}

/// One row of a browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The text, columns already laid out (a table row: its cells joined
    /// by two spaces, what the filter, the search and `w` see).
    pub text: String,
    /// A table row's cells, one per [`Browser::columns`].
    pub cells: Vec<String>,
    /// Why it stands out.
    pub mark: Mark,
    /// Where it came from, for the source view (`v`).
    pub source: Option<SourceRef>,
    /// Syslog level (kernel log rows), for the severity filter.
    pub level: Option<u8>,
}

impl Row {
    /// A plain row.
    pub fn new(text: impl Into<String>) -> Row {
        Row {
            text: text.into(),
            cells: Vec::new(),
            mark: Mark::None,
            source: None,
            level: None,
        }
    }

    /// A row of a table browser.
    pub fn cells(cells: Vec<String>) -> Row {
        Row {
            cells,
            ..Row::new(String::new())
        }
        .joined()
    }

    fn joined(mut self) -> Row {
        self.text = self.cells.join("  ");
        self
    }

    /// The row with a mark.
    pub fn mark(mut self, mark: Mark) -> Row {
        self.mark = mark;
        self
    }

    /// The row with the input and line it came from.
    pub fn source(mut self, input: &str, line: u32) -> Row {
        if !input.is_empty() && line > 0 {
            self.source = Some(SourceRef {
                input: input.to_string(),
                line,
            });
        }
        self
    }
}

/// The syslog level names, 0 to 7, four columns wide.
pub const LEVELS: [&str; 8] = [
    "EMRG", "ALRT", "CRIT", "ERR ", "WARN", "NOTE", "INFO", "DBG ",
];

/// A filterable, searchable list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Browser {
    /// Column headings, laid out like the rows.
    pub header: String,
    /// Every row.
    pub rows: Vec<Row>,
    /// Only rows containing this (case-insensitive) are shown.
    pub filter: String,
    /// Matches of this (case-insensitive) are highlighted; `n`/`N` jump.
    pub search: String,
    /// Only rows at this syslog level or more severe (rows without a level
    /// always show).
    pub max_level: Option<u8>,
    /// Keep the cursor on the last row when rows change (kernel log follow).
    pub follow: bool,
    /// What is said when there are no rows at all.
    pub empty: String,
    /// Columns of row text scrolled off to the left (`h`/`l`).
    pub hscroll: usize,
    /// Long rows wrapped onto the lines below instead of cut (`w`).
    pub wrap: bool,
    /// A table's columns (none: rows of free text under [`Self::header`]).
    pub columns: Vec<Column>,
    /// Said in the title after the counts (what the numbers are, ...).
    pub note: String,
    /// Each column's widest cell or heading, over every row.
    natural: Vec<usize>,
    visible: Vec<usize>,
    cursor: usize,
}

impl Browser {
    /// A browser over `rows`.
    pub fn new(header: impl Into<String>, rows: Vec<Row>, empty: impl Into<String>) -> Browser {
        let mut browser = Browser {
            header: header.into(),
            empty: empty.into(),
            ..Browser::default()
        };
        browser.set_rows(rows);
        browser
    }

    /// A browser of a table: `columns`, and `rows` of one cell each.
    pub fn table(columns: Vec<Column>, rows: Vec<Row>, empty: impl Into<String>) -> Browser {
        let mut browser = Browser {
            header: columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join("  "),
            columns,
            empty: empty.into(),
            ..Browser::default()
        };
        browser.set_rows(rows);
        browser
    }

    /// Replaces the rows (a refresh), keeping the cursor on the same row
    /// number, or on the last row when following.
    pub fn set_rows(&mut self, rows: Vec<Row>) {
        let keep = self.visible.get(self.cursor).copied();
        self.rows = rows;
        self.natural = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .filter_map(|r| r.cells.get(i))
                    .map(|cell| cell.chars().count())
                    .chain([c.name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        self.refilter();
        if self.follow {
            self.end();
        } else if let Some(keep) = keep {
            self.cursor = self.visible.partition_point(|&i| i < keep);
            self.clamp();
        }
    }

    fn refilter(&mut self) {
        let filter = self.filter.to_lowercase();
        self.visible = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| match (self.max_level, row.level) {
                (Some(max), Some(level)) => level <= max,
                _ => true,
            })
            .filter(|(_, row)| filter.is_empty() || row.text.to_lowercase().contains(&filter))
            .map(|(i, _)| i)
            .collect();
        self.clamp();
    }

    fn clamp(&mut self) {
        self.cursor = self.cursor.min(self.visible.len().saturating_sub(1));
    }

    /// Sets the filter.
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.refilter();
    }

    /// Sets the severity filter.
    pub fn set_max_level(&mut self, max_level: Option<u8>) {
        self.max_level = max_level;
        self.refilter();
    }

    /// Sets the search and moves to its first match at or after the cursor.
    pub fn set_search(&mut self, search: &str) {
        self.search = search.to_string();
        if !self.matches(self.cursor) {
            self.search_next(true);
        }
    }

    /// Whether the row under the cursor matches the search.
    pub fn on_match(&self) -> bool {
        self.matches(self.cursor)
    }

    fn matches(&self, position: usize) -> bool {
        let query = self.search.to_lowercase();
        !query.is_empty()
            && self
                .visible
                .get(position)
                .is_some_and(|&i| self.rows[i].text.to_lowercase().contains(&query))
    }

    /// Moves to the next (or previous) row matching the search, wrapping.
    /// Returns whether one was found.
    pub fn search_next(&mut self, forward: bool) -> bool {
        self.next_where(forward, |b, p| b.matches(p))
    }

    /// Moves to the next (or previous) marked row (evidence of a finding,
    /// an off-link entry), wrapping. Returns whether one was found.
    pub fn next_mark(&mut self, forward: bool) -> bool {
        self.next_where(forward, |b, p| {
            b.visible
                .get(p)
                .is_some_and(|&i| b.rows[i].mark != Mark::None)
        })
    }

    fn next_where(&mut self, forward: bool, hit: impl Fn(&Browser, usize) -> bool) -> bool {
        let n = self.visible.len();
        for step in 1..=n {
            let p = if forward {
                (self.cursor + step) % n
            } else {
                (self.cursor + n - step % n) % n
            };
            if hit(self, p) {
                self.cursor = p;
                return true;
            }
        }
        false
    }

    /// Moves the cursor by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        self.cursor = self.cursor.saturating_add_signed(delta);
        self.clamp();
        if delta < 0 {
            self.follow = false;
        }
    }

    /// First row.
    pub fn home(&mut self) {
        self.cursor = 0;
        self.follow = false;
    }

    /// Last row.
    pub fn end(&mut self) {
        self.cursor = self.visible.len().saturating_sub(1);
    }

    /// Puts the cursor on the first row whose source is `line` (source
    /// view), or the nearest before it.
    pub fn goto_row(&mut self, row: usize) {
        self.cursor = self.visible.partition_point(|&i| i < row);
        self.clamp();
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<&Row> {
        self.visible.get(self.cursor).map(|&i| &self.rows[i])
    }

    /// Shown rows / all rows.
    pub fn counts(&self) -> (usize, usize) {
        (self.visible.len(), self.rows.len())
    }

    /// Draws the browser: a box titled `title` with what is filtered, the
    /// header, and the rows of the cursor's page.
    pub fn render(&self, frame: &mut Frame, area: Rect, title: &str, theme: &Theme) {
        let (shown, total) = self.counts();
        let mut heading = format!(" {title} {}/{} ", shown.min(self.cursor + 1), shown);
        if shown != total {
            heading.push_str(&format!("of {total} "));
        }
        if !self.filter.is_empty() {
            heading.push_str(&format!("&{} ", theme.clean(&self.filter)));
        }
        if !self.search.is_empty() {
            heading.push_str(&format!("/{} ", theme.clean(&self.search)));
        }
        if let Some(max) = self.max_level {
            heading.push_str(&format!(
                "level<={} ",
                LEVELS[usize::from(max.min(7))].trim()
            ));
        }
        if self.follow {
            heading.push_str("FOLLOW ");
        }
        if !self.note.is_empty() {
            heading.push_str(&format!("{} ", theme.clean(&self.note)));
        }
        if self.wrap {
            heading.push_str("WRAP ");
        } else if self.hscroll > 0 {
            heading.push_str(&format!("col {} ", self.hscroll + 1));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_set(theme.border())
            .title(Span::styled(heading, theme.heading()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let height = usize::from(inner.height.saturating_sub(1));
        // Room for a row's text beside the five columns of its mark.
        let room = usize::from(inner.width).saturating_sub(5);
        let widths = self.widths(room);
        let header = if widths.is_empty() {
            theme.clean(&expand_tabs(&self.header))
        } else {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            lay_out(&names, &widths, &self.columns, theme)
        };
        let mut lines = vec![Line::styled(
            format!(
                "     {}",
                fit(
                    &header,
                    if self.wrap { 0 } else { self.hscroll },
                    room,
                    theme
                )
            ),
            theme.dim(),
        )];
        if self.rows.is_empty() {
            lines.push(Line::raw(format!("     {}", theme.clean(&self.empty))));
        } else if shown == 0 {
            lines.push(Line::raw("     no row matches the filter"));
        }
        if let Some(page) = self.cursor.checked_div(height) {
            let query = self.search.to_lowercase();
            if self.wrap {
                // Rows take as many lines as their text needs: start at
                // the cursor's page, or at the cursor when that page's
                // rows would push it off the screen.
                let line_count = |position: usize| {
                    let text = theme.clean(&expand_tabs(&self.rows[self.visible[position]].text));
                    text.chars().count().div_ceil(room.max(1)).max(1)
                };
                let mut first = page * height;
                if (first..=self.cursor).map(line_count).sum::<usize>() > height {
                    first = self.cursor;
                }
                let mut used = 0;
                for (position, &i) in self.visible.iter().enumerate().skip(first) {
                    let row = &self.rows[i];
                    let wrapped = self.row_lines(row, position == self.cursor, &query, room, theme);
                    if used > 0 && used + wrapped.len() > height {
                        break;
                    }
                    used += wrapped.len();
                    lines.extend(wrapped);
                    if used >= height {
                        break;
                    }
                }
            } else {
                let first = page * height;
                for (position, &i) in self.visible.iter().enumerate().skip(first).take(height) {
                    let row = &self.rows[i];
                    let laid;
                    let row = if widths.is_empty() {
                        row
                    } else {
                        let cells: Vec<&str> = row.cells.iter().map(String::as_str).collect();
                        laid = Row {
                            text: lay_out(&cells, &widths, &self.columns, theme),
                            ..row.clone()
                        };
                        &laid
                    };
                    lines.push(self.row_line(row, position == self.cursor, &query, room, theme));
                }
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    /// The width of each column in `room` (empty for a browser of free
    /// text): the widest cell of each, narrowed column by column, the one
    /// with the most to spare above its minimum first, until the row fits
    /// (see the module's doc).
    fn widths(&self, room: usize) -> Vec<usize> {
        let mut widths = self.natural.clone();
        let gaps = 2 * widths.len().saturating_sub(1);
        let mut total: usize = widths.iter().sum::<usize>() + gaps;
        while total > room {
            let spare = widths
                .iter()
                .zip(&self.columns)
                .enumerate()
                .filter(|(_, (w, c))| **w > c.min)
                .max_by_key(|(i, (w, c))| (**w - c.min, *i));
            let Some((i, _)) = spare else {
                break;
            };
            widths[i] -= 1;
            total -= 1;
        }
        widths
    }

    /// A row wrapped at `room` columns: its mark on the first line, the
    /// text going on under itself.
    fn row_lines<'a>(
        &self,
        row: &Row,
        selected: bool,
        query: &str,
        room: usize,
        theme: &Theme,
    ) -> Vec<Line<'a>> {
        let text: Vec<char> = theme.clean(&expand_tabs(&row.text)).chars().collect();
        let mut lines = Vec::new();
        for (n, part) in text.chunks(room.max(1)).enumerate() {
            let part: String = part.iter().collect();
            let mut line = if n == 0 {
                self.row_line(
                    &Row {
                        text: part,
                        ..row.clone()
                    },
                    selected,
                    query,
                    room,
                    theme,
                )
            } else {
                let mut spans = vec![Span::raw("     ")];
                spans.extend(highlight(&part, query, theme));
                Line::from(spans)
            };
            if selected {
                line = line.style(theme.selected());
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(self.row_line(row, selected, query, room, theme));
        }
        lines
    }

    fn row_line<'a>(
        &self,
        row: &Row,
        selected: bool,
        query: &str,
        room: usize,
        theme: &Theme,
    ) -> Line<'a> {
        let (word, style) = match row.mark {
            Mark::None => ("    ".to_string(), Style::default()),
            Mark::Severity(s) => (severity_word(s).to_string(), theme.severity(s)),
            Mark::Evidence => (format!("{:<4}", theme.marker()), theme.alert()),
            Mark::Word(w) => (format!("{w:<4}"), theme.alert()),
        };
        let mut spans = vec![Span::styled(word, style), Span::raw(" ")];
        let skip = if self.wrap { 0 } else { self.hscroll };
        spans.extend(highlight(
            &fit(&theme.clean(&expand_tabs(&row.text)), skip, room, theme),
            query,
            theme,
        ));
        let line = Line::from(spans);
        if selected {
            line.style(theme.selected())
        } else {
            line
        }
    }
}

/// `cells` in columns of `widths`, two spaces apart: a cell wider than
/// its column is cut and ends in `…` (`$` in ASCII); a right-aligned
/// column is padded on the left; the last cell is not padded on the right.
pub fn lay_out(cells: &[&str], widths: &[usize], columns: &[Column], theme: &Theme) -> String {
    let mark = if theme.ascii { '$' } else { '…' };
    let last = cells.len().min(widths.len());
    let mut out = String::new();
    for (i, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            out.push_str("  ");
        }
        let cell = theme.clean(&expand_tabs(cell));
        let count = cell.chars().count();
        let pad = width.saturating_sub(count);
        if count > width {
            out.extend(cell.chars().take(width.saturating_sub(1)));
            if width > 0 {
                out.push(mark);
            }
        } else if columns.get(i).is_some_and(|c| c.right) {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&cell);
        } else {
            out.push_str(&cell);
            if i + 1 < last {
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
    }
    out
}

/// `text` with its tabs expanded to the next multiple of 8 columns, as
/// a terminal shows a file (`/proc/net/route` is tab-separated).
pub fn expand_tabs(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut column = 0;
    for c in text.chars() {
        if c == '\t' {
            let next = (column / 8 + 1) * 8;
            out.extend(std::iter::repeat_n(' ', next - column));
            column = next;
        } else {
            out.push(c);
            column += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` from column `skip` on, in `room` columns: a text cut on the
/// right ends in `…` (`$` in ASCII, as `less -S` marks it) and one cut on
/// the left starts with it, so a cut never passes for the whole row
/// (issue 25).
pub fn fit(text: &str, skip: usize, room: usize, theme: &Theme) -> String {
    let mark = if theme.ascii { '$' } else { '…' };
    // Trailing blanks are no text: cutting them is no cut.
    let chars: Vec<char> = text.trim_end().chars().collect();
    if room == 0 {
        return String::new();
    }
    let mut shown: Vec<char> = chars.iter().skip(skip).copied().collect();
    if skip > 0 && !shown.is_empty() {
        shown[0] = mark;
    }
    if shown.len() > room {
        shown.truncate(room);
        shown[room - 1] = mark;
    }
    shown.into_iter().collect()
}

/// `text` as spans with every case-insensitive match of `query` styled.
pub fn highlight<'a>(text: &str, query: &str, theme: &Theme) -> Vec<Span<'a>> {
    if query.is_empty() {
        return vec![Span::raw(text.to_string())];
    }
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths (rare outside ASCII): then only
    // the whole line is shown, unhighlighted.
    if lower.len() != text.len() {
        return vec![Span::raw(text.to_string())];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, m) in lower.match_indices(query) {
        if start < at || !text.is_char_boundary(start) || !text.is_char_boundary(start + m.len()) {
            continue;
        }
        spans.push(Span::raw(text[at..start].to_string()));
        spans.push(Span::styled(
            text[start..start + m.len()].to_string(),
            theme.matched(),
        ));
        at = start + m.len();
    }
    spans.push(Span::raw(text[at..].to_string()));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> Browser {
        let rows = (0..10)
            .map(|i| {
                let row = Row::new(format!(
                    "row {i} {}",
                    if i % 3 == 0 { "eth0" } else { "lo" }
                ));
                Row {
                    level: Some(i as u8 % 8),
                    ..row
                }
            })
            .collect();
        Browser::new("h", rows, "none")
    }

    #[test]
    fn filter_search_and_levels() {
        let mut b = browser();
        b.set_filter("ETH0");
        assert_eq!(b.counts(), (4, 10));
        b.set_filter("");
        b.set_search("row 5");
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 5 lo"));
        assert!(b.search_next(true), "wraps to itself");
        b.set_search("eth0");
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 6 eth0"));
        assert!(b.search_next(true));
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 9 eth0"));
        assert!(b.search_next(true));
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 0 eth0"));
        assert!(b.search_next(false));
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 9 eth0"));
        b.set_search("nothing like it");
        assert!(!b.search_next(true));
        b.set_max_level(Some(3));
        assert_eq!(b.counts(), (6, 10), "levels 0..=3 of 0..=7,0,1");
    }

    #[test]
    fn follow_keeps_the_last_row_and_refresh_keeps_the_cursor() {
        let mut b = browser();
        b.move_by(4);
        let rows = b.rows.clone();
        b.set_rows(rows.clone());
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("row 4 lo"));
        b.follow = true;
        let mut more = rows;
        more.push(Row::new("new"));
        b.set_rows(more);
        assert_eq!(b.selected().map(|r| r.text.as_str()), Some("new"));
        b.move_by(-1);
        assert!(!b.follow, "moving up leaves follow mode");
        b.set_rows(Vec::new());
        assert_eq!(b.selected(), None);
        b.move_by(3);
        b.end();
        assert!(!b.next_mark(true) && !b.search_next(false));
    }

    /// Columns take their widest cell; too wide, the one with the most to
    /// spare above its minimum gives first; at every minimum the row is
    /// left wider than the room (the edge marks it).
    #[test]
    fn columns_are_sized_to_the_room() {
        let theme = Theme {
            color: false,
            ascii: true,
        };
        let b = Browser::table(
            vec![
                Column::new("name", 4),
                Column::new("n", 1).right(),
                Column::new("path", 6),
            ],
            vec![
                Row::cells(vec!["eth0".into(), "7".into(), "/etc/x".into()]),
                Row::cells(vec![
                    "bond0.100".into(),
                    "1234".into(),
                    "/etc/sysconfig/network-scripts/ifcfg-bond0.100".into(),
                ]),
            ],
            "none",
        );
        // Everything fits: natural widths (9, 4, 46) plus two gaps of two.
        assert_eq!(b.widths(200), [9, 4, 46]);
        // 40 columns: the path gives first, down to the name's spare (5).
        let w = b.widths(40);
        assert_eq!(w.iter().sum::<usize>() + 4, 40);
        assert_eq!(w, [9, 4, 23]);
        // 20 columns: every column gives some, none below its minimum.
        let w = b.widths(20);
        assert_eq!(w.iter().sum::<usize>() + 4, 20, "{w:?}");
        assert!(w.iter().zip(&b.columns).all(|(w, c)| *w >= c.min), "{w:?}");
        // 5 columns: every column at its minimum, wider than the room.
        assert_eq!(b.widths(5), [4, 1, 6]);
        let cols = &b.columns;
        assert_eq!(
            lay_out(&["bond0.100", "7", "/etc/x"], &[9, 4, 23], cols, &theme),
            "bond0.100     7  /etc/x"
        );
        assert_eq!(
            lay_out(&["bond0.100", "1234", "/etc/x"], &[4, 4, 6], cols, &theme),
            "bon$  1234  /etc/x"
        );
        // Filter and search see every cell, uncut.
        assert!(b.rows[1].text.contains("ifcfg-bond0.100"));
    }
}
