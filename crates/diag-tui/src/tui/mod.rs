//! The terminal UI (Present stage): ratatui over crossterm.
//!
//! - [`model`]: the worker thread that runs Source → Parse → Diagnose and
//!   hands the UI one [`model::Model`] per refresh.
//! - [`app`]: the state (one struct) and key handling.
//! - [`draw`]: rendering, which only reads the state; [`browser`] and
//!   [`views`]: the area browsers; [`theme`]: colour and symbols.
//!
//! The loop ([`event_loop`]) is generic over the ratatui backend, so tests
//! drive it with `TestBackend` or a byte-counting `CrosstermBackend`. It
//! draws only when something visible changed: a key, a resize, a new
//! model, or the header's coarse clock text. See `docs/tui.md`.

pub mod app;
pub mod browser;
pub mod console;
pub mod draw;
pub mod model;
pub mod theme;
pub mod views;

#[cfg(test)]
mod tests;

use anyhow::Result;
use app::App;
use clap::Args;
use crossterm::event::Event;
use crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen};
use crossterm::terminal::{is_raw_mode_enabled, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use diag_core::diagnose::rules::RuleSet;
use diag_core::source::CollectOptions;
use model::{Feed, Worker};
use ratatui::backend::Backend;
use ratatui::Terminal;
use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use theme::Theme;

/// Flags of the terminal UI (global: `diag --ascii`, `diag tui
/// --interval 5`, `diag analyze PATH --tui --no-color`).
#[derive(Debug, Args, Clone)]
pub struct TuiArgs {
    /// TUI: seconds between live refreshes.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, global = true)]
    pub interval: f64,
    /// TUI: no colour (also when NO_COLOR is set or TERM has none).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// TUI: ASCII borders and symbols only (also when the locale is not
    /// UTF-8).
    #[arg(long, global = true)]
    pub ascii: bool,
}

impl TuiArgs {
    /// The refresh interval, checked.
    pub fn interval(&self) -> Result<Duration> {
        if !(self.interval.is_finite() && self.interval >= 0.2 && self.interval <= 3600.0) {
            anyhow::bail!("--interval must be between 0.2 and 3600 seconds");
        }
        Ok(Duration::from_secs_f64(self.interval))
    }
}

/// Whether stdin and stdout are both terminals (then `diag` without a
/// command opens the TUI).
pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Runs the TUI on `feed` until `q`, Ctrl-C, SIGHUP, SIGTERM or SIGINT.
pub fn run(feed: Feed, rules: RuleSet, collect: CollectOptions, args: &TuiArgs) -> Result<()> {
    if !interactive() {
        anyhow::bail!(
            "the TUI needs a terminal on stdin and stdout (use `check` or `analyze` without --tui)"
        );
    }
    let theme = Theme::detect(args.no_color, args.ascii);
    let mut app = App::new(theme, feed.interval());
    // Live capture is on when the collection options ask for it (the
    // default: 2 s per refresh); `c` turns it off and on.
    app.capture = matches!(feed, Feed::Live { .. }) && !collect.capture.duration.is_zero();
    let worker = Worker::start(feed, rules, collect);

    let stop = Arc::new(AtomicBool::new(false));
    let mut signals = Vec::new();
    for signal in [
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ] {
        signals.push(signal_hook::flag::register(signal, Arc::clone(&stop))?);
    }

    let guard = TerminalGuard::enter()?;
    let result = (|| -> Result<()> {
        let mut terminal = Terminal::new(console::Console::new())?;
        terminal.clear()?;
        let lost = Arc::clone(&stop);
        event_loop(&mut terminal, &mut app, &worker, &stop, |timeout| {
            next_terminal_event(timeout, &lost)
        })
    })();
    drop(guard);
    for id in signals {
        signal_hook::low_level::unregister(id);
    }
    result
}

/// Waits up to `timeout` for a terminal event. A terminal that is gone
/// (the pty's other side closed: tmux killed, an SSH session dropped)
/// sets `lost` and returns no event, so the loop ends and diag exits.
///
/// crossterm alone is not enough here: on a hung-up pty its `poll` keeps
/// reading end-of-file without ever returning, and the process spins at
/// 40% of a core, deaf to SIGTERM (the flag is never looked at). So
/// poll(2) on stdin is asked first, and crossterm only when it has
/// something, or may have buffered something (checked with a zero
/// timeout).
fn next_terminal_event(timeout: Duration, lost: &AtomicBool) -> io::Result<Option<Event>> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let hung_up = |millis: u16| -> io::Result<Option<bool>> {
        let stdin = io::stdin();
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) => Ok(Some(false)),
            Ok(_) => {
                let revents = fds[0].revents().unwrap_or(PollFlags::empty());
                let gone = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
                Ok(if revents.intersects(gone) {
                    None
                } else {
                    Some(true)
                })
            }
            Err(nix::errno::Errno::EINTR) => Ok(Some(false)),
            Err(errno) => Err(io::Error::from(errno)),
        }
    };
    // Keys crossterm already holds (a paste) come first, without waiting.
    match hung_up(0)? {
        None => {
            lost.store(true, Ordering::Relaxed);
            return Ok(None);
        }
        Some(true) => {}
        Some(false) => {
            if crossterm::event::poll(Duration::ZERO)? {
                return Ok(Some(crossterm::event::read()?));
            }
            let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
            match hung_up(millis)? {
                None => {
                    lost.store(true, Ordering::Relaxed);
                    return Ok(None);
                }
                Some(false) => return Ok(None),
                Some(true) => {}
            }
        }
    }
    if crossterm::event::poll(Duration::ZERO)? {
        Ok(Some(crossterm::event::read()?))
    } else {
        Ok(None)
    }
}

/// How long the loop waits for a key before it looks at the worker and the
/// clock again.
const TICK: Duration = Duration::from_millis(200);

/// The UI loop: takes the worker's updates, draws when something visible
/// changed, and hands keys to the state. `next_event` waits up to its
/// argument for a terminal event.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    worker: &Worker,
    stop: &AtomicBool,
    mut next_event: impl FnMut(Duration) -> io::Result<Option<Event>>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut dirty = true;
    let mut shown_clock = String::new();
    while !app.quit && !stop.load(Ordering::Relaxed) {
        let now = SystemTime::now();
        while let Some(update) = worker.try_recv() {
            // A collection starting shows nothing until it is slow (the
            // header's clock text says so).
            dirty |= !matches!(update, model::Update::Started);
            app.update(update, now);
        }
        let clock = draw::header_text(app, now);
        if clock != shown_clock {
            shown_clock = clock;
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| draw::draw(frame, app, now))?;
            dirty = false;
        }
        match next_event(TICK)? {
            Some(Event::Key(key)) => {
                if let Some(command) = app.key(key) {
                    worker.send(command);
                }
                dirty = true;
            }
            Some(Event::Resize(..)) => dirty = true,
            _ => {}
        }
    }
    Ok(())
}

/// Raw mode and the alternate screen, undone on drop and by the panic
/// hook, so a panic or an error never leaves the terminal unusable.
#[derive(Debug)]
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor. Errors
/// are ignored: the terminal may be gone (SIGHUP).
fn restore() {
    if is_raw_mode_enabled().unwrap_or(true) {
        let _ = disable_raw_mode();
    }
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}
