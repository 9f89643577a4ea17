//! Screen and state tests on fixture bundles: every screen at 80x24 and
//! 300x100 (insta snapshots at 80x24), resize storms, no colour and ASCII
//! only, and the bytes a frame writes.

use super::app::{App, Screen};
use super::browser::Mark;
use super::draw::draw;
use super::model::{Feed, Model, Update, Worker};
use super::theme::Theme;
use super::views::Area;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use diag_core::diagnose::rules::RuleSet;
use diag_core::model::Severity;
use diag_core::source::Bundle;
use diag_core::source::{CollectOptions, Input, Snapshot};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const PLAIN: Theme = Theme {
    color: false,
    ascii: true,
};
const RICH: Theme = Theme {
    color: true,
    ascii: false,
};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    workspace().join("fixtures").join(name)
}

fn snapshot(name: &str) -> Snapshot {
    let bundle = Bundle::open(fixture(name)).expect("fixture");
    Snapshot::collect(&bundle, &CollectOptions::default())
}

fn model(snapshot: Snapshot) -> Arc<Model> {
    let rules = RuleSet::builtin().expect("built-in rules");
    Arc::new(Model::new(snapshot, &rules, Duration::ZERO, 1))
}

/// The http6 incident with a real ARP capture from the corpus added, so
/// the packets browser has something to show.
fn http6_with_capture() -> Arc<Model> {
    let mut snap = snapshot("http6-gateway-typo");
    let pcap = workspace().join("tests/corpus/pcap/sgr__hs-arpScan.pcap");
    let bytes = std::fs::read(&pcap).expect("corpus pcap");
    snap.inputs.insert(
        "capture/eth0.pcap".into(),
        Input {
            bytes: bytes.into(),
            truncated: false,
        },
    );
    model(snap)
}

fn app(model: Arc<Model>, theme: Theme) -> App {
    let mut app = App::new(theme, None);
    app.update(Update::Ready(model), SystemTime::now());
    app
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        app.key(KeyEvent::new(code, KeyModifiers::NONE));
    }
}

fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|f| draw(f, app, SystemTime::now()))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Every screen, as the keys that reach it from the overview.
const SCREENS: &[(&str, &str)] = &[
    ("overview", ""),
    ("cause", "\n"),
    ("finding", "j\n"),
    ("finding_2", "jj\n"),
    ("source", "\nv"),
    ("kernel_log", "2"),
    ("kernel_search", "2/overflow\n"),
    ("kernel_filter_warn", "2s&ratelimit\n"),
    ("addresses", "3"),
    ("routes", "4"),
    ("neighbours", "5"),
    ("raid", "6"),
    ("mounts", "7"),
    ("interfaces", "8"),
    ("packets", "9"),
    ("help", "?"),
];

/// The screen text without the header line (it holds the time a bundle
/// was read) and without the diagnosis time.
fn stable_text(buffer: &Buffer) -> String {
    text(buffer)
        .lines()
        .skip(1)
        .map(|l| {
            if let Some(at) = l.find("diagnosed in") {
                format!("{}diagnosed in (time)", &l[..at])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_screen_at_80x24_matches_its_snapshot() {
    let model = http6_with_capture();
    for (name, keys) in SCREENS {
        let mut plain = app(Arc::clone(&model), PLAIN);
        press(&mut plain, keys);
        let screen = stable_text(&render(&plain, 80, 24));
        insta::assert_snapshot!(format!("http6_{name}"), screen);
        // With colour the text is the same: colour adds nothing that is
        // not also written.
        let mut rich = app(
            Arc::clone(&model),
            Theme {
                ascii: true,
                ..RICH
            },
        );
        press(&mut rich, keys);
        assert_eq!(stable_text(&render(&rich, 80, 24)), screen, "{name}");
    }
}

/// Issue 25: the screens an operator reads most, at 132x43 as at 80x24:
/// wrapped evidence, a long kernel-log line scrolled sideways, the help,
/// a bundle's packets.
#[test]
fn key_screens_at_132x43_match_their_snapshots() {
    let model = http6_with_capture();
    for (name, keys) in [
        ("overview", ""),
        ("finding_2", "jj\n"),
        ("kernel_log_scrolled", "2ll"),
        ("packets", "9"),
        ("help", "?"),
    ] {
        let mut plain = app(Arc::clone(&model), PLAIN);
        press(&mut plain, keys);
        let screen = stable_text(&render(&plain, 132, 43));
        insta::assert_snapshot!(format!("http6_132x43_{name}"), screen);
    }
}

/// Issue 25: the table browsers (addresses, neighbours, mounts,
/// interfaces) of a host that has all four, sized to the screen: at 80
/// columns every heading shows, each cut cell ends in the mark, and no
/// row runs past the edge; at 132 nothing needs cutting.
#[test]
fn table_browsers_fit_their_columns_to_the_width() {
    let model = model(snapshot("scenario-000-aliases-ifcfg"));
    let tables: [(&str, &str, &[&str]); 4] = [
        (
            "addresses",
            "3",
            &["expected", "iface", "bound", "served", "config file:line"],
        ),
        ("neighbours", "5", &["neighbour", "dev", "lladdr", "state"]),
        (
            "mounts",
            "7",
            &["mount point", "type", "used", "inodes", "device"],
        ),
        (
            "interfaces",
            "8",
            &[
                "iface",
                "state",
                "rx",
                "rx packets",
                "tx",
                "tx packets",
                "errors",
                "drops",
            ],
        ),
    ];
    for (name, key, headings) in tables {
        let mut plain = app(Arc::clone(&model), PLAIN);
        press(&mut plain, key);
        let screen = stable_text(&render(&plain, 80, 24));
        insta::assert_snapshot!(format!("aliases_ifcfg_{name}"), screen);
        let lines: Vec<&str> = screen.lines().collect();
        // Under the tabs: the box's title, then the headings.
        let header = lines[2];
        for heading in headings {
            assert!(
                header.contains(heading),
                "{name}: {heading:?} in {header:?}"
            );
        }
        // Every line inside the box ends at its border: nothing cut
        // silently (a cut row ends in `$` before the border).
        assert!(lines[2..21].iter().all(|l| l.ends_with('|')), "{screen}");
        let wide = stable_text(&render(&plain, 132, 43));
        assert!(
            !wide
                .lines()
                .any(|l| l.trim_end_matches('|').trim_end().ends_with('$')),
            "{name} at 132 columns cut a cell: {wide}"
        );
    }
}

/// Issue 25: the header line (host, kernel, inputs, when, the bundle's
/// path) is longer than 80 columns for a bundle: it ends in the mark at
/// the edge instead of being cut silently; at 300 columns it is whole.
#[test]
fn a_header_wider_than_the_screen_ends_in_the_mark() {
    let model = http6_with_capture();
    let plain = app(Arc::clone(&model), PLAIN);
    let narrow = text(&render(&plain, 80, 24));
    let first = narrow.lines().next().expect("header");
    assert_eq!(first.chars().count(), 80, "{first:?}");
    assert!(first.ends_with('$'), "{first:?}");
    let wide = text(&render(&plain, 300, 24));
    let first = wide.lines().next().expect("header").trim_end();
    assert!(
        !first.ends_with('$') && first.contains("http6-gateway-typo"),
        "{first:?}"
    );
}

#[test]
fn screens_show_what_the_facts_hold() {
    let model = http6_with_capture();
    let shown = |keys: &str, w, h| {
        let mut a = app(Arc::clone(&model), PLAIN);
        press(&mut a, keys);
        text(&render(&a, w, h))
    };
    let overview = shown("", 300, 100);
    assert!(
        overview.contains("route.gateway-misconfigured"),
        "{overview}"
    );
    assert!(overview.contains("CRIT"), "{overview}");
    assert!(
        overview.contains("by area: capture 2, kmsg 1, neigh 1"),
        "{overview}"
    );
    let source = shown("\nv", 80, 24);
    assert!(source.contains("source proc/net/route:2"), "{source}");
    assert!(
        source.contains("*         2 eth0     00000000        00000000"),
        "{source}"
    );
    let kernel = shown("2/overflow\n", 80, 24);
    assert!(kernel.contains("/overflow"), "{kernel}");
    assert!(kernel.contains("* ") && kernel.contains("Neighbour table overflow"));
    let packets = shown("9", 300, 100);
    assert!(packets.contains("capture/eth0.pcap"), "{packets}");
    assert!(packets.contains("arp"), "{packets}");
    let routes = shown("4", 80, 24);
    assert!(
        routes.contains("*    default dev eth0"),
        "evidence marked: {routes}"
    );
}

#[test]
fn raid_mounts_and_neighbours_on_their_fixtures() {
    let raid = app(model(snapshot("md-raid5-degraded-spare-rebuilding")), PLAIN);
    let mut a = raid.clone();
    press(&mut a, "6");
    let screen = text(&render(&a, 120, 40));
    assert!(screen.contains("md"), "{screen}");
    assert!(screen.contains("recovery [#"), "progress bar: {screen}");
    // Issue 25: `[3/4]` of ours beside mdstat's `[4/3]` read as a
    // contradiction; ours is in words.
    assert!(screen.contains("3 of 4 working"), "{screen}");
    assert!(!screen.contains("[3/4]"), "{screen}");
    assert!(
        screen.contains("WARN") || screen.contains("CRIT"),
        "{screen}"
    );
    let mut fs = app(model(snapshot("fs-full-and-hung-nfs")), PLAIN);
    press(&mut fs, "7");
    let screen = text(&render(&fs, 120, 40));
    assert!(
        screen.contains("TIMED OUT") || screen.contains('%'),
        "{screen}"
    );
}

/// The marked rows of an area: the mark and the row's first word.
fn marks(model: &Model, area: Area) -> Vec<(Mark, String)> {
    area.browser(model, None, &PLAIN)
        .rows
        .iter()
        .filter(|r| r.mark != Mark::None)
        .map(|r| {
            let first = r.text.split_whitespace().next().unwrap_or_default();
            (r.mark, first.to_string())
        })
        .collect()
}

fn mark(severity: Severity, first: &str) -> (Mark, String) {
    (Mark::Severity(severity), first.to_string())
}

/// A severity on an address, an md array or a mount is the diagnosis':
/// the highest severity of the causes and findings whose evidence cites
/// the row's record, and none when no rule cites it.
#[test]
fn row_severities_come_from_the_diagnosis() {
    let rules = RuleSet::builtin().expect("built-in rules");
    let diagnosed = |name: &str| Model::new(snapshot(name), &rules, Duration::ZERO, 1);
    let undiagnosed = |name: &str| {
        let mut model = diagnosed(name);
        model.diagnosis.causes.clear();
        model.diagnosis.findings.clear();
        model
    };
    let word = |w: &'static str, first: &str| (Mark::Word(w), first.to_string());

    // fs.mount-not-responding, fs.space-full (critical), fs.inodes-low
    // (warning); the read-only image is only named.
    let fs = diagnosed("fs-full-and-hung-nfs");
    assert_eq!(
        marks(&fs, Area::Mounts),
        [
            mark(Severity::Critical, "/var"),
            mark(Severity::Warning, "/var/spool"),
            mark(Severity::Critical, "/mnt/backup"),
            word("RO", "/snap/core22/1380"),
        ],
    );
    // addr.configured-not-bound is critical when a service listens on the
    // missing addresses, a warning when nothing serves or names them.
    let ifcfg = marks(&diagnosed("scenario-000-aliases-ifcfg"), Area::Addresses);
    assert_eq!(ifcfg.len(), 4, "{ifcfg:?}");
    assert!(ifcfg
        .iter()
        .all(|(m, _)| *m == Mark::Severity(Severity::Critical)));
    assert_eq!(
        marks(
            &diagnosed("service-bind-failed-address-not-bound"),
            Area::Addresses
        ),
        [mark(Severity::Warning, "192.0.2.77/24")],
    );
    // md.array-failed; md.sync-in-progress (info) on a check.
    assert_eq!(
        marks(&diagnosed("md-raid5-failed"), Area::Raid)[0],
        mark(Severity::Critical, "md3"),
    );
    assert_eq!(
        marks(&diagnosed("md-check-running"), Area::Raid),
        [mark(Severity::Info, "md201")],
    );
    assert_eq!(marks(&diagnosed("md-raid1-clean"), Area::Raid), []);

    // The same facts without a diagnosis: no severity anywhere.
    assert_eq!(
        marks(&undiagnosed("fs-remounted-read-only"), Area::Mounts),
        [word("RO", "/home"), word("RO", "/snap/core22/1380")],
    );
    for (name, area) in [
        ("md-raid5-failed", Area::Raid),
        ("scenario-000-aliases-cpanel-ips", Area::Addresses),
        ("fs-full-and-hung-nfs", Area::Mounts),
    ] {
        let model = undiagnosed(name);
        let severities: Vec<_> = marks(&model, area)
            .into_iter()
            .filter(|(m, _)| matches!(m, Mark::Severity(_)))
            .collect();
        assert_eq!(severities, [], "{name}");
    }
}

#[test]
fn resize_storms_never_panic() {
    let sizes = [
        (80, 24),
        (1, 1),
        (0, 0),
        (300, 100),
        (0, 24),
        (80, 0),
        (2, 1),
        (10, 3),
        (79, 23),
        (1, 100),
        (300, 1),
        (5, 5),
    ];
    let model = http6_with_capture();
    for theme in [PLAIN, RICH] {
        for (name, keys) in SCREENS {
            let mut a = app(Arc::clone(&model), theme);
            press(&mut a, keys);
            let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
            for (w, h) in sizes.iter().chain(sizes.iter().rev()) {
                terminal.backend_mut().resize(*w, *h);
                terminal
                    .draw(|f| draw(f, &a, SystemTime::now()))
                    .unwrap_or_else(|e| panic!("{name} at {w}x{h}: {e}"));
                // Keys between resizes, as a user would press them.
                press(&mut a, "jG");
            }
        }
    }
}

#[test]
fn no_colour_and_ascii_write_neither() {
    let models = [
        http6_with_capture(),
        model(snapshot("md-raid5-degraded-spare-rebuilding")),
        model(snapshot("healthy-vm")),
    ];
    for model in models {
        for (name, keys) in SCREENS {
            let mut a = app(Arc::clone(&model), PLAIN);
            press(&mut a, keys);
            for (w, h) in [(80, 24), (300, 100)] {
                let buffer = render(&a, w, h);
                for cell in buffer.content() {
                    assert!(
                        cell.fg == Color::Reset && cell.bg == Color::Reset,
                        "{name}: colour in {cell:?}"
                    );
                    assert!(cell.symbol().is_ascii(), "{name}: {:?}", cell.symbol());
                }
            }
        }
    }
    // And colour is used when allowed (so the test above can fail).
    let buffer = render(&app(http6_with_capture(), RICH), 80, 24);
    assert!(buffer.content().iter().any(|c| c.fg != Color::Reset));
    assert!(buffer.content().iter().any(|c| !c.symbol().is_ascii()));
}

#[test]
fn keys_navigate_and_come_back() {
    let mut a = app(http6_with_capture(), PLAIN);
    press(&mut a, "\t");
    assert_eq!(a.screen, Screen::Area(Area::Kernel));
    a.key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE));
    assert_eq!(a.screen, Screen::Overview);
    press(&mut a, "\nv");
    assert_eq!(a.screen, Screen::Source);
    press(&mut a, "\x1b\x1b");
    assert_eq!(a.screen, Screen::Overview);
    press(&mut a, "2F");
    let browser = &a.browsers[0];
    assert!(browser.follow);
    assert_eq!(browser.counts().0, 11);
    press(&mut a, "s");
    assert_eq!(a.browsers[0].max_level, Some(4));
    press(&mut a, "?");
    assert!(a.help);
    press(&mut a, "x");
    assert!(!a.help && !a.quit, "any key closes help, and only that");
    press(&mut a, "/zzz-nothing\n");
    assert_eq!(a.message.as_deref(), Some("no match for zzz-nothing"));
    // Live (a refresh interval), `c` turns the capture on.
    a.interval = Some(std::time::Duration::from_secs(2));
    assert_eq!(
        a.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)),
        Some(super::model::Command::SetCapture(true))
    );
    a.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(a.quit);
}

#[test]
fn a_new_top_cause_is_marked() {
    let mut a = app(model(snapshot("healthy-vm")), PLAIN);
    a.update(Update::Ready(http6_with_capture()), SystemTime::now());
    let change = a.top_change.clone().expect("marked");
    assert_eq!(change.to, "route.gateway-misconfigured");
    let screen = text(&render(&a, 80, 24));
    assert!(screen.contains("! top cause changed"), "{screen}");
}

/// A `Write` that counts bytes.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn counting_terminal(counter: &Counter) -> Terminal<CrosstermBackend<Counter>> {
    Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .expect("terminal")
}

/// Bytes per frame at 80x24 (numbers in docs/tui.md; run with
/// `--nocapture` to see them).
#[test]
fn frames_at_80x24_write_a_few_kilobytes_and_repeats_nothing() {
    for (theme, live) in [(PLAIN, false), (RICH, false), (RICH, true)] {
        let mut a = app(http6_with_capture(), theme);
        if live {
            a.interval = Some(std::time::Duration::from_secs(2));
        }
        let counter = Counter::default();
        let mut terminal = counting_terminal(&counter);
        let mut frame = |a: &App| {
            let before = counter.0.load(Ordering::Relaxed);
            terminal
                .draw(|f| draw(f, a, SystemTime::now()))
                .expect("draw");
            counter.0.load(Ordering::Relaxed) - before
        };
        let full = frame(&a);
        let again = frame(&a);
        press(&mut a, "j");
        let move_down = frame(&a);
        press(&mut a, "2");
        let kernel = frame(&a);
        press(&mut a, "?");
        let help = frame(&a);
        eprintln!(
            "theme {theme:?} live {live}: overview {full} B, same frame again {again} B, j {move_down} B, kernel log {kernel} B, help {help} B"
        );
        // Issue 25's serial budget: a first frame within 3 KB (live too;
        // it was 3,308 B), an overlay within 4.
        for (what, bytes, most) in [
            ("full", full, 3072),
            ("kernel", kernel, 3072),
            ("help", help, 4096),
        ] {
            assert!(bytes <= most, "{what}: {bytes} bytes");
        }
        // Only the cursor is hidden and placed again: the loop does not even
        // do that when nothing changed (see the next test).
        assert!(again <= 32, "an unchanged frame wrote {again} bytes");
        assert!(
            move_down <= 1024,
            "moving the cursor wrote {move_down} bytes"
        );
    }
}

/// The real loop, fed by the real worker on a bundle: once the diagnosis
/// is on screen, idle ticks write nothing at all.
#[test]
fn the_idle_loop_writes_nothing() {
    let counter = Counter::default();
    let mut terminal = counting_terminal(&counter);
    let mut a = App::new(PLAIN, None);
    let worker = Worker::start(
        Feed::Bundle(fixture("http6-gateway-typo")),
        RuleSet::builtin().expect("rules"),
        CollectOptions::default(),
    );
    let stop = AtomicBool::new(false);
    let mut calls = 0;
    let mut at_shown = 0;
    let mut idle_bytes = None;
    super::event_loop(&mut terminal, &mut a, &worker, &stop, |_| {
        calls += 1;
        std::thread::sleep(Duration::from_millis(20));
        let written = counter.0.load(Ordering::Relaxed);
        if calls == 400 {
            return Ok(Some(Event::Key(KeyEvent::new(
                KeyCode::Char('q'),
                KeyModifiers::NONE,
            ))));
        }
        if calls == 300 {
            idle_bytes = Some(written - at_shown);
        }
        if calls == 200 {
            at_shown = written;
        }
        Ok(None)
    })
    .expect("loop");
    assert!(a.model.is_some(), "the worker delivered within 4 s");
    assert_eq!(idle_bytes, Some(0), "100 idle ticks wrote bytes");
}

/// Issue 25: the help overlay was cut at every size ("interfaces,
/// packets" lost). Its descriptions wrap beside the keys, and on a screen
/// too short for it the title says which lines show and `j` scrolls on.
#[test]
fn the_help_wraps_and_scrolls_on_a_short_screen() {
    let model = http6_with_capture();
    let mut a = app(Arc::clone(&model), PLAIN);
    press(&mut a, "?");
    let tall = text(&render(&a, 80, 40));
    assert!(tall.contains("interfaces, packets"), "{tall}");
    assert!(tall.contains("Keys (any key closes)"), "{tall}");
    let short = text(&render(&a, 80, 12));
    assert!(short.contains("Keys 1-10 of 22"), "{short}");
    assert!(!short.contains("packet capture in live"), "{short}");
    press(&mut a, "jjjjjjjjjjjj");
    assert!(a.help, "j scrolls, it does not close");
    let scrolled = text(&render(&a, 80, 12));
    assert!(scrolled.contains("Keys 13-22 of 22"), "{scrolled}");
    assert!(scrolled.contains("packet capture in live"), "{scrolled}");
    press(&mut a, "x");
    assert!(!a.help, "any other key closes it");
}

/// Issue 25: evidence was cut at the right edge (an AppArmor denial lost
/// its `name=`): it wraps, and a kmsg record shows its message without the
/// `level,seq,usec,flags;` prefix.
#[test]
fn evidence_wraps_and_drops_the_kmsg_prefix() {
    let screen = finding_detail("fs-remounted-read-only", 60, 40, |e| e.input == "dev/kmsg");
    assert!(screen.contains("dev/kmsg:"), "{screen}");
    assert!(
        !regex::Regex::new(r"dev/kmsg:\d+ \d+,\d+,\d+,")
            .expect("pattern")
            .is_match(&screen),
        "kmsg prefix shown: {screen}"
    );
    // The capture finding's lines end "(42 bytes on the wire)": at 60
    // columns that is on a continuation line, not cut.
    let screen = finding_detail("", 60, 40, |e| e.excerpt.contains("bytes on the wire"));
    assert!(screen.contains("bytes on the wire)"), "{screen}");
}

/// The detail screen, at `width`x`height`, of the first finding of
/// `fixture` (empty: the http6 bundle with its capture) with evidence
/// that `cites` accepts.
fn finding_detail(
    fixture: &str,
    width: u16,
    height: u16,
    cites: impl Fn(&diag_core::model::Evidence) -> bool,
) -> String {
    let model = if fixture.is_empty() {
        http6_with_capture()
    } else {
        model(snapshot(fixture))
    };
    let finding = model
        .diagnosis
        .findings
        .iter()
        .position(|f| f.evidence.iter().any(&cites))
        .expect("a finding citing such evidence");
    let mut a = app(Arc::clone(&model), PLAIN);
    for _ in 0..model.diagnosis.causes.len() + finding {
        press(&mut a, "j");
    }
    press(&mut a, "\n");
    text(&render(&a, width, height))
}

#[test]
fn wrap_spans_cuts_at_the_width_and_keeps_styles() {
    use ratatui::style::{Modifier, Style};
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let lines = super::draw::wrap_spans(
        vec![
            ratatui::text::Span::raw("abcdef"),
            ratatui::text::Span::styled("ghijkl", bold),
        ],
        5,
        2,
    );
    let texts: Vec<String> = lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    assert_eq!(texts, ["abcde", "  fgh", "  ijk", "  l"]);
    assert_eq!(lines[1].spans[2].style, bold);
    assert_eq!(lines[1].spans[1].style, Style::default());
}

#[test]
fn kmsg_prefix_is_recognised_only_on_kmsg_records() {
    use super::draw::kmsg_prefix_len;
    assert_eq!(kmsg_prefix_len("dev/kmsg", "6,1234,5678,-;hello"), 14);
    assert_eq!(
        kmsg_prefix_len("dev/kmsg", "6,1234,5678,-,caller=T1;hi"),
        24
    );
    assert_eq!(
        kmsg_prefix_len("var/log/kern.log", "6,1234,5678,-;hello"),
        0
    );
    assert_eq!(kmsg_prefix_len("dev/kmsg", "a;b"), 0);
    assert_eq!(kmsg_prefix_len("dev/kmsg", "no semicolon"), 0);
}

/// Issue 25: over a bundle, `c` said "capture on" and the interfaces
/// promised rates "after the next refresh": a bundle is read once.
#[test]
fn a_bundle_says_what_a_bundle_holds() {
    let model = http6_with_capture();
    let mut a = app(Arc::clone(&model), PLAIN);
    for key in ['c', 'r'] {
        let command = a.key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
        assert!(command.is_none(), "{key} sent a command over a bundle");
        let message = a.message.clone().unwrap_or_default();
        assert!(message.contains("a bundle is read once"), "{message}");
    }
    press(&mut a, "8");
    let screen = text(&render(&a, 80, 24));
    assert!(screen.contains("one reading: no rates"), "{screen}");
    assert!(!screen.contains("next refresh"), "{screen}");
}

/// Issue 25: the kernel log showed seconds since boot only, and opened at
/// line 1 of the boot. Where the boot time is known (`proc/stat`'s btime
/// here) lines carry their UTC time, and the view opens at the evidence.
#[test]
fn the_kernel_log_shows_wall_clock_time_and_opens_at_the_evidence() {
    let model = model(snapshot("scenario-000-aliases-cpanel-ips"));
    assert!(
        model
            .facts
            .kernel_log
            .entries
            .iter()
            .any(|e| e.wall_us.is_some()),
        "the fixture has no wall-clock times"
    );
    let mut a = app(Arc::clone(&model), PLAIN);
    press(&mut a, "2");
    let screen = text(&render(&a, 100, 30));
    assert!(
        regex::Regex::new(r"\d\d-\d\d \d\d:\d\d:\d\d")
            .expect("pattern")
            .is_match(&screen),
        "{screen}"
    );
    let http6 = http6_with_capture();
    let mut a = app(Arc::clone(&http6), PLAIN);
    press(&mut a, "2");
    let row = a.browsers[0].selected().expect("a row");
    assert!(
        row.text.contains("Neighbour table overflow"),
        "{}",
        row.text
    );
}

/// Issue 25: rows wider than the screen were cut at the right edge with
/// nothing to say so, and could not be read. The cut is marked, and
/// `l`/`h` scroll the text (the mark column stays).
#[test]
fn long_rows_are_marked_where_cut_and_scroll_sideways() {
    let model = http6_with_capture();
    let mut a = app(Arc::clone(&model), PLAIN);
    press(&mut a, "2");
    let screen = text(&render(&a, 60, 24));
    let linux = screen
        .lines()
        .find(|l| l.contains("Linux version"))
        .expect("the banner line")
        .to_string();
    assert!(linux.ends_with("$|"), "not marked as cut: {linux}");
    press(&mut a, "llll");
    assert_eq!(a.browsers[0].hscroll, 64);
    let screen = text(&render(&a, 60, 24));
    assert!(screen.contains("col 65"), "{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains("(gcc version") || l.contains("Debian"))
        .unwrap_or_default();
    assert!(!line.is_empty(), "the rest of the banner: {screen}");
    press(&mut a, "hhhhhh");
    assert_eq!(a.browsers[0].hscroll, 0);
}

/// Issue 25: `w` wraps long rows onto the lines below (the whole banner
/// readable at 60 columns, no cut mark), and again cuts them.
#[test]
fn w_wraps_long_rows_and_unwraps_them() {
    let model = http6_with_capture();
    let mut a = app(Arc::clone(&model), PLAIN);
    press(&mut a, "2");
    press(&mut a, "w");
    assert!(a.browsers[0].wrap);
    let screen = text(&render(&a, 60, 24));
    assert!(screen.contains("WRAP"), "{screen}");
    let banner: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Linux version"))
        .take(3)
        .collect();
    assert!(!banner[0].ends_with("$|"), "cut while wrapped: {screen}");
    assert!(
        banner[1..]
            .iter()
            .any(|l| l.contains("gcc") || l.contains("Debian")),
        "the rest of the banner below it: {screen}"
    );
    press(&mut a, "w");
    let screen = text(&render(&a, 60, 24));
    assert!(!screen.contains("WRAP"), "{screen}");
}

/// Issue 25: tabs in a source (`/proc/net/route` is tab-separated) were
/// one space each, so its columns did not line up; they go to the next
/// multiple of 8 columns, as on a terminal.
#[test]
fn tabs_expand_to_tab_stops() {
    use super::browser::expand_tabs;
    assert_eq!(
        expand_tabs("Iface\tDestination\tGateway"),
        "Iface   Destination     Gateway"
    );
    assert_eq!(expand_tabs("eth0\t00000000"), "eth0    00000000");
    assert_eq!(expand_tabs("\tx"), "        x");
    assert_eq!(expand_tabs("no tab"), "no tab");
}

/// Issue 26: the packet view lists what the kernel dropped during the
/// window, per reason, with the count, rate and share.
#[test]
fn the_packet_view_shows_the_kernel_drops_by_reason() {
    let mut snap = snapshot("http6-gateway-typo");
    let trace = workspace().join("crates/diag-parse/src/trace/testdata/trace_mixed");
    let bytes = std::fs::read(&trace).expect("trace sample");
    snap.inputs.insert(
        "trace/kfree_skb.txt".into(),
        Input {
            bytes: bytes.into(),
            truncated: false,
        },
    );
    let model = model(snap);
    assert!(model.facts.drops.collected);
    let mut a = app(Arc::clone(&model), PLAIN);
    press(&mut a, "9");
    let screen = text(&render(&a, 132, 43));
    assert!(screen.contains("kernel drops:"), "{screen}");
    let first = &model.facts.drops.reasons[0];
    assert!(screen.contains(&first.reason), "{screen}");
    assert!(screen.contains("DROP"), "{screen}");
}

/// Issue 25: an idle live screen wrote ~87 B/s (an age counting every
/// second). While the snapshot is fresh the header does not change with
/// the clock; once stale it says so, with the age.
#[test]
fn a_fresh_live_header_does_not_change_with_the_clock() {
    let model = http6_with_capture();
    let mut a = app(Arc::clone(&model), PLAIN);
    a.interval = Some(std::time::Duration::from_secs(2));
    let taken = model.snapshot.taken_at;
    let at = |seconds: u64| {
        super::draw::header_text(&a, taken + std::time::Duration::from_millis(seconds * 1000))
    };
    let fresh = at(0);
    assert!(fresh.contains("live") && !fresh.contains("age"), "{fresh}");
    assert_eq!(at(1), fresh);
    assert_eq!(at(5), fresh);
    let stale = at(60);
    assert!(stale.contains("STALE 1m"), "{stale}");
}
