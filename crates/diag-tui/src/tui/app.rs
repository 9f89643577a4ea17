//! The TUI's state (one struct) and its key handling, tested without a
//! terminal. Drawing (`draw.rs`) only reads this state.

use super::browser::{Browser, Row};
use super::model::{Command, Model, Update};
use super::theme::Theme;
use super::views::Area;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Ranked causes, findings per area, skipped inputs, host.
    Overview,
    /// One cause or finding.
    Detail(Target),
    /// A raw input around one line.
    Source,
    /// An area browser.
    Area(Area),
}

/// A cause or a finding of the diagnosis, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `diagnosis.causes[i]`.
    Cause(usize),
    /// `diagnosis.findings[i]`.
    Finding(usize),
}

/// Text being typed at the bottom line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// `/`: search.
    Search(String),
    /// `&`: filter.
    Filter(String),
}

/// A change of the top cause between two refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopChange {
    /// The top cause before (`none` when there was none).
    pub from: String,
    /// The top cause now (`none` when there is none).
    pub to: String,
    /// When the change was seen.
    pub at: SystemTime,
}

/// Every key, as the help overlay lists it: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    (
        "?",
        "this help (j k Space b scroll it, any other key closes it)",
    ),
    ("Tab  Shift-Tab", "next / previous screen"),
    ("1", "overview"),
    (
        "2..9",
        "kernel log, addresses, routes, neighbours, RAID, mounts, interfaces, packets",
    ),
    (
        "j k h l w  arrows",
        "move down / up; scroll long rows sideways; w: wrap",
    ),
    ("Space b  PgDn PgUp", "page down / up"),
    ("g G  Home End", "first / last row"),
    (
        "Enter",
        "open: cause/finding detail, or the source of a row",
    ),
    ("v", "show the source input around the selected line"),
    ("Esc", "back (or cancel typing)"),
    ("/", "search (Enter to keep, Esc to cancel)"),
    ("n N", "next / previous search match"),
    (
        "&",
        "filter: show only rows containing the text (empty: all)",
    ),
    (
        "e E",
        "next / previous marked row (evidence of a finding, OFFL, ...)",
    ),
    ("s", "kernel log: severity filter (all, warn, err, crit)"),
    ("F", "kernel log: follow mode (stay at the newest line)"),
    ("r", "refresh now"),
    ("c", "packet capture in live refreshes on/off"),
];

/// The TUI state.
#[derive(Debug, Clone)]
pub struct App {
    /// Colour and symbols.
    pub theme: Theme,
    /// The refresh interval of a live feed; `None` for a bundle.
    pub interval: Option<Duration>,
    /// The newest model.
    pub model: Option<Arc<Model>>,
    /// The model before it (interface rates).
    pub previous: Option<Arc<Model>>,
    /// The screen shown.
    pub screen: Screen,
    back: Vec<Screen>,
    /// Selected item of the overview (causes, then findings).
    pub overview_cursor: usize,
    /// Selected evidence item of the detail screen.
    pub evidence_cursor: usize,
    /// One browser per area, in [`Area::ALL`] order.
    pub browsers: Vec<Browser>,
    built: Vec<u64>,
    /// The source view: its title and its lines.
    pub source: Option<(String, Browser)>,
    /// Text being typed.
    pub prompt: Option<Prompt>,
    /// The help overlay is shown.
    pub help: bool,
    /// The first help line shown, when the help is taller than the screen
    /// (`j`/`k`, `Space`/`b` scroll it; any other key closes it).
    pub help_scroll: usize,
    /// A collection is running, since then.
    pub refreshing: Option<SystemTime>,
    /// Capture was asked for (`c`).
    pub capture: bool,
    /// The last change of the top cause.
    pub top_change: Option<TopChange>,
    /// The source could not be read at all.
    pub failed: Option<String>,
    /// A one-line message for the status line.
    pub message: Option<String>,
    /// `q` was pressed (or a signal arrived).
    pub quit: bool,
}

impl App {
    /// A new state; `interval` is `None` for a bundle.
    pub fn new(theme: Theme, interval: Option<Duration>) -> App {
        App {
            theme,
            interval,
            model: None,
            previous: None,
            screen: Screen::Overview,
            back: Vec::new(),
            overview_cursor: 0,
            evidence_cursor: 0,
            browsers: Area::ALL.iter().map(|_| Browser::default()).collect(),
            built: vec![0; Area::ALL.len()],
            source: None,
            prompt: None,
            help: false,
            help_scroll: 0,
            refreshing: None,
            capture: false,
            top_change: None,
            failed: None,
            message: None,
            quit: false,
        }
    }

    /// Takes an update from the worker.
    pub fn update(&mut self, update: Update, now: SystemTime) {
        match update {
            Update::Started => self.refreshing = Some(now),
            Update::Failed(reason) => {
                self.refreshing = None;
                self.failed = Some(reason);
            }
            Update::Ready(model) => {
                self.refreshing = None;
                let top = |m: &Model| {
                    m.diagnosis
                        .causes
                        .first()
                        .map(|c| c.id.clone())
                        .unwrap_or_else(|| "none".into())
                };
                if let Some(old) = &self.model {
                    let (from, to) = (top(old), top(&model));
                    if from != to {
                        self.top_change = Some(TopChange { from, to, at: now });
                    }
                }
                self.previous = self.model.replace(model);
                self.clamp_cursors();
                self.sync_browser();
            }
        }
    }

    fn clamp_cursors(&mut self) {
        let Some(model) = &self.model else { return };
        let d = &model.diagnosis;
        let items = d.causes.len() + d.findings.len();
        self.overview_cursor = self.overview_cursor.min(items.saturating_sub(1));
        if let Screen::Detail(target) = self.screen {
            let exists = match target {
                Target::Cause(i) => i < d.causes.len(),
                Target::Finding(i) => i < d.findings.len(),
            };
            if !exists {
                self.screen = Screen::Overview;
                self.back.clear();
            }
        }
    }

    /// Builds the shown area's browser from the newest model when it is
    /// older (browsers are built when shown, not on every refresh).
    fn sync_browser(&mut self) {
        let (Screen::Area(area), Some(model)) = (self.screen, &self.model) else {
            return;
        };
        let i = area_index(area);
        if self.built[i] == model.generation {
            return;
        }
        let first = self.built[i] == 0;
        let fresh = area.browser(model, self.previous.as_deref(), &self.theme);
        self.browsers[i].header = fresh.header;
        self.browsers[i].columns = fresh.columns;
        self.browsers[i].note = fresh.note;
        self.browsers[i].empty = fresh.empty;
        self.browsers[i].set_rows(fresh.rows);
        self.built[i] = model.generation;
        if first && area == Area::Kernel {
            // Opened at the evidence (the first marked line), else at the
            // newest line; not at line 1 of the boot (issue 25).
            let browser = &mut self.browsers[i];
            browser.end();
            browser.next_mark(true);
        }
    }

    /// The cause or finding of a target.
    pub fn target_title(&self, target: Target) -> Option<(&str, &[diag_core::model::Evidence])> {
        let d = &self.model.as_ref()?.diagnosis;
        match target {
            Target::Cause(i) => d.causes.get(i).map(|c| (c.id.as_str(), &c.evidence[..])),
            Target::Finding(i) => d.findings.get(i).map(|f| (f.id.as_str(), &f.evidence[..])),
        }
    }

    fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            self.back.push(self.screen);
            if self.back.len() > 32 {
                self.back.remove(0);
            }
            self.screen = screen;
        }
        self.sync_browser();
    }

    /// The top-level screens in Tab order.
    fn tabs() -> Vec<Screen> {
        std::iter::once(Screen::Overview)
            .chain(Area::ALL.iter().map(|&a| Screen::Area(a)))
            .collect()
    }

    fn tab(&mut self, forward: bool) {
        let tabs = App::tabs();
        let n = tabs.len();
        let at = tabs.iter().position(|s| *s == self.screen);
        let next = match (at, forward) {
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
            (None, _) => 0,
        };
        self.back.clear();
        self.screen = tabs[next];
        self.sync_browser();
    }

    /// The browser of the screen shown, if it has one.
    pub fn browser_mut(&mut self) -> Option<&mut Browser> {
        match self.screen {
            Screen::Area(area) => self.browsers.get_mut(area_index(area)),
            Screen::Source => self.source.as_mut().map(|(_, b)| b),
            _ => None,
        }
    }

    /// Handles one key; returns what to ask of the worker, if anything.
    pub fn key(&mut self, key: KeyEvent) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        self.message = None;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return None;
        }
        if self.help {
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => self.help_scroll += 1,
                KeyCode::Char(' ') | KeyCode::PageDown => self.help_scroll += 10,
                KeyCode::Char('k') | KeyCode::Up => {
                    self.help_scroll = self.help_scroll.saturating_sub(1);
                }
                KeyCode::Char('b') | KeyCode::PageUp => {
                    self.help_scroll = self.help_scroll.saturating_sub(10);
                }
                _ => self.help = false,
            }
            return None;
        }
        if self.prompt.is_some() {
            self.prompt_key(key);
            return None;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => {
                self.help = true;
                self.help_scroll = 0;
            }
            KeyCode::Tab => self.tab(true),
            KeyCode::BackTab => self.tab(false),
            KeyCode::Char('1') => {
                self.back.clear();
                self.screen = Screen::Overview;
            }
            KeyCode::Char(d @ '2'..='9') => {
                let i = usize::from(d as u8 - b'2');
                self.back.clear();
                self.screen = Screen::Area(Area::ALL[i]);
                self.sync_browser();
            }
            KeyCode::Esc => {
                if let Some(screen) = self.back.pop() {
                    self.screen = screen;
                    self.sync_browser();
                }
            }
            // A bundle is read once: nothing to refresh or capture (issue
            // 25: `c` said "capture on" over a bundle).
            KeyCode::Char('r' | 'c') if self.interval.is_none() => {
                self.message = Some(
                    "a bundle is read once: no refresh, no capture (`diag tui` shows the live host)"
                        .into(),
                );
            }
            KeyCode::Char('r') => {
                self.message = Some("refreshing".into());
                return Some(Command::Refresh);
            }
            KeyCode::Char('c') => {
                self.capture = !self.capture;
                self.message = Some(if self.capture {
                    "capture on: the next refreshes capture packets (needs CAP_NET_RAW)".into()
                } else {
                    "capture off".into()
                });
                return Some(Command::SetCapture(self.capture));
            }
            _ => self.screen_key(key),
        }
        None
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = &mut self.prompt else {
            return;
        };
        let text = match prompt {
            Prompt::Search(t) | Prompt::Filter(t) => t,
        };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL) && text.len() < 200 =>
            {
                text.push(c);
            }
            KeyCode::Enter => {
                let prompt = self.prompt.take();
                let Some(browser) = self.browser_mut() else {
                    return;
                };
                match prompt {
                    Some(Prompt::Search(text)) => {
                        browser.set_search(&text);
                        if !text.is_empty() && !browser.on_match() {
                            self.message = Some(format!("no match for {text}"));
                        }
                    }
                    Some(Prompt::Filter(text)) => browser.set_filter(&text),
                    None => {}
                }
            }
            _ => {}
        }
    }

    fn screen_key(&mut self, key: KeyEvent) {
        let page = 10;
        let delta: Option<isize> = match key.code {
            KeyCode::Char('j') | KeyCode::Down => Some(1),
            KeyCode::Char('k') | KeyCode::Up => Some(-1),
            KeyCode::Char(' ') | KeyCode::PageDown => Some(page),
            KeyCode::Char('b') | KeyCode::PageUp => Some(-page),
            KeyCode::Char('g') | KeyCode::Home => Some(isize::MIN / 2),
            KeyCode::Char('G') | KeyCode::End => Some(isize::MAX / 2),
            _ => None,
        };
        match self.screen {
            Screen::Overview => {
                if let Some(delta) = delta {
                    self.overview_cursor = self.overview_cursor.saturating_add_signed(delta);
                    self.clamp_cursors();
                } else if key.code == KeyCode::Enter {
                    if let Some(target) = self.overview_target() {
                        self.evidence_cursor = 0;
                        self.go(Screen::Detail(target));
                    }
                }
            }
            Screen::Detail(target) => {
                // The cursor is on the evidence as shown: identical lines
                // collapsed into one row (`collapsed_evidence`).
                let shown = self
                    .target_title(target)
                    .map(|(_, e)| diag_core::report::collapsed_evidence(e))
                    .unwrap_or_default();
                let count = shown.len();
                if let Some(delta) = delta {
                    self.evidence_cursor = self
                        .evidence_cursor
                        .saturating_add_signed(delta)
                        .min(count.saturating_sub(1));
                } else if matches!(key.code, KeyCode::Enter | KeyCode::Char('v')) {
                    let evidence = self
                        .target_title(target)
                        .and_then(|(_, e)| {
                            shown
                                .get(self.evidence_cursor)
                                .and_then(|&(i, _, _)| e.get(i))
                        })
                        .and_then(|e| Some((e.input.clone(), e.line?)));
                    match evidence {
                        Some((input, line)) => self.open_source(&input, line),
                        None => self.message = Some("this evidence has no line to show".into()),
                    }
                }
            }
            Screen::Area(_) | Screen::Source => self.browser_key(key, delta),
        }
    }

    fn browser_key(&mut self, key: KeyEvent, delta: Option<isize>) {
        let is_kernel = self.screen == Screen::Area(Area::Kernel);
        let mut open = None;
        let mut message = None;
        let mut prompt = None;
        let Some(browser) = self.browser_mut() else {
            return;
        };
        if let Some(delta) = delta {
            match key.code {
                KeyCode::Char('g') | KeyCode::Home => browser.home(),
                KeyCode::Char('G') | KeyCode::End => browser.end(),
                _ => browser.move_by(delta),
            }
            return;
        }
        match key.code {
            KeyCode::Char('/') => prompt = Some(Prompt::Search(String::new())),
            KeyCode::Char('&') => prompt = Some(Prompt::Filter(browser.filter.clone())),
            KeyCode::Char('n') | KeyCode::Char('N') => {
                if browser.search.is_empty() {
                    message = Some("no search: press / first".to_string());
                } else if !browser.search_next(key.code == KeyCode::Char('n')) {
                    message = Some(format!("no match for {}", browser.search));
                }
            }
            KeyCode::Char('e') | KeyCode::Char('E')
                if !browser.next_mark(key.code == KeyCode::Char('e')) =>
            {
                message = Some("no marked row".to_string());
            }
            KeyCode::Char('s') if is_kernel => {
                let next = match browser.max_level {
                    None => Some(4),
                    Some(4) => Some(3),
                    Some(3) => Some(2),
                    _ => None,
                };
                browser.set_max_level(next);
            }
            // Horizontal scrolling of long rows (issue 25): the mark
            // column stays, the text moves by 16 columns.
            KeyCode::Char('l') | KeyCode::Right => browser.hscroll += 16,
            KeyCode::Char('h') | KeyCode::Left => {
                browser.hscroll = browser.hscroll.saturating_sub(16);
            }
            KeyCode::Char('w') => browser.wrap = !browser.wrap,
            KeyCode::Char('F') if is_kernel => {
                browser.follow = !browser.follow;
                if browser.follow {
                    browser.end();
                }
            }
            KeyCode::Enter | KeyCode::Char('v') => match browser.selected() {
                Some(Row {
                    source: Some(s), ..
                }) => open = Some((s.input.clone(), s.line)),
                Some(_) => message = Some("this row has no source line".to_string()),
                None => {}
            },
            _ => {}
        }
        if prompt.is_some() {
            self.prompt = prompt;
        }
        if message.is_some() {
            self.message = message;
        }
        if let Some((input, line)) = open {
            if self.screen != Screen::Source {
                self.open_source(&input, line);
            }
        }
    }

    /// The cause or finding under the overview cursor.
    pub fn overview_target(&self) -> Option<Target> {
        let d = &self.model.as_ref()?.diagnosis;
        let i = self.overview_cursor;
        if i < d.causes.len() {
            Some(Target::Cause(i))
        } else if i - d.causes.len() < d.findings.len() {
            Some(Target::Finding(i - d.causes.len()))
        } else {
            None
        }
    }

    /// Opens the source view of `input` at `line`.
    pub fn open_source(&mut self, input: &str, line: u32) {
        let Some(model) = &self.model else { return };
        let Some(text) = model.snapshot.text(input) else {
            self.message = Some(format!("{input} is not in this snapshot"));
            return;
        };
        let rows = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let number = i + 1;
                let row = Row::new(format!("{number:>6} {l}"));
                if number == line as usize {
                    row.mark(super::browser::Mark::Evidence)
                } else {
                    row
                }
            })
            .collect();
        let mut browser = Browser::new("  line text", rows, "(empty input)");
        browser.goto_row((line as usize).saturating_sub(1));
        self.source = Some((format!("{input}:{line}"), browser));
        self.go(Screen::Source);
    }
}

/// The index of an area in [`Area::ALL`].
pub fn area_index(area: Area) -> usize {
    Area::ALL.iter().position(|a| *a == area).unwrap_or(0)
}
