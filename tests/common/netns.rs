//! Network namespaces for end-to-end tests: created under fresh names,
//! deleted on drop (also when a test fails); veth pairs created under
//! random names in the root namespace, moved at once and renamed only
//! inside their namespaces; processes started in a namespace are killed on
//! drop. Traffic goes only between namespaces a test created.
#![allow(dead_code)]

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
pub struct Ns {
    /// Its name.
    pub name: String,
}

impl Ns {
    /// A fresh namespace with `lo` up.
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

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A child process, killed and reaped on drop.
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
