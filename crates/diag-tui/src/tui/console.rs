//! The terminal backend: crossterm's, except that it never waits for the
//! terminal to answer.
//!
//! `ratatui::Terminal::clear` asks the terminal where its cursor is
//! (`ESC[6n`) and crossterm gives the answer 2 s before it fails with "The
//! cursor position could not be read": a console server, a slow serial
//! line or a pty nothing answers on (issue 25) made diag exit 3 before its
//! first frame. And a serial console reports a window of 0x0 through the
//! ioctl, so a frame drawn to that size shows nothing.
//!
//! So [`Console`] answers both itself: the cursor is where diag last put it
//! (the TUI hides it and runs on the alternate screen, so nothing depends
//! on it), and the size is the kernel's (`TIOCGWINSZ`) when it knows one,
//! else `LINES`/`COLUMNS`, else 80x24 ([`pick_size`]).

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Stdout};

/// The size when neither the kernel nor the environment knows one.
pub const FALLBACK: Size = Size {
    width: 80,
    height: 24,
};

/// crossterm's backend on stdout that sends no query (module docs).
#[derive(Debug)]
pub struct Console {
    inner: CrosstermBackend<Stdout>,
    cursor: Position,
}

impl Console {
    pub fn new() -> Console {
        Console {
            inner: CrosstermBackend::new(io::stdout()),
            cursor: Position::ORIGIN,
        }
    }
}

/// The terminal's size: the ioctl's, when it gives both numbers; else
/// `LINES` and `COLUMNS` when both are numbers; else [`FALLBACK`]. A
/// dimension of 0 (what serial consoles report) counts as unknown.
pub fn pick_size(ioctl: Option<(u16, u16)>, lines: Option<&str>, columns: Option<&str>) -> Size {
    let known = |n: u16| n > 0;
    if let Some((width, height)) = ioctl.filter(|&(w, h)| known(w) && known(h)) {
        return Size { width, height };
    }
    let number = |v: Option<&str>| {
        v.and_then(|v| v.trim().parse::<u16>().ok())
            .filter(|&n| known(n))
    };
    match (number(columns), number(lines)) {
        (Some(width), Some(height)) => Size { width, height },
        _ => FALLBACK,
    }
}

/// [`pick_size`] for this process: the ioctl on the terminal (crossterm
/// asks `/dev/tty`, else stdout) and the environment.
fn console_size() -> Size {
    let ioctl = crossterm::terminal::window_size()
        .ok()
        .map(|w| (w.columns, w.rows));
    let lines = std::env::var("LINES").ok();
    let columns = std::env::var("COLUMNS").ok();
    pick_size(ioctl, lines.as_deref(), columns.as_deref())
}

impl Backend for Console {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    /// Where diag last put the cursor: no `ESC[6n` (module docs).
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let position = position.into();
        self.cursor = position;
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(console_size())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: console_size(),
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_size_wins_when_it_knows_one() {
        let size = pick_size(Some((132, 43)), Some("50"), Some("200"));
        assert_eq!(size, Size::new(132, 43));
    }

    /// A serial console's ioctl says 0x0: the environment, then 80x24.
    #[test]
    fn a_zero_size_falls_back_to_lines_and_columns_then_80x24() {
        assert_eq!(
            pick_size(Some((0, 0)), Some("50"), Some("100")),
            Size::new(100, 50)
        );
        assert_eq!(pick_size(None, Some(" 30 "), Some("90")), Size::new(90, 30));
        assert_eq!(pick_size(Some((0, 0)), None, None), FALLBACK);
        assert_eq!(pick_size(Some((120, 0)), None, Some("120")), FALLBACK);
        assert_eq!(pick_size(None, Some("0"), Some("80")), FALLBACK);
        assert_eq!(pick_size(None, Some("lots"), Some("80")), FALLBACK);
    }
}
