//! Drawing: reads the [`App`] state, never changes it.
//!
//! ```text
//! diag live · host · kernel · up 3d · 14:05Z     (stale: live, STALE 9s)
//! 1 Overview 2 Kernel 3 Addrs 4 Routes 5 Neigh 6 RAID 7 Mounts 8 Ifaces 9 Pkts
//! +- body: overview, detail, source view or an area browser ----------------+
//! |                                                                          |
//! +--------------------------------------------------------------------------+
//! status: typed search, a message, a top-cause change, or the key hints
//! ```
//!
//! Text that changes by itself (a stale snapshot's age, the minute of the
//! last reading) is coarse on purpose: an idle screen redraws only when a
//! visible character changes.

use super::app::{App, Prompt, Screen, Target, KEYS};
use super::browser::highlight;
use super::model::age;
use super::theme::{severity_word, Theme};
use super::views::Area;
use diag_core::report::plain;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Short tab names, so the tab line fits 80 columns.
fn tab_name(screen: Screen) -> &'static str {
    match screen {
        Screen::Area(Area::Kernel) => "Kernel",
        Screen::Area(Area::Addresses) => "Addrs",
        Screen::Area(Area::Routes) => "Routes",
        Screen::Area(Area::Neighbours) => "Neigh",
        Screen::Area(Area::Raid) => "RAID",
        Screen::Area(Area::Mounts) => "Mounts",
        Screen::Area(Area::Interfaces) => "Ifaces",
        Screen::Area(Area::Packets) => "Pkts",
        _ => "Overview",
    }
}

/// Draws the whole screen at time `now`.
pub fn draw(frame: &mut Frame, app: &App, now: SystemTime) {
    let area = frame.area();
    let [header, tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(cut_line(header_line(app, now), header.width, &app.theme)),
        header,
    );
    frame.render_widget(Paragraph::new(tab_line(app)), tabs);
    match app.screen {
        Screen::Overview => overview(frame, app, body),
        Screen::Detail(target) => detail(frame, app, target, body),
        Screen::Source => {
            if let Some((title, browser)) = &app.source {
                browser.render(frame, body, &format!("source {title}"), &app.theme);
            }
        }
        Screen::Area(a) => {
            let i = super::app::area_index(a);
            app.browsers[i].render(frame, body, a.name(), &app.theme);
        }
    }
    frame.render_widget(Paragraph::new(status_line(app)), status);
    if app.help {
        help(frame, app, area);
    }
}

/// A duration in one coarse unit: `42s`, `5m`, `3h`, `2d`.
pub fn coarse(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn header_line(app: &App, now: SystemTime) -> Line<'static> {
    let t = &app.theme;
    let dot = format!(" {} ", t.dot());
    let mut spans = vec![Span::styled("diag ", t.heading())];
    let Some(model) = &app.model else {
        let text = match &app.failed {
            Some(reason) => format!("cannot read the source: {}", t.clean(reason)),
            None => "collecting...".to_string(),
        };
        spans.push(Span::styled(text, t.alert()));
        return Line::from(spans);
    };
    let d = &model.diagnosis;
    // What ages comes first: on 80 columns the end of the line is cut.
    match app.interval {
        Some(interval) => {
            // Fresh, it says only "live": an age counting up every second
            // wrote ~87 B/s to an idle serial line (issue 25). Stale (three
            // refreshes missed: a collector hangs, or the machine is too
            // busy to run the worker), it says how old the picture is.
            let age = age(model, now);
            if age > interval * 3 + model.took {
                spans.push(Span::raw("live, "));
                spans.push(Span::styled(format!("STALE {}", coarse(age)), t.alert()));
            } else {
                spans.push(Span::raw("live"));
            }
            // Only a slow collection is worth a word: a quick one would
            // make every refresh write to the terminal.
            let since = app.refreshing.and_then(|s| now.duration_since(s).ok());
            if since.is_some_and(|s| s >= Duration::from_secs(1)) {
                spans.push(Span::styled(" refreshing", t.dim()));
            }
        }
        None => spans.push(Span::raw("bundle")),
    }
    let mut fields = vec![
        String::new(),
        d.source.host.clone().unwrap_or_else(|| "host ?".into()),
        d.source.kernel.clone().unwrap_or_else(|| "kernel ?".into()),
    ];
    if let Some(up) = model.snapshot.uptime() {
        fields.push(format!("up {}", coarse(up)));
    }
    // How much was read, and what every host has that this source lacks:
    // a thin bundle shows as thin.
    fields.push(format!("{} inputs", d.source.inputs_read));
    if !d.source.inputs_absent.is_empty() {
        fields.push(format!("no {}", d.source.inputs_absent.join(", ")));
    }
    // A bundle's manifest says when it was collected; without one (a
    // directory of copied files) only the time it was read is known.
    fields.push(match &model.snapshot.manifest {
        Some(m) => format!("collected {}", m.collected_at),
        // Live, to the minute: the seconds of every refresh would be
        // written to the terminal every refresh.
        None if app.interval.is_some() => jiff::Timestamp::try_from(model.snapshot.taken_at)
            .map(|t| t.strftime("%H:%MZ").to_string())
            .unwrap_or_default(),
        None => format!(
            "read {}",
            humantime::format_rfc3339_seconds(model.snapshot.taken_at)
        ),
    });
    if app.interval.is_none() {
        fields.push(d.source.path.clone());
    }
    spans.push(Span::raw(t.clean(&fields.join(&dot))));
    Line::from(spans)
}

/// `line` in `width` columns: a line wider ends in `…` (`$` in ASCII)
/// at the right edge, never cut silently (issue 25).
fn cut_line(line: Line<'static>, width: u16, theme: &Theme) -> Line<'static> {
    let width = usize::from(width);
    if line.width() <= width || width == 0 {
        return line;
    }
    let mark = if theme.ascii { "$" } else { "…" };
    let style = line.style;
    let mut room = width - 1;
    let mut spans = Vec::new();
    for span in line.spans {
        let n = span.content.chars().count();
        if n <= room {
            room -= n;
            spans.push(span);
            continue;
        }
        let kept: String = span.content.chars().take(room).collect();
        spans.push(Span::styled(kept, span.style));
        break;
    }
    spans.push(Span::styled(mark, theme.dim()));
    Line::from(spans).style(style)
}

fn tab_line(app: &App) -> Line<'static> {
    let current = match app.screen {
        Screen::Detail(_) | Screen::Source => Screen::Overview,
        s => s,
    };
    let screens =
        std::iter::once(Screen::Overview).chain(Area::ALL.iter().map(|&a| Screen::Area(a)));
    let mut spans = Vec::new();
    for (i, screen) in screens.enumerate() {
        let label = format!("{} {}", i + 1, tab_name(screen));
        let style = if screen == current {
            app.theme.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn status_line(app: &App) -> Line<'static> {
    let t = &app.theme;
    if let Some(prompt) = &app.prompt {
        let (sign, text) = match prompt {
            Prompt::Search(text) => ("/", text),
            Prompt::Filter(text) => ("&", text),
        };
        return Line::from(format!("{sign}{}_", t.clean(text)));
    }
    if let Some(message) = &app.message {
        return Line::styled(t.clean(message), t.heading());
    }
    if let Some(change) = &app.top_change {
        return Line::styled(
            format!(
                "! top cause changed at {}: {} -> {}",
                humantime::format_rfc3339_seconds(change.at),
                change.from,
                change.to
            ),
            t.alert(),
        );
    }
    let hints = match app.screen {
        Screen::Overview => "? help  q quit  j/k move  Enter detail  Tab/2-9 browsers",
        Screen::Detail(_) => "? help  Esc back  j/k evidence  v/Enter source at the line",
        Screen::Source | Screen::Area(_) => {
            "? help  Esc back  / search  n/N next  & filter  e next mark  v source"
        }
    };
    Line::styled(hints, t.dim())
}

fn boxed(app: &App, title: String) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(app.theme.border())
        .title(Span::styled(title, app.theme.heading()))
}

fn overview(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let block = boxed(app, " Overview ".into());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(model) = &app.model else {
        frame.render_widget(Paragraph::new("collecting..."), inner);
        return;
    };
    let d = &model.diagnosis;
    let width = usize::from(inner.width).max(1);
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    if let Some(change) = &app.top_change {
        lines.push(Line::styled(
            format!("! top cause changed: {} -> {}", change.from, change.to),
            t.alert(),
        ));
    }
    lines.push(Line::styled(
        format!("Causes ({}), most likely first", d.causes.len()),
        t.heading(),
    ));
    let unexplained = d.unexplained();
    if d.causes.is_empty() {
        lines.push(Line::raw(if unexplained.is_empty() {
            "  none: no rule's hypothesis holds"
        } else {
            "  none: the findings marked ? below are unexplained, each its own hypothesis"
        }));
    }
    for (i, c) in d.causes.iter().enumerate() {
        let selected = app.overview_cursor == i;
        if selected {
            selected_line = lines.len();
        }
        let line = Line::from(vec![
            Span::raw(if selected { "> " } else { "  " }),
            Span::styled(severity_word(c.severity), t.severity(c.severity)),
            Span::raw(format!(
                " {:>3}% {} {}",
                (c.confidence * 100.0).round(),
                c.id,
                t.clean(&c.title)
            )),
        ]);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
        if i == 0 {
            for w in wrap(&t.clean(&plain(&c.summary)), width.saturating_sub(8)) {
                lines.push(Line::raw(format!("        {w}")));
            }
            if !c.explains.is_empty() {
                lines.push(Line::styled(
                    format!("        explains: {}", c.explains.join(", ")),
                    t.dim(),
                ));
            }
        }
    }
    let mut areas: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &d.findings {
        *areas
            .entry(f.id.split('.').next().unwrap_or(&f.id))
            .or_default() += 1;
    }
    let by_area: Vec<String> = areas.iter().map(|(a, n)| format!("{a} {n}")).collect();
    lines.push(Line::styled(
        format!(
            "Findings ({}){}{}{}",
            d.findings.len(),
            if by_area.is_empty() { "" } else { " by area: " },
            by_area.join(", "),
            if unexplained.is_empty() {
                ""
            } else {
                "; ? no cause explains it"
            }
        ),
        t.heading(),
    ));
    for (i, f) in d.findings.iter().enumerate() {
        let selected = app.overview_cursor == d.causes.len() + i;
        if selected {
            selected_line = lines.len();
        }
        // `?`: no cause explains it (issue 24, class 11).
        let mark = if unexplained.iter().any(|u| std::ptr::eq(*u, f)) {
            "?"
        } else {
            " "
        };
        let line = Line::from(vec![
            Span::raw(if selected { ">" } else { " " }),
            Span::raw(mark),
            Span::styled(severity_word(f.severity), t.severity(f.severity)),
            Span::raw(format!(" {} {} (x{})", f.id, t.clean(&f.title), f.count)),
        ]);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    lines.push(Line::styled(
        format!("Skipped inputs ({})", d.skipped.len()),
        t.heading(),
    ));
    for s in &d.skipped {
        lines.push(Line::raw(
            t.clean(&format!("  {}: {}", s.collector, s.reason)),
        ));
    }
    if !d.ruled_out.is_empty() {
        lines.push(Line::styled(
            format!("Ruled out ({})", d.ruled_out.len()),
            t.heading(),
        ));
        for r in &d.ruled_out {
            lines.push(Line::raw(t.clean(&format!(
                "  {}: {}",
                r.id,
                plain(&r.reason)
            ))));
        }
    }
    lines.push(Line::styled(
        format!(
            "{} inputs, {} notes, diagnosed in {} ms",
            model.facts.inputs.len(),
            d.notes.len(),
            model.took.as_millis()
        ),
        t.dim(),
    ));
    render_paged(frame, inner, lines, selected_line);
}

/// Renders `lines`, starting at the page that holds `keep`.
fn render_paged(frame: &mut Frame, area: Rect, lines: Vec<Line>, keep: usize) {
    let height = usize::from(area.height).max(1);
    let first = keep / height * height;
    let lines: Vec<Line> = lines.into_iter().skip(first).collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn detail(frame: &mut Frame, app: &App, target: Target, area: Rect) {
    let t = &app.theme;
    let Some(model) = &app.model else { return };
    let d = &model.diagnosis;
    let (kind, id, title, severity, summary, next_steps, evidence, omitted, spans, extra) =
        match target {
            Target::Cause(i) => {
                let Some(c) = d.causes.get(i) else { return };
                (
                    "cause",
                    &c.id,
                    &c.title,
                    c.severity,
                    &c.summary,
                    &c.next_steps,
                    &c.evidence,
                    c.evidence_omitted,
                    model.cause_spans.get(i),
                    format!(
                        "confidence {:.0}%{}",
                        c.confidence * 100.0,
                        if c.explains.is_empty() {
                            String::new()
                        } else {
                            format!(", explains {}", c.explains.join(", "))
                        }
                    ),
                )
            }
            Target::Finding(i) => {
                let Some(f) = d.findings.get(i) else { return };
                (
                    "finding",
                    &f.id,
                    &f.title,
                    f.severity,
                    &f.summary,
                    &f.next_steps,
                    &f.evidence,
                    f.evidence_omitted,
                    model.finding_spans.get(i),
                    format!("{} matching lines or records", f.count),
                )
            }
        };
    let block = boxed(app, format!(" {kind} {id} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width).max(1);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(severity_word(severity), t.severity(severity)),
            Span::raw(format!(" {}", t.clean(title))),
        ]),
        Line::styled(extra, t.dim()),
    ];
    for w in wrap(&t.clean(&plain(summary)), width) {
        lines.push(Line::raw(w));
    }
    if !next_steps.is_empty() {
        lines.push(Line::styled("Next steps", t.heading()));
        for step in next_steps {
            for (n, w) in wrap(&t.clean(&plain(step)), width.saturating_sub(4))
                .into_iter()
                .enumerate()
            {
                lines.push(Line::raw(format!(
                    "{} {w}",
                    if n == 0 { "  -" } else { "   " }
                )));
            }
        }
    }
    lines.push(Line::styled(
        format!(
            "Evidence ({}{})",
            evidence.len(),
            if omitted > 0 {
                format!(", {omitted} more not kept")
            } else {
                String::new()
            }
        ),
        t.heading(),
    ));
    let mut selected_line = 0;
    // Identical lines (the same message at other times) are one row with
    // a count, as in every report; the cursor moves over the rows.
    let rows = diag_core::report::collapsed_evidence(evidence);
    for (row_index, &(i, times, last)) in rows.iter().enumerate() {
        let e = &evidence[i];
        let selected = row_index == app.evidence_cursor;
        if selected {
            selected_line = lines.len();
        }
        let place = match (e.line, e.line_end) {
            (Some(a), Some(b)) if b != a => format!("{}:{a}-{b}", e.input),
            (Some(a), _) => format!("{}:{a}", e.input),
            _ => e.input.clone(),
        };
        let repeated = match (times, last) {
            (1, _) => String::new(),
            (n, Some(last)) => format!(" x{n}, last :{last}"),
            (n, None) => format!(" x{n}"),
        };
        let mut row = vec![
            Span::raw(if selected { "> " } else { "  " }),
            Span::styled(t.clean(&place), t.dim()),
            Span::styled(repeated, t.heading()),
            Span::raw(" "),
        ];
        let excerpt = e.excerpt.lines().next().unwrap_or_default();
        // The kmsg record's prefix (`6,1234,5678,-;`) says nothing the
        // reader needs: the message starts after it.
        let skip = kmsg_prefix_len(&e.input, excerpt);
        let shown = &excerpt[skip..];
        match spans.and_then(|s| s.get(i)).cloned().flatten() {
            Some(range) if range.start >= skip && excerpt.get(range.clone()).is_some() => {
                let range = range.start - skip..range.end - skip;
                row.push(Span::raw(t.clean(&shown[..range.start])));
                row.push(Span::styled(t.clean(&shown[range.clone()]), t.matched()));
                row.push(Span::raw(t.clean(&shown[range.end..])));
            }
            _ => row.extend(highlight(&t.clean(shown), "", t)),
        }
        // Wrapped, never cut at the right edge: the part that matters is
        // often at the end (an AppArmor denial's `name=`).
        for line in wrap_spans(row, width, 4) {
            lines.push(if selected {
                line.style(t.selected())
            } else {
                line
            });
        }
    }
    render_paged(frame, inner, lines, selected_line);
}

fn help(frame: &mut Frame, app: &App, area: Rect) {
    let width = area.width.min(78);
    // The keys' column, then each description word-wrapped beside it.
    let keys_width = 19;
    let text_width = usize::from(width.saturating_sub(2)).saturating_sub(keys_width);
    let mut lines: Vec<Line> = Vec::new();
    for (keys, what) in KEYS {
        for (n, part) in wrap(what, text_width).into_iter().enumerate() {
            let keys = if n == 0 { *keys } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{keys:<keys_width$}"), app.theme.heading()),
                Span::raw(part),
            ]));
        }
    }
    let height = area.height.min(lines.len() as u16 + 2);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    let room = usize::from(height.saturating_sub(2));
    let first = app.help_scroll.min(lines.len().saturating_sub(room));
    let title = if lines.len() > room {
        format!(
            " Keys {}-{} of {} (j k Space b scroll, other keys close) ",
            first + 1,
            (first + room).min(lines.len()),
            lines.len()
        )
    } else {
        " Keys (any key closes) ".into()
    };
    let block = boxed(app, title);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let lines: Vec<Line> = lines.into_iter().skip(first).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Word-wraps `text` at `width` columns (characters); a word longer than
/// the width is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `spans` as lines of at most `width` characters, cut anywhere (log
/// lines and records: every character may matter), continuation lines
/// indented by `indent` spaces; styles kept.
pub fn wrap_spans(spans: Vec<Span<'static>>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(indent + 1);
    let mut lines = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let style = span.style;
        let mut rest: &str = &span.content;
        while !rest.is_empty() {
            if used == width {
                lines.push(Line::from(std::mem::take(&mut current)));
                current.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            let room = width - used;
            let cut = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
            current.push(Span::styled(rest[..cut].to_string(), style));
            used += rest[..cut].chars().count();
            rest = &rest[cut..];
        }
    }
    if !current.is_empty() {
        lines.push(Line::from(current));
    }
    lines
}

/// The length of the `/dev/kmsg` record prefix (`level,seq,usec,flags;`)
/// of a line read from a kmsg input, 0 for any other line.
pub fn kmsg_prefix_len(input: &str, line: &str) -> usize {
    if !input.ends_with("kmsg") {
        return 0;
    }
    let Some(semicolon) = line.find(';') else {
        return 0;
    };
    let fields: Vec<&str> = line[..semicolon].split(',').collect();
    let numeric = |f: &str| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
    if fields.len() >= 4 && fields[..3].iter().all(|f| numeric(f)) {
        semicolon + 1
    } else {
        0
    }
}

/// The header's text at `now`: the one part of the screen that changes
/// with time alone (snapshot age, STALE), so the loop redraws when it
/// differs from what is shown.
pub fn header_text(app: &App, now: SystemTime) -> String {
    header_line(app, now)
        .spans
        .iter()
        .map(|s| s.content.as_ref())
        .collect()
}
