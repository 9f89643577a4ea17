//! Command-line parsing and the subcommands.

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use diag_core::rules::RuleSet;
use diag_core::sanitize::{self, visible, visible_line};
use diag_core::snapshot::{CollectOptions, Snapshot};
use diag_core::source::{Bundle, Limits, LiveHost};
use diag_core::{diagnose, report, Diagnosis};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when diag itself could not run.
pub const EXIT_UNKNOWN: u8 = 3;

/// diag: find the likely root cause of a misbehaving Linux server, with the
/// evidence.
#[derive(Debug, Parser)]
#[command(name = "diag", version, long_about = None)]
#[command(
    about = "diag: find the likely root cause of a misbehaving Linux server, with the evidence"
)]
#[command(
    after_help = "Exit status: 0 nothing above info, 1 warning, 2 critical, 3 diag could not run.\n\
Without a command, diag opens the terminal UI on the live host when stdin and stdout are terminals, and runs `check` otherwise."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Also given before the command (`diag --rules DIR check`).
    #[command(flatten)]
    rules: RuleArgs,

    /// Without a command, on a terminal: the TUI's flags.
    #[command(flatten)]
    interval: IntervalArg,
    #[command(flatten)]
    tui: TuiFlags,
}

/// `--rules`: on the commands that diagnose (and `rules`), and before the
/// command.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct RuleArgs {
    /// Add the rule files (*.toml) of DIR; a rule with a built-in rule's id
    /// replaces it. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

impl RuleArgs {
    /// The directories given before the command, then those after it.
    fn and(&self, after: &RuleArgs) -> RuleArgs {
        RuleArgs {
            dirs: self.dirs.iter().chain(&after.dirs).cloned().collect(),
        }
    }
}

/// How the terminal UI looks: on the commands that open it (none, `tui`,
/// `analyze --tui`).
#[derive(Debug, Args, Clone, Copy, Default)]
struct TuiFlags {
    /// TUI: no colour (also when NO_COLOR is set or TERM has none).
    #[arg(long)]
    no_color: bool,
    /// TUI: ASCII borders and symbols only (also when the locale is not
    /// UTF-8).
    #[arg(long)]
    ascii: bool,
}

/// The live TUI's refresh interval (no command, `tui`).
#[derive(Debug, Args, Clone, Copy, Default)]
struct IntervalArg {
    /// TUI: seconds between live refreshes (default 2).
    #[arg(long, value_name = "SECONDS")]
    interval: Option<f64>,
}

/// The TUI's flags from before the command and after it.
fn tui_args(top: &Cli, interval: IntervalArg, flags: TuiFlags) -> crate::tui::TuiArgs {
    crate::tui::TuiArgs {
        interval: interval.interval.or(top.interval.interval).unwrap_or(2.0),
        no_color: flags.no_color || top.tui.no_color,
        ascii: flags.ascii || top.tui.ascii,
    }
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ReadArgs {
    /// Give up on one input after this many seconds (a hung mount must not
    /// hang diag).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    read_timeout: f64,
    /// Look only at kernel log entries since TIME: RFC 3339
    /// (2026-11-21T13:40:00Z), local 'YYYY-MM-DD HH:MM' (or HH:MM:SS), @SECONDS, or
    /// a duration ago (10m). The kernel log is shared by every namespace
    /// and container on the machine; `collect` stores it whole and records
    /// the window for `analyze`.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
}

/// Live packet capture (see docs/capture.md).
#[derive(Debug, Args, Clone)]
struct CaptureArgs {
    /// Capture packets for this many seconds while collecting (needs
    /// CAP_NET_RAW, else skipped); 0 turns capture off.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    capture_seconds: f64,
    /// Capture on this interface (repeat for several); default: every
    /// interface that is up, the loopback excepted.
    #[arg(long = "capture-interface", value_name = "IFACE")]
    capture_interfaces: Vec<String>,
    /// Stop capturing after this many packets (all interfaces).
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    capture_packets: u64,
    /// Stop capturing after this many megabytes (all interfaces).
    #[arg(long, value_name = "MB", default_value_t = 8)]
    capture_mb: u64,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 256)]
    snaplen: u32,
    /// Put the interfaces in promiscuous mode.
    #[arg(long)]
    promiscuous: bool,
}

impl Default for CaptureArgs {
    /// The library's defaults (what `diag` without a command uses).
    fn default() -> Self {
        let d = diag_core::source::capture::CaptureOptions::default();
        CaptureArgs {
            capture_seconds: d.duration.as_secs_f64(),
            capture_interfaces: d.interfaces,
            capture_packets: d.max_packets,
            capture_mb: d.max_bytes >> 20,
            snaplen: d.snaplen,
            promiscuous: d.promiscuous,
        }
    }
}

impl CaptureArgs {
    fn options(&self) -> Result<diag_core::source::capture::CaptureOptions> {
        if !(self.capture_seconds.is_finite() && (0.0..=600.0).contains(&self.capture_seconds)) {
            bail!("--capture-seconds must be between 0 and 600");
        }
        if self.snaplen < 64 {
            bail!("--snaplen must be at least 64 bytes (the headers diag decodes)");
        }
        Ok(diag_core::source::capture::CaptureOptions {
            interfaces: self.capture_interfaces.clone(),
            duration: Duration::from_secs_f64(self.capture_seconds),
            max_packets: self.capture_packets,
            max_bytes: self.capture_mb.saturating_mul(1 << 20),
            snaplen: self.snaplen,
            promiscuous: self.promiscuous,
        })
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Diagnose the live host once and print the result.
    Check {
        /// Read the host's files below DIR instead of / (a copied root, a
        /// container's root, a test fixture).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Output: text, or json (the diag/1 document).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        read: ReadArgs,
        /// Compare with a baseline saved by `diag baseline save`: what
        /// changed since becomes findings, with the change as evidence.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten, next_help_heading = "Packet capture")]
        capture: CaptureArgs,
        #[command(flatten, next_help_heading = "Active probes (with --probe)")]
        probe: crate::probe_cmd::ProbeFlags,
    },
    /// Save the live host's state as a bundle (a directory, or a .tar.zst
    /// archive when PATH ends in .tar.zst) for later analysis.
    Collect {
        /// Where to write the bundle; must not exist yet.
        #[arg(short, long, value_name = "PATH")]
        output: PathBuf,
        /// Read the host's files below DIR instead of /.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten, next_help_heading = "Packet capture")]
        capture: CaptureArgs,
        #[command(flatten, next_help_heading = "Active probes (with --probe)")]
        probe: crate::probe_cmd::ProbeFlags,
    },
    /// Diagnose a bundle (directory or .tar.zst) exactly as `check`
    /// diagnoses the live host; or a lone pcap/pcapng capture.
    Analyze {
        /// The bundle, or a capture file (tcpdump, Wireshark).
        path: PathBuf,
        /// Output: text, or json (the diag/1 document).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        read: ReadArgs,
        /// Compare with a baseline saved by `diag baseline save`.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
        /// Open the terminal UI on the bundle instead of printing.
        #[arg(long)]
        tui: bool,
        #[command(flatten)]
        tui_flags: TuiFlags,
    },
    /// Record what the host looks like on a healthy day, for `check
    /// --baseline`.
    Baseline {
        #[command(subcommand)]
        command: crate::baseline_cmd::BaselineCommand,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Open the terminal UI on the live host (refreshed every --interval).
    Tui {
        /// Read the host's files below DIR instead of /.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten)]
        interval: IntervalArg,
        #[command(flatten)]
        tui_flags: TuiFlags,
    },
    /// Follow the kernel log and print each kernel-log finding as its
    /// lines arrive (a flood: one line per interval with its count).
    Watch {
        #[command(flatten)]
        args: crate::watch_cmd::WatchArgs,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Write a postmortem report (Markdown, HTML, JSON) of the live host or
    /// of a bundle; several -o share one diagnosis.
    Report {
        #[command(flatten)]
        args: crate::report_cmd::ReportArgs,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Active checks (TCP connect, DNS, gateway and beyond), printed like
    /// a monitoring plugin: one status line, details, exit 0/1/2/3.
    Probe {
        #[command(flatten)]
        args: crate::probe_cmd::ProbeArgs,
        /// Output: text (the plugin's lines), or json (the diag/1
        /// document).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Work on rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, ...).
    ///
    /// Install it where the shell looks: `diag completions bash >
    /// /etc/bash_completion.d/diag`, `diag completions zsh >
    /// /usr/local/share/zsh/site-functions/_diag`, `diag completions fish >
    /// ~/.config/fish/completions/diag.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    ///
    /// `diag man > /usr/local/share/man/man1/diag.1`, then `man diag`;
    /// `diag man COMMAND` prints the page of one command with all its
    /// options (`diag man check > /usr/local/share/man/man1/diag-check.1`).
    Man {
        /// The page of this command instead (diag-COMMAND).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// List every rule in effect (built-in and --rules).
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Check rule files and report every problem as file:line:col: message.
    /// Without DIR: the built-in rules and every --rules directory.
    Validate {
        /// A directory of rule files to check on its own.
        dir: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's fixture cases (each must fire where it says it
    /// fires and stay quiet where it says it stays quiet).
    Test {
        #[command(flatten)]
        rules: RuleArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Parses the command line and runs it; maps every error to exit code 3.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_UNKNOWN,
            };
            // clap renders its own message (with usage, coloured on a
            // terminal); a value from the command line that holds a
            // control character is printed plain, through the sanitiser.
            let plain = err.render().to_string();
            if plain
                .chars()
                .any(|c| c != '\n' && c != '\t' && sanitize::is_control(c))
            {
                eprint!("{}", visible(&plain));
            } else {
                let _ = err.print();
            }
            return ExitCode::from(code);
        }
    };
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // The one place errors are printed: they name paths and quote
            // bundles and rule files, so they pass the sanitiser whole.
            eprintln!("diag: error: {}", visible(&format!("{err:#}")));
            ExitCode::from(EXIT_UNKNOWN)
        }
    }
}

fn execute(mut cli: Cli) -> Result<u8> {
    let started = std::time::Instant::now();
    let read = ReadArgs {
        read_timeout: 5.0,
        since: None,
    };
    let command = match cli.command.take() {
        Some(command) => command,
        None if crate::tui::interactive() => Command::Tui {
            root: None,
            read,
            rules: RuleArgs::default(),
            interval: IntervalArg::default(),
            tui_flags: TuiFlags::default(),
        },
        None => Command::Check {
            root: None,
            format: Format::Text,
            read,
            probe: Default::default(),
            baseline: None,
            rules: RuleArgs::default(),
            capture: CaptureArgs::default(),
        },
    };
    match command {
        Command::Check {
            root,
            format,
            read,
            probe,
            baseline,
            rules,
            capture,
        } => {
            let source = live(root)?;
            let mut options = options(&read)?;
            options.capture = capture.options()?;
            probe.validate()?;
            let rules = cli.rules.and(&rules);
            let (rules, (snapshot, facts, notes)) = parse_while_loading(&rules, || {
                let mut snapshot = Snapshot::collect(&source, &options);
                snapshot.require_inputs()?;
                probe.add_to(&mut snapshot)?;
                if let Some(file) = &baseline {
                    crate::baseline_cmd::attach(&mut snapshot, file, Some(source.root()))?;
                }
                let (facts, notes) = diag_core::Facts::from_snapshot(&snapshot);
                Ok((snapshot, facts, notes))
            })?;
            let (diagnosis, _) = diagnose::diagnose_parsed(&snapshot, facts, notes, &rules);
            print_diagnosis(&diagnosis, format)
        }
        Command::Analyze {
            path,
            tui: true,
            read,
            rules,
            tui_flags,
            ..
        } => {
            let rules = load_rules(&cli.rules.and(&rules))?;
            Bundle::open(&path)?;
            let feed = crate::tui::model::Feed::Bundle(path);
            let args = tui_args(&cli, IntervalArg::default(), tui_flags);
            crate::tui::run(feed, rules, options(&read)?, &args)?;
            Ok(0)
        }
        Command::Tui {
            root,
            read,
            rules,
            interval,
            tui_flags,
        } => {
            let rules = load_rules(&cli.rules.and(&rules))?;
            live(root.clone())?;
            let args = tui_args(&cli, interval, tui_flags);
            let interval = args.interval()?;
            let feed = crate::tui::model::Feed::Live { root, interval };
            crate::tui::run(feed, rules, options(&read)?, &args)?;
            Ok(0)
        }
        Command::Analyze {
            path,
            format,
            read,
            baseline,
            rules,
            ..
        } => {
            let bundle = Bundle::open(&path)?;
            let rules = cli.rules.and(&rules);
            let (rules, (snapshot, facts, notes)) = parse_while_loading(&rules, || {
                let mut snapshot = Snapshot::collect(&bundle, &options(&read)?);
                snapshot.require_inputs()?;
                if let Some(file) = &baseline {
                    crate::baseline_cmd::attach(&mut snapshot, file, None)?;
                }
                let (facts, notes) = diag_core::Facts::from_snapshot(&snapshot);
                Ok((snapshot, facts, notes))
            })?;
            // The captures' bytes are parsed; unmapping a large capture
            // (~9 ms for 142 MB) runs beside the diagnosis, which does not
            // read them.
            let mut snapshot = snapshot;
            let mut captures = snapshot.inputs.split_off("capture/");
            snapshot.inputs.append(&mut captures.split_off("capture0"));
            let diagnosis = std::thread::scope(|scope| {
                scope.spawn(move || drop(captures));
                diagnose::diagnose_parsed(&snapshot, facts, notes, &rules).0
            });
            print_diagnosis(&diagnosis, format)
        }
        Command::Baseline { command, read } => crate::baseline_cmd::run(command, &options(&read)?),
        Command::Collect {
            output,
            root,
            read,
            probe,
            capture,
        } => {
            let source = live(root)?;
            let mut options = options(&read)?;
            options.capture = capture.options()?;
            probe.validate()?;
            let mut snapshot = Snapshot::collect(&source, &options);
            probe.add_to(&mut snapshot)?;
            snapshot
                .write_bundle(&output)
                .with_context(|| format!("cannot write bundle {}", output.display()))?;
            let bytes: usize = snapshot.inputs.values().map(|i| i.bytes.len()).sum();
            eprintln!(
                "diag: wrote {} ({} inputs, {} bytes, {} skipped)",
                visible_line(&output.display().to_string()),
                snapshot.inputs.len(),
                bytes,
                snapshot.skipped.len()
            );
            for skipped in &snapshot.skipped {
                eprintln!(
                    "diag: skipped {}: {}",
                    visible_line(&skipped.collector),
                    visible_line(&skipped.reason)
                );
            }
            Ok(0)
        }
        Command::Watch { args, rules } => {
            crate::watch_cmd::run(&args, &load_rules(&cli.rules.and(&rules))?)
        }
        Command::Report { args, rules } => crate::report_cmd::run(args, &cli.rules.and(&rules)),
        Command::Probe {
            args,
            format,
            rules,
        } => {
            let rules = load_rules(&cli.rules.and(&rules))?;
            crate::probe_cmd::run(&args, &rules, format == Format::Json, started)
        }
        Command::Rules { command } => rules_command(command, &cli.rules),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "diag", &mut out);
            write_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man { command } => {
            write_stdout(&man_page(command.as_deref())?)?;
            Ok(0)
        }
    }
}

/// The roff manual page of diag, or of one of its commands (`diag-check`,
/// with the options it takes).
fn man_page(command: Option<&str>) -> Result<String> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    // Gives every command its full name (`diag-check`) and usage.
    cli.build();
    let source = format!("diag {}", env!("CARGO_PKG_VERSION"));
    let page = match command {
        // The NAME section reads `diag \- find ...`.
        None => {
            cli.about("find the likely root cause of a misbehaving Linux server, with the evidence")
        }
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => bail!("no command {}: see `diag --help`", visible_line(name)),
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .source(source)
        .render(&mut out)?;
    // clap_mangen puts `after_help` (the exit status) under "EXTRA".
    let text = String::from_utf8_lossy(&out).replace("\n.SH EXTRA\n", "\n.SH \"EXIT STATUS\"\n");
    Ok(text)
}

pub(crate) fn live(root: Option<PathBuf>) -> Result<LiveHost> {
    match root {
        None => Ok(LiveHost::new()),
        // Looked at within the read timeout's default: a root on a hung
        // mount is an error, not a hang.
        Some(root) => Ok(LiveHost::open_root(root, Limits::default().timeout)?),
    }
}

pub(crate) fn options(read: &ReadArgs) -> Result<CollectOptions> {
    if !(read.read_timeout.is_finite() && read.read_timeout > 0.0 && read.read_timeout <= 600.0) {
        bail!("--read-timeout must be between 0 and 600 seconds");
    }
    let since = match &read.since {
        Some(text) => Some(diag_core::snapshot::parse_since(
            text,
            std::time::SystemTime::now(),
        )?),
        None => None,
    };
    Ok(CollectOptions {
        limits: Limits {
            timeout: Duration::from_secs_f64(read.read_timeout),
            ..Limits::default()
        },
        since,
        ..CollectOptions::default()
    })
}

/// Runs `parse` (collecting and parsing a snapshot) while the built-in
/// rules load on another thread: compiling them takes tens of milliseconds,
/// which a second core hides behind a capture window or a large capture.
/// With `--rules` directories the rules load first, so that a mistake in a
/// user's rule file stops diag before it collects or probes anything.
/// An error of either is returned, the rules' first.
pub(crate) fn parse_while_loading<T: Send>(
    args: &RuleArgs,
    parse: impl FnOnce() -> Result<T>,
) -> Result<(RuleSet, T)> {
    if !args.dirs.is_empty() {
        let rules = load_rules(args)?;
        return Ok((rules, parse()?));
    }
    std::thread::scope(|scope| {
        let rules = scope.spawn(|| load_rules(args));
        let parsed = parse();
        let rules = rules
            .join()
            .map_err(|_| anyhow::anyhow!("the thread loading the rules panicked"))??;
        Ok((rules, parsed?))
    })
}

pub(crate) fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    check_rule_dirs(args)?;
    Ok(RuleSet::load(&args.dirs)?)
}

fn check_rule_dirs(args: &RuleArgs) -> Result<()> {
    for dir in &args.dirs {
        if !dir.is_dir() {
            bail!(
                "{}: --rules must be a directory of *.toml rule files",
                dir.display()
            );
        }
    }
    Ok(())
}

fn print_diagnosis(diagnosis: &Diagnosis, format: Format) -> Result<u8> {
    let text = match format {
        Format::Text => report::text(diagnosis),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(diagnosis)?;
            json.push('\n');
            sanitize::json(&json).into_owned()
        }
    };
    write_stdout(&text)?;
    Ok(u8::try_from(diagnosis.exit_code()).unwrap_or(EXIT_UNKNOWN))
}

pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`diag check | head`) is not an error.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn rules_command(command: RulesCommand, before: &RuleArgs) -> Result<u8> {
    match command {
        RulesCommand::List { rules } => {
            let rules = load_rules(&before.and(&rules))?;
            let mut out = String::new();
            for rule in rules.rules() {
                let kind = match rule.kind {
                    diag_core::rules::RuleKind::Cause => "cause",
                    diag_core::rules::RuleKind::Finding => "finding",
                };
                out.push_str(&format!(
                    "{:<32} {:<7} {:<8} {}  ({}:{})\n",
                    visible_line(&rule.id),
                    kind,
                    rule.severity,
                    visible_line(&rule.title),
                    visible_line(&rule.file),
                    rule.line
                ));
            }
            write_stdout(&out)?;
            Ok(0)
        }
        RulesCommand::Validate { dir, rules } => {
            let args = &before.and(&rules);
            let problems = match dir {
                Some(dir) => diag_core::rules::validate_dir(&dir)?,
                None => match RuleSet::load_with_cases(&args.dirs) {
                    Ok(_) => Vec::new(),
                    Err(diag_core::Error::Rules(problems)) => problems,
                    Err(err) => return Err(err.into()),
                },
            };
            for problem in &problems {
                println!("{}", visible(&problem.to_string()));
            }
            // Warnings (nesting a budget may stop) are printed but do not
            // make the rule files invalid.
            let errors = problems.iter().filter(|p| !p.warning).count();
            let warnings = problems.len() - errors;
            if errors == 0 {
                if warnings > 0 {
                    eprintln!("diag: rules are valid ({warnings} warning(s))");
                } else {
                    eprintln!("diag: rules are valid");
                }
                Ok(0)
            } else {
                eprintln!("diag: {errors} problem(s), {warnings} warning(s)");
                Ok(1)
            }
        }
        RulesCommand::Test { rules } => {
            let args = &before.and(&rules);
            check_rule_dirs(args)?;
            let rules = RuleSet::load_with_cases(&args.dirs)?;
            let outcomes = diagnose::test_rules(&rules);
            let mut failed = 0;
            for outcome in &outcomes {
                let verdict = if outcome.passed() { "ok  " } else { "FAIL" };
                let expected = if outcome.expected_fire {
                    "fires"
                } else {
                    "quiet"
                };
                let got = if outcome.fired {
                    "fired"
                } else {
                    "stayed quiet"
                };
                println!(
                    "{verdict} {} / {}: expected {expected}, {got}  ({})",
                    visible_line(&outcome.rule),
                    visible_line(&outcome.case),
                    visible_line(&outcome.location)
                );
                for error in &outcome.rule_errors {
                    println!("     condition error: {}", visible(error));
                }
                if !outcome.passed() {
                    failed += 1;
                }
            }
            println!("{} passed, {} failed", outcomes.len() - failed, failed);
            Ok(if failed == 0 { 0 } else { 1 })
        }
    }
}
