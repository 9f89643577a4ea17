//! Colour and symbols: what the terminal can show.
//!
//! Colour is off when `NO_COLOR` is set (to anything non-empty, per
//! no-color.org), with `--no-color`, or when `TERM` names a terminal without
//! colour: unset, `dumb`, `vt52`/`vt100`/`vt102`/`vt220`/`vt320`, and the
//! monochrome variants that end in `-m` or `-mono` (`linux-m`,
//! `xterm-mono`). Borders and symbols are ASCII with `--ascii` or when the
//! locale (`LC_ALL`, else `LC_CTYPE`, else `LANG`) does not say UTF-8. Data
//! text (kernel messages, file lines) is passed through [`Theme::clean`],
//! which drops the control characters the one sanitiser
//! (`diag_core::sanitize`) names (an escape sequence in a log line must
//! not reach the terminal) and, in ASCII mode, replaces non-ASCII.
//!
//! Colour never carries meaning alone: severity is also the word
//! `CRIT`/`WARN`/`INFO`, marks are also a symbol.

use diag_core::model::Severity;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Colours may be used.
    pub color: bool,
    /// Only ASCII may be written.
    pub ascii: bool,
}

/// ASCII box borders.
const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Theme {
    /// Decides from the flags and the environment (`NO_COLOR`, `TERM`,
    /// `LC_ALL`/`LC_CTYPE`/`LANG`).
    pub fn detect(no_color: bool, ascii: bool) -> Theme {
        Theme::from_env(no_color, ascii, |name| std::env::var(name).ok())
    }

    /// [`Theme::detect`] with the environment given as a lookup function.
    pub fn from_env(no_color: bool, ascii: bool, env: impl Fn(&str) -> Option<String>) -> Theme {
        let no_color_env = env("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !no_color && !no_color_env && term_has_color(env("TERM").as_deref());
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|name| env(name).filter(|v| !v.is_empty()))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        Theme {
            color,
            ascii: ascii || !utf8,
        }
    }

    /// Box borders.
    pub fn border(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::PLAIN
        }
    }

    /// A style with this foreground colour, or plain without colour.
    pub fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }

    /// The style of a severity word.
    pub fn severity(&self, severity: Severity) -> Style {
        let color = match severity {
            Severity::Critical => Color::Red,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Cyan,
        };
        self.fg(color).add_modifier(Modifier::BOLD)
    }

    /// The selected row: reverse video works on every terminal.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// A search or evidence match inside a line.
    pub fn matched(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    /// Headings and titles.
    pub fn heading(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Something that needs attention (stale data, changed top cause).
    pub fn alert(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// A progress bar of `width` cells filled to `percent` (0 to 100).
    pub fn bar(&self, percent: f64, width: usize) -> String {
        let percent = if percent.is_finite() {
            percent.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let filled = ((percent / 100.0) * width as f64).round() as usize;
        let (full, empty) = if self.ascii {
            ("#", ".")
        } else {
            ("█", "░")
        };
        format!(
            "[{}{}]",
            full.repeat(filled.min(width)),
            empty.repeat(width - filled.min(width))
        )
    }

    /// The symbol of a marked row (evidence line, off-link entry): `*` in
    /// ASCII (`>` is the cursor's), `▶` otherwise.
    pub fn marker(&self) -> &'static str {
        if self.ascii {
            "*"
        } else {
            "▶"
        }
    }

    /// Separator between header fields.
    pub fn dot(&self) -> &'static str {
        if self.ascii {
            "|"
        } else {
            "·"
        }
    }

    /// Data text made safe to write: what the one sanitiser
    /// (`diag_core::sanitize::is_control`) names as a control character
    /// (C0, DEL, C1, bidi overrides) is dropped, a tab becomes a space,
    /// and in ASCII mode every non-ASCII character becomes `?`.
    pub fn clean(&self, text: &str) -> String {
        text.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                c if diag_core::sanitize::is_control(c) => None,
                c if self.ascii && !c.is_ascii() => Some('?'),
                c => Some(c),
            })
            .collect()
    }
}

/// The short word for a severity, shown with or without colour.
pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "INFO",
    }
}

fn term_has_color(term: Option<&str>) -> bool {
    let Some(term) = term.filter(|t| !t.is_empty()) else {
        return false;
    };
    let mono = term.ends_with("-m") || term.ends_with("-mono") || term.contains("-m-");
    let known_mono = matches!(
        term,
        "dumb" | "vt52" | "vt100" | "vt102" | "vt220" | "vt320" | "vt100-am" | "ansi-mono"
    );
    !(mono || known_mono)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn colour_follows_no_color_flag_and_term() {
        let utf8 = [("TERM", "xterm-256color"), ("LANG", "en_US.UTF-8")];
        assert_eq!(
            Theme::from_env(false, false, env(&utf8)),
            Theme {
                color: true,
                ascii: false
            }
        );
        assert!(!Theme::from_env(true, false, env(&utf8)).color);
        for (term, color) in [
            ("vt100", false),
            ("dumb", false),
            ("linux-m", false),
            ("xterm-mono", false),
            ("linux", true),
            ("screen-256color", true),
        ] {
            let theme = Theme::from_env(false, false, env(&[("TERM", term)]));
            assert_eq!(theme.color, color, "TERM={term}");
        }
        assert!(!Theme::from_env(false, false, env(&[])).color, "no TERM");
        let no_color = [("TERM", "xterm"), ("NO_COLOR", "1")];
        assert!(!Theme::from_env(false, false, env(&no_color)).color);
        let empty = [("TERM", "xterm"), ("NO_COLOR", "")];
        assert!(Theme::from_env(false, false, env(&empty)).color);
    }

    #[test]
    fn ascii_unless_the_locale_says_utf8() {
        assert!(Theme::from_env(false, false, env(&[("LANG", "C")])).ascii);
        assert!(Theme::from_env(false, false, env(&[])).ascii);
        assert!(!Theme::from_env(false, false, env(&[("LANG", "de_DE.utf8")])).ascii);
        // LC_ALL wins over LANG.
        let both = [("LC_ALL", "POSIX"), ("LANG", "en_US.UTF-8")];
        assert!(Theme::from_env(false, false, env(&both)).ascii);
        assert!(Theme::from_env(false, true, env(&[("LANG", "en_US.UTF-8")])).ascii);
    }

    #[test]
    fn clean_drops_escapes_and_non_ascii_in_ascii_mode() {
        let ascii = Theme {
            color: false,
            ascii: true,
        };
        assert_eq!(ascii.clean("a\x1b[2Jb\tc é"), "a[2Jb c ?");
        let utf8 = Theme {
            color: false,
            ascii: false,
        };
        assert_eq!(utf8.clean("é\r"), "é");
        // C1 CSI and bidi overrides too, through the shared sanitiser.
        assert_eq!(utf8.clean("a\u{9b}2Jb\u{202e}c\x7f"), "a2Jbc");
        assert_eq!(ascii.bar(50.0, 4), "[##..]");
        assert_eq!(ascii.bar(f64::NAN, 2), "[..]");
    }
}
