//! Network namespaces for end-to-end tests: created under fresh names,
//! deleted on drop (also when a test fails); veth pairs created under
//! random names in the root namespace, moved at once and renamed only
//! inside their namespaces; processes started in a namespace are killed on
//! drop. Traffic goes only between namespaces a test created.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{:x}x{n:x}", std::process::id())
}

/// Runs a command that must succeed.
pub fn must(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A network namespace, deleted on drop.
#[derive(Debug)]
pub struct Ns {
    /// Its name.
    pub name: String,
}

impl Ns {
    /// A fresh namespace with `lo` up.
    // Not `Default`: creating one runs `ip netns add`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let ns = Ns {
            name: unique("dprb"),
        };
        must(&["ip", "netns", "add", &ns.name]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `args` inside; must succeed.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        must(&all)
    }

    /// `ip ARGS` inside.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut all = vec!["ip"];
        all.extend_from_slice(args);
        self.exec(&all)
    }

    /// Starts `args` inside; killed when the guard drops.
    pub fn spawn(&self, args: &[&str]) -> Killed {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        Killed(child)
    }

    /// A command running `program ARGS` inside, with `/etc` replaced by a
    /// copy of `etc` in a private mount namespace (nothing of the
    /// machine's /etc is touched).
    pub fn command(&self, etc: Option<&Path>, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]);
        match etc {
            Some(dir) => {
                let script = format!(
                    "mount -t tmpfs diag-test-etc /etc && cp -a {}/. /etc/ && exec \"$0\" \"$@\"",
                    dir.display()
                );
                command
                    .args(["unshare", "--mount", "--propagation", "private", "sh", "-c"])
                    .arg(script)
                    .arg(program);
            }
            None => {
                command.arg(program);
            }
        }
        command
    }
}

impl Ns {
    /// A command running `program ARGS` inside, as a host whose `/etc` and
    /// `/var/log` are copies of `files/etc` and `files/var/log` (empty
    /// when missing), each on a tmpfs in a private mount namespace: the
    /// scenario host sees its own configuration and logs, never the
    /// machine's, and nothing of the machine's is touched. With an
    /// `etc/hostname`, the command also runs in its own UTS namespace under
    /// that name.
    pub fn host_command(&self, files: &Path, program: &str) -> Command {
        let mut script = String::new();
        let mut unshare = vec!["unshare", "--mount", "--propagation", "private"];
        if let Ok(name) = std::fs::read_to_string(files.join("etc/hostname")) {
            unshare.push("--uts");
            script.push_str(&format!("hostname '{}' && ", name.trim()));
        }
        for dir in ["etc", "var/log"] {
            script.push_str(&format!("mount -t tmpfs diag-test-host /{dir} && "));
            let from = files.join(dir);
            if from.is_dir() {
                script.push_str(&format!("cp -a '{}'/. /{dir}/ && ", from.display()));
            }
        }
        script.push_str("exec \"$0\" \"$@\"");
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name])
            .args(unshare)
            .args(["sh", "-c"])
            .arg(script)
            .arg(program);
        command
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A child process, killed and reaped on drop.
#[derive(Debug)]
pub struct Killed(pub Child);

impl Killed {
    /// Kills it now.
    pub fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Connects `a` and `b` with a veth pair named `a_name`/`b_name` inside
/// them, both ends up.
pub fn veth(a: &Ns, a_name: &str, b: &Ns, b_name: &str) {
    let x = unique("dpa");
    let y = unique("dpb");
    must(&["ip", "link", "add", &x, "type", "veth", "peer", "name", &y]);
    must(&["ip", "link", "set", &x, "netns", &a.name]);
    must(&["ip", "link", "set", &y, "netns", &b.name]);
    a.ip(&["link", "set", &x, "name", a_name]);
    b.ip(&["link", "set", &y, "name", b_name]);
    a.ip(&["link", "set", a_name, "up"]);
    b.ip(&["link", "set", b_name, "up"]);
}

/// Waits until something accepts TCP connections on `addr` inside `ns`.
pub fn wait_for_tcp(ns: &Ns, addr: &str, port: u16) {
    let check = format!(
        "import socket,sys\nfor i in range(100):\n  try:\n    socket.create_connection(('{addr}',{port}),0.2).close(); sys.exit(0)\n  except OSError:\n    import time; time.sleep(0.05)\nsys.exit(1)"
    );
    ns.exec(&["python3", "-c", &check]);
}

/// Founding incident 000's host: `host` and `client` joined by a veth
/// (192.0.2.2 and 192.0.2.200/24), an `/etc/ips` (in the returned
/// directory, to lay over /etc with [`Ns::command`]) listing 192.0.2.10 to
/// .14, of which only .10 and .11 are bound, as after the reboot.
pub fn half_bound_aliases() -> (Ns, Ns, tempfile::TempDir) {
    let host = Ns::new();
    let client = Ns::new();
    veth(&host, "eth0", &client, "eth0");
    host.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
    client.ip(&["addr", "add", "192.0.2.200/24", "dev", "eth0"]);
    for bound in ["192.0.2.10", "192.0.2.11"] {
        host.ip(&["addr", "add", &format!("{bound}/24"), "dev", "eth0"]);
    }
    let etc = tempfile::tempdir().expect("tempdir");
    let ips: String = (10..=14)
        .map(|n| format!("192.0.2.{n}:255.255.255.0:192.0.2.255\n"))
        .collect();
    std::fs::write(etc.path().join("ips"), ips).expect("write ips");
    (host, client, etc)
}

/// Lowers `net.ipv4.neigh.default.gc_thresh1..3` and restores the values
/// it found when dropped (also while a failing test unwinds).
#[derive(Debug)]
pub struct GcThresh(Vec<(String, String)>);

impl GcThresh {
    /// Sets gc_thresh1..3 to `values`.
    pub fn lower(values: [u32; 3]) -> Self {
        let path = |n: usize| format!("/proc/sys/net/ipv4/neigh/default/gc_thresh{n}");
        let saved = (1..=3)
            .map(|n| {
                let old = std::fs::read_to_string(path(n)).expect("read gc_thresh");
                (path(n), old.trim().to_string())
            })
            .collect();
        let guard = GcThresh(saved);
        // thresh3 first: each must stay at or above the one below it.
        for n in [3, 2, 1] {
            std::fs::write(path(n), format!("{}\n", values[n - 1])).expect("write gc_thresh");
        }
        guard
    }
}

impl Drop for GcThresh {
    fn drop(&mut self) {
        for (path, value) in self.0.iter().rev() {
            let _ = std::fs::write(path, format!("{value}\n"));
        }
    }
}

/// Founding incident 001's path: `client` (10.1.0.2/24, default via
/// 10.1.0.1) → `router` (10.1.0.1 and 10.2.0.1, forwarding; the only
/// namespace that does) → `upstream` (10.2.0.2/24, default via 10.2.0.1).
pub fn routed_upstream() -> (Ns, Ns, Ns) {
    let client = Ns::new();
    let router = Ns::new();
    let upstream = Ns::new();
    veth(&client, "eth0", &router, "eth0");
    veth(&router, "eth1", &upstream, "eth0");
    client.ip(&["addr", "add", "10.1.0.2/24", "dev", "eth0"]);
    client.ip(&["route", "add", "default", "via", "10.1.0.1"]);
    router.ip(&["addr", "add", "10.1.0.1/24", "dev", "eth0"]);
    router.ip(&["addr", "add", "10.2.0.1/24", "dev", "eth1"]);
    // Per-namespace sysctl: only the router namespace forwards.
    router.exec(&["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    upstream.ip(&["addr", "add", "10.2.0.2/24", "dev", "eth0"]);
    upstream.ip(&["route", "add", "default", "via", "10.2.0.1"]);
    (client, router, upstream)
}

/// A resolver (dnsmasq, no upstream servers, no hosts file) on
/// `address`:53 inside `ns`, answering the names of `answers`
/// (`/example.test/192.0.2.99` form); waits until it accepts TCP.
pub fn resolver(ns: &Ns, address: &str, answers: &[&str]) -> Killed {
    let listen = format!("--listen-address={address}");
    let mut args = vec![
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        &listen,
        "--port=53",
        "--pid-file=",
        "--user=root",
    ];
    let answers: Vec<String> = answers.iter().map(|a| format!("--address={a}")).collect();
    args.extend(answers.iter().map(String::as_str));
    let child = ns.spawn(&args);
    wait_for_tcp(ns, address, 53);
    child
}
