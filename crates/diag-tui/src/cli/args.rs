//! The command line's argument definitions: the clap `Parser` ([`Cli`]),
//! the `Subcommand` enums and every `Args` struct, with their help texts
//! and defaults. [`Command`] names every command's arguments, so all of
//! them live here, those only one command reads too; what they mean (the
//! checks on their values, the options they become) is in the modules that
//! read them. This module is the bottom of `cli`: it imports nothing from
//! the crate, only clap and the library types its defaults come from.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Also given before the command (`diag --rules DIR check`).
    #[command(flatten)]
    pub(crate) rules: RuleArgs,

    /// Without a command, on a terminal: the TUI's flags.
    #[command(flatten)]
    pub(crate) interval: IntervalArg,
    #[command(flatten)]
    pub(crate) tui: TuiFlags,
}

/// `--rules`: on the commands that diagnose (and `rules`), and before the
/// command.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct RuleArgs {
    /// Add the rule files (*.toml) of DIR; a rule with a built-in rule's id
    /// replaces it. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,
}

impl RuleArgs {
    /// The directories given before the command, then those after it.
    pub(crate) fn and(&self, after: &RuleArgs) -> RuleArgs {
        RuleArgs {
            dirs: self.dirs.iter().chain(&after.dirs).cloned().collect(),
        }
    }
}

/// How the terminal UI looks: on the commands that open it (none, `tui`,
/// `analyze --tui`).
#[derive(Debug, Args, Clone, Copy, Default)]
pub(crate) struct TuiFlags {
    /// TUI: no colour (also when NO_COLOR is set or TERM has none).
    #[arg(long)]
    pub(crate) no_color: bool,
    /// TUI: ASCII borders and symbols only (also when the locale is not
    /// UTF-8).
    #[arg(long)]
    pub(crate) ascii: bool,
}

/// The live TUI's refresh interval (no command, `tui`).
#[derive(Debug, Args, Clone, Copy, Default)]
pub(crate) struct IntervalArg {
    /// TUI: seconds between live refreshes (default 2).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) interval: Option<f64>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct ReadArgs {
    /// Give up on one input after this many seconds (a hung mount must not
    /// hang diag).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub(crate) read_timeout: f64,
    /// Look only at kernel log entries since TIME: RFC 3339
    /// (2026-11-21T13:40:00Z), local 'YYYY-MM-DD HH:MM' (or HH:MM:SS), @SECONDS, or
    /// a duration ago (10m). The kernel log is shared by every namespace
    /// and container on the machine; `collect` stores it whole and records
    /// the window for `analyze`.
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
}

/// Live packet capture (see docs/capture.md).
#[derive(Debug, Args, Clone)]
pub(crate) struct CaptureArgs {
    /// Capture packets for this many seconds while collecting (needs
    /// CAP_NET_RAW, else skipped); 0 turns capture off.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub(crate) capture_seconds: f64,
    /// Capture on this interface (repeat for several); default: every
    /// interface that is up, the loopback excepted.
    #[arg(long = "capture-interface", value_name = "IFACE")]
    pub(crate) capture_interfaces: Vec<String>,
    /// Stop capturing after this many packets (all interfaces).
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub(crate) capture_packets: u64,
    /// Stop capturing after this many megabytes (all interfaces).
    #[arg(long, value_name = "MB", default_value_t = 8)]
    pub(crate) capture_mb: u64,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 256)]
    pub(crate) snaplen: u32,
    /// Put the interfaces in promiscuous mode.
    #[arg(long)]
    pub(crate) promiscuous: bool,
    /// Do not record why the kernel drops packets (the skb:kfree_skb
    /// events of the capture window, in a tracing instance of diag's own;
    /// needs root, else skipped).
    #[arg(long)]
    pub(crate) no_drop_reasons: bool,
}

impl Default for CaptureArgs {
    /// The library's defaults (what `diag` without a command uses).
    fn default() -> Self {
        let d = diag_core::source::CaptureOptions::default();
        CaptureArgs {
            capture_seconds: d.duration.as_secs_f64(),
            capture_interfaces: d.interfaces,
            capture_packets: d.max_packets,
            capture_mb: d.max_bytes >> 20,
            snaplen: d.snaplen,
            promiscuous: d.promiscuous,
            no_drop_reasons: false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Diagnose the live host once and print the result.
    Check {
        /// Read the host's files below DIR instead of / (a copied root, a
        /// container's root, a test fixture).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Output: text, json (the diag/1 document), prometheus (metrics
        /// for node_exporter's textfile collector), or jsonl (a line per
        /// cause and finding, for a log pipeline).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        output: OutputArg,
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
        probe: ProbeFlags,
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
        probe: ProbeFlags,
    },
    /// Diagnose a bundle (directory or .tar.zst) or a sosreport (tree or
    /// .tar.xz) exactly as `check` diagnoses the live host; or a lone
    /// pcap/pcapng capture.
    Analyze {
        /// The bundle or sosreport, or a capture file (tcpdump, Wireshark).
        path: PathBuf,
        /// Output: text, json (the diag/1 document), prometheus (metrics),
        /// or jsonl (a line per cause and finding).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        output: OutputArg,
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
        command: BaselineCommand,
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
        args: WatchArgs,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Write a postmortem report (Markdown, HTML, JSON) of the live host or
    /// of a bundle; several -o share one diagnosis.
    Report {
        #[command(flatten)]
        args: ReportArgs,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Active checks (TCP connect, DNS, gateway and beyond), printed like
    /// a monitoring plugin: one status line, details, exit 0/1/2/3.
    Probe {
        #[command(flatten)]
        args: ProbeArgs,
        /// Output: text (the plugin's lines), json (the diag/1
        /// document), prometheus (metrics), or jsonl (a line per cause
        /// and finding).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the output to FILE (replaced atomically) instead of
        /// stdout; prometheus metrics are made mode 0644, other formats
        /// 0600.
        #[arg(long, value_name = "FILE")]
        output_file: Option<PathBuf>,
        #[command(flatten)]
        metrics: MetricsLabels,
        #[command(flatten)]
        syslog: SyslogArg,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Summarise many hosts' saved diagnoses (diag/1 JSON files; a
    /// directory is searched for *.json): which causes and findings affect
    /// which hosts, and which hosts differ from their subnet's peers.
    Fleet {
        /// diag/1 JSON files, bundles or sosreports (trees or archives,
        /// analysed on every core), or directories holding them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output: text, json, md (Markdown) or html (one self-contained
        /// page).
        #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
        format: FleetFormat,
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
        shell: CompletionShell,
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
pub(crate) enum RulesCommand {
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
    /// Print the facts a rule condition can read (docs/facts.md).
    ///
    /// Every field of `facts`: its path (`facts.net.default_routes[].gateway`;
    /// `[]` is any element of a list, `[key]` any value of a map), its type
    /// as CEL sees it, an example from the built-in rule cases, and what it
    /// is.
    Facts {
        /// Output: text (one field a line, its description below), markdown
        /// (docs/facts.md) or json (a list of {path, type, example,
        /// description}).
        #[arg(long, value_enum, default_value_t = FactsFormat::Text)]
        format: FactsFormat,
    },
}

/// How `diag rules facts` prints the facts tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FactsFormat {
    Text,
    Markdown,
    Json,
}

/// What `check`, `analyze` and `probe` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    // The Prometheus text exposition format, and JSON lines
    // (docs/fleet.md); no doc comment: clap would list every value with
    // its help.
    Prometheus,
    Jsonl,
}

/// `diag fleet --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FleetFormat {
    Text,
    Json,
    Md,
    Html,
}

/// `-o FILE` of `check` and `analyze`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct OutputArg {
    /// Write the output to FILE (replaced atomically: node_exporter's
    /// textfile collector never reads half of it) instead of stdout;
    /// prometheus metrics are made mode 0644, other formats 0600.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) metrics: MetricsLabels,
    #[command(flatten)]
    pub(crate) syslog: SyslogArg,
}

/// `--syslog` of `check`, `analyze` and `probe`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct SyslogArg {
    /// With --format jsonl: send the lines to the local syslog socket
    /// (/dev/log, or --syslog=SOCKET) instead of stdout.
    #[arg(
        long = "syslog",
        value_name = "SOCKET",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "/dev/log"
    )]
    pub(crate) socket: Option<PathBuf>,
}

/// `--metrics-label` of `check`, `analyze` and `probe`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct MetricsLabels {
    /// With --format prometheus: the label NAME=VALUE on every series,
    /// besides `command` (repeatable; e.g. target=web1).
    #[arg(long = "metrics-label", value_name = "NAME=VALUE")]
    pub(crate) labels: Vec<String>,
}

/// `diag baseline ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum BaselineCommand {
    /// Record the host's state on a healthy day: kernel and command line,
    /// addresses, routes, sysctls, RAID members, mounts, and owner, group,
    /// mode (and SHA-256 of small files) of watched paths. `diag check
    /// --baseline FILE` later shows what changed.
    Save {
        /// Where to write the baseline (replaced atomically).
        #[arg(short, long, value_name = "FILE", default_value = "diag-baseline.json")]
        output: PathBuf,
        /// Read the host's files below DIR instead of /.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// More paths to watch: one absolute path a line, `#` comments, a
        /// trailing `/*` adds the directory's first level (the default list
        /// and the root's etc/diag/watch are always watched).
        #[arg(long, value_name = "FILE")]
        watch: Option<PathBuf>,
    },
}

/// Arguments of `diag watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The kernel log device, or a file of /dev/kmsg records that grows.
    #[arg(long, value_name = "PATH", default_value = "/dev/kmsg")]
    pub(crate) device: PathBuf,
    /// Diagnose at most once every SECONDS (a flood becomes one line per
    /// interval, with its count; longer when diagnosing takes more than
    /// 3% of the time between two, so a flood cannot take the CPU).
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub(crate) interval: f64,
    /// Start with the records the kernel still holds, not only new ones.
    #[arg(long)]
    pub(crate) from_start: bool,
    /// Keep the newest KiB of records for rules that count over a window.
    #[arg(long, value_name = "KIB", default_value_t = 1024)]
    pub(crate) window_kib: usize,
    /// One JSON object per update instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The arguments of `diag report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Report on this bundle (directory or .tar.zst), sosreport (tree or
    /// .tar.xz) or lone capture file instead of the live host.
    #[arg(long, value_name = "PATH")]
    pub(crate) from: Option<PathBuf>,
    /// Format of the outputs whose extension names none (and of `-o -`).
    #[arg(long, value_enum)]
    pub(crate) format: Option<ReportFormat>,
    /// Where to write the report; `-` is stdout. Repeatable: every output
    /// renders the same diagnosis.
    #[arg(short, long = "output", value_name = "FILE", required = true)]
    pub(crate) output: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

/// The shells `diag completions` writes for: those of Linux servers
/// (elvish and PowerShell were ~25 KB of the static binary,
/// docs/static-binary.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// GitHub-flavoured Markdown.
    Md,
    /// One self-contained HTML file.
    Html,
    /// The diag/1 JSON (docs/diag-1.schema.json).
    Json,
}

/// Options of `diag probe`: what to probe, the shared [`ProbeSettings`],
/// and how often.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct ProbeArgs {
    /// Addresses to connect to: `ADDRESS`, `ADDRESS:PORT` or `[IPv6]:PORT`.
    /// Named targets (these, --targets-file, --targets-from) are all that
    /// is probed, besides --dns, --path and --beyond. Without any, this
    /// host's own set: its addresses (configured and bound, on their
    /// listening ports), nameservers and gateways.
    #[arg(value_name = "TARGET")]
    pub(crate) targets: Vec<String>,
    /// Read targets from FILE: one per line (or comma-separated), `#`
    /// comments.
    #[arg(long, value_name = "FILE")]
    pub(crate) targets_file: Option<PathBuf>,
    /// Probe the host under test as described by its bundle (directory or
    /// .tar.zst) or by the output of `diag check --format json` run there:
    /// its expected and bound addresses, on its listening ports (or
    /// --port).
    #[arg(long, value_name = "BUNDLE_OR_JSON")]
    pub(crate) targets_from: Option<PathBuf>,
    /// Also query the nameservers of /etc/resolv.conf: with targets, only
    /// with --dns (or --dns-name); without, always (unless --no-dns).
    #[arg(long, conflicts_with = "no_dns")]
    pub(crate) dns: bool,
    /// Also probe the default gateways: with targets, only with --path;
    /// without, always (unless --no-path).
    #[arg(long, conflicts_with = "no_path")]
    pub(crate) path: bool,
    #[command(flatten)]
    pub(crate) settings: ProbeSettings,
    /// Repeat every DURATION (`15m`, `30s`) until SIGINT/SIGTERM, printing
    /// only changes.
    #[arg(long, value_name = "DURATION")]
    pub(crate) every: Option<humantime::Duration>,
    /// Also write the results as a bundle in DIR (`diag analyze DIR`).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: Option<PathBuf>,
}

/// How probes run: shared by `diag probe`, `check --probe` and `collect
/// --probe`.
#[derive(Debug, Args, Clone, PartialEq)]
pub(crate) struct ProbeSettings {
    /// Port to try on every target without one. Repeatable.
    #[arg(long = "port", value_name = "PORT")]
    pub(crate) ports: Vec<u16>,
    /// A target beyond the gateway: ADDRESS (ICMP echo) or ADDRESS:PORT
    /// (TCP connect). Repeatable, at most 16.
    #[arg(long = "beyond", value_name = "TARGET")]
    pub(crate) beyond: Vec<String>,
    /// A name to resolve through every nameserver of /etc/resolv.conf
    /// (besides this host's own name). Repeatable, at most 4.
    #[arg(long = "dns-name", value_name = "NAME")]
    pub(crate) dns_names: Vec<String>,
    /// Do not query the nameservers.
    #[arg(long)]
    pub(crate) no_dns: bool,
    /// Do not probe the gateways (nor --beyond targets).
    #[arg(long)]
    pub(crate) no_path: bool,
    /// Seconds to wait for one attempt.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub(crate) timeout: f64,
    /// More attempts after a timed-out or unreachable one (at most 5).
    #[arg(long, default_value_t = 1)]
    pub(crate) retries: u32,
    /// Connections in flight at once (at most 1024).
    #[arg(long, default_value_t = 64)]
    pub(crate) concurrency: usize,
    /// Connection attempts per second, over all connections (at most 10000).
    #[arg(long, default_value_t = 1000)]
    pub(crate) rate: u32,
    /// Refuse to run with more address:port targets than this (at most 65536).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) max_targets: usize,
    /// TCP port tried on the gateway besides an ICMP echo (a reset counts
    /// as an answer).
    #[arg(long, default_value_t = 22)]
    pub(crate) gateway_port: u16,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            ports: Vec::new(),
            beyond: Vec::new(),
            dns_names: Vec::new(),
            no_dns: false,
            no_path: false,
            timeout: 2.0,
            retries: 1,
            concurrency: 64,
            rate: 1000,
            max_targets: 10_000,
            gateway_port: 22,
        }
    }
}

/// `--probe` and the [`ProbeSettings`] of `check` and `collect`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct ProbeFlags {
    /// Also run the active probes (TCP to this host's addresses, DNS,
    /// gateway) and keep their results as probe/*.json: they send
    /// traffic, so they are off by default.
    #[arg(long)]
    pub(crate) probe: bool,
    #[command(flatten)]
    pub(crate) settings: ProbeSettings,
}
