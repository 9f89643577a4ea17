//! End-to-end: the real `diag` binary's terminal UI in tmux, driven by
//! keys (overview → detail → kernel log search → help → quit), and the
//! terminal restored after `q` and after SIGHUP. Needs `tmux` (`.ci/run`
//! installs it). And on a bare pty that answers nothing, as a serial
//! console or a console server may.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux server on its own socket, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server with one 80x24 session running a plain shell.
    fn start(name: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("diag-test-{name}-{}", std::process::id()),
        };
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "80", "-y", "24", "-s", "t"])
            .args(["env", "TERM=xterm-256color", "LANG=C.UTF-8", "PS1=$ "])
            .args(["bash", "--norc", "--noprofile"])
            .status()
            .expect("run tmux (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` (tmux key names: `Enter`, `Escape`, `/`, ...).
    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "t", key]);
            // Two Escs in one read are Alt-Esc to a terminal program: type
            // like a person.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types a line of text and Enter.
    fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
        self.keys(&["Enter"]);
    }

    fn pane(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the pane shows `text`; panics with the pane if it
    /// does not within 30 s (a debug build on a busy machine).
    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let pane = self.pane();
            if pane.contains(text) {
                return pane;
            }
            if started.elapsed() > Duration::from_secs(30) {
                panic!("pane never showed {text:?}:\n{pane}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alternate_screen(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{alternate_on}"])
            .trim()
            == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn diag_command(tail: &str) -> String {
    let bundle = common::workspace().join("fixtures/http6-gateway-typo");
    format!(
        "{} analyze {} --tui{tail}",
        env!("CARGO_BIN_EXE_diag"),
        bundle.display()
    )
}

/// After diag, `stty` says whether the terminal is back in cooked mode
/// with echo (raw mode would show `-icanon -echo`).
const AFTER: &str = "; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\\n' ' '; echo DONE$((1+1))";

#[test]
fn overview_detail_kernel_search_help_quit_in_tmux() {
    let tmux = Tmux::start("keys");
    tmux.line(&format!("{}{AFTER}", diag_command("")));
    let overview = tmux.wait_for("Causes (1), most likely first");
    assert!(
        overview.contains("CRIT  90% route.gateway-misconfigured"),
        "{overview}"
    );
    assert!(
        overview.contains("Findings (2) by area: kmsg 1, neigh 1"),
        "{overview}"
    );
    assert!(tmux.alternate_screen());

    tmux.keys(&["Enter"]);
    let detail = tmux.wait_for("cause route.gateway-misconfigured");
    assert!(detail.contains("Next steps"), "{detail}");
    assert!(
        detail.contains("proc/net/route:2 default dev eth0"),
        "{detail}"
    );

    tmux.keys(&["v"]);
    let source = tmux.wait_for("source proc/net/route:2");
    assert!(
        source.contains("2 eth0     00000000        00000000"),
        "{source}"
    );

    tmux.keys(&["Escape", "Escape", "j", "Enter"]);
    tmux.wait_for("finding neigh.table-overflow");

    tmux.keys(&["2"]);
    // Opened at the first line that is evidence.
    tmux.wait_for("Kernel log 4/11");
    tmux.keys(&["/"]);
    tmux.tmux(&["send-keys", "-t", "t", "-l", "callbacks"]);
    tmux.wait_for("/callbacks_");
    tmux.keys(&["Enter"]);
    let found = tmux.wait_for("Kernel log 7/11 /callbacks");
    assert!(
        found.contains("net_ratelimit: 2127 callbacks suppressed"),
        "{found}"
    );
    tmux.keys(&["n"]);
    tmux.wait_for("Kernel log 10/11 /callbacks");

    tmux.keys(&["?"]);
    let help = tmux.wait_for("Keys (any key closes)");
    assert!(help.contains("follow mode"), "{help}");
    tmux.keys(&["x"]);
    tmux.wait_for("Kernel log 10/11");

    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux);
}

#[test]
fn sighup_exits_and_restores_the_terminal() {
    let tmux = Tmux::start("hup");
    let pid = start_with_pid(&tmux, " --ascii", AFTER);
    let overview = tmux.wait_for("Causes (1), most likely first");
    assert!(
        overview.contains("+ Overview -"),
        "ASCII borders: {overview}"
    );
    let status = Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_exited_and_restored(&tmux);
}

/// The terminal itself goes away (tmux killed, as an SSH session that
/// drops): diag must notice and exit, not spin on a hung-up pty (it once
/// did, at 40% of a core, deaf to SIGTERM).
#[test]
fn a_lost_terminal_ends_diag() {
    let tmux = Tmux::start("lost");
    let pid = start_with_pid(&tmux, "", "");
    tmux.wait_for("Causes (1), most likely first");
    tmux.tmux(&["kill-server"]);
    let started = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // A zombie (reaped by nobody yet) has exited.
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("diag still running 10 s after its terminal went away");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts diag (with `args`, then `after` on the shell line) so that its
/// pid is known: the shell writes its own pid and becomes diag (exec).
fn start_with_pid(tmux: &Tmux, args: &str, after: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    tmux.line(&format!(
        "sh -c 'echo $$ > {}; exec {}'{after}",
        pid_file.display(),
        diag_command(args)
    ));
    read_pid(&pid_file)
}

/// diag has exited 0 (the shell line's `AFTER` printed it) and left the
/// terminal cooked and off the alternate screen.
fn assert_exited_and_restored(tmux: &Tmux) {
    let after = tmux.wait_for("DONE2");
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(
        after.contains("icanon echo"),
        "terminal not restored:\n{after}"
    );
    assert!(!tmux.alternate_screen(), "still on the alternate screen");
}

fn read_pid(path: &Path) -> String {
    let started = Instant::now();
    loop {
        if let Ok(pid) = std::fs::read_to_string(path) {
            if !pid.trim().is_empty() {
                return pid.trim().to_string();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no pid file");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_terminal_diag_runs_check_and_tui_refuses() {
    // No terminal on stdin/stdout: `diag` alone is `check`, as before.
    let out = common::diag(&[]);
    assert!(matches!(out.status.code(), Some(0..=2)), "{out:?}");
    assert!(!out.stdout.is_empty(), "check printed its diagnosis");
    let bundle = common::workspace().join("fixtures/http6-gateway-typo");
    let out = common::diag(&["analyze", bundle.to_str().expect("utf-8"), "--tui"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        common::stderr(&out).contains("the TUI needs a terminal"),
        "{}",
        common::stderr(&out)
    );
}

/// Issue 25: on a terminal that never answers a query (nothing reads the
/// pty's master until the frame is expected, as on a console server or a
/// slow serial line) and reports a 0x0 window (a serial console), the TUI
/// drew nothing and exited 3 after 2 s ("The cursor position could not be
/// read"). It draws its first frame at 80x24, sends no query, and `q` ends
/// it with exit 0.
#[test]
fn the_tui_starts_on_a_pty_that_never_answers() {
    use std::io::{Read, Write};
    use std::process::Stdio;

    let pty = nix::pty::openpty(None, None).expect("openpty");
    let bundle = common::workspace().join("fixtures/http6-gateway-typo");
    // setsid(1) --ctty: a session of its own whose controlling terminal is
    // this pty (stdin), so that /dev/tty is the pty, not the runner's.
    let mut command = Command::new("setsid");
    command
        .arg("--ctty")
        .arg(env!("CARGO_BIN_EXE_diag"))
        .arg("analyze")
        .arg(&bundle)
        .arg("--tui")
        .env_remove("LINES")
        .env_remove("COLUMNS")
        .env("TERM", "xterm")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::from(pty.slave.try_clone().expect("dup")))
        .stdout(Stdio::from(pty.slave.try_clone().expect("dup")))
        .stderr(Stdio::from(pty.slave.try_clone().expect("dup")));
    let mut child = command.spawn().expect("run setsid (util-linux) and diag");
    // Only the child may hold the slave: the master reads EOF (EIO) once
    // it has exited.
    drop(command);
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let reader = {
        let shown = std::sync::Arc::clone(&shown);
        let mut master = master.try_clone().expect("dup master");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child and every slave fd are gone.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().expect("lock").extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = |bytes: &[u8]| {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]")
            .expect("pattern")
            .replace_all(&raw, "")
            .into_owned()
    };
    let started = Instant::now();
    loop {
        let seen = text(&shown.lock().expect("lock"));
        if seen.contains("Causes (1), most likely first") {
            break;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("diag exited ({status}) before its first frame:\n{seen}");
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("no first frame in 30 s:\n{seen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    master.write_all(b"q").expect("type q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("diag did not quit on q");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(master);
    let _ = reader.join();
    let bytes = shown.lock().expect("lock").clone();
    assert!(status.success(), "diag exited {status}");
    assert!(
        !bytes.windows(4).any(|w| w == b"\x1b[6n"),
        "diag asked for the cursor position"
    );
    // The frame is 80 columns wide: the header's rule reaches column 80
    // and nothing is drawn beyond it.
    let frame = text(&bytes);
    assert!(
        !regex::Regex::new(r"\x1b\[\d+;(8[1-9]|9\d|\d{3,})H")
            .expect("pattern")
            .is_match(&String::from_utf8_lossy(&bytes)),
        "drawn beyond column 80:\n{frame}"
    );
}
