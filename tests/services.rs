//! Services diagnosed for real: Debian's `apache2`, started by hand with
//! its own configuration in a temporary root, denied by a permission
//! change made after a baseline was saved (incident 001).
//!
//! Isolation: Apache runs in its own mount namespace (`unshare --mount`)
//! where the test's `etc/apache2`, `var/www` and `var/log/apache2` are
//! bind-mounted over the host's, so the paths it logs are the real paths
//! `/var/www/html/...` and the host's own directories are never touched.
//! It listens on 127.0.0.1 on a free port, runs its workers as `www-data`,
//! and is stopped (its whole process group) in a Drop guard, also when the
//! test fails. Needs root and the apache2 package (`.ci/run` installs it).

mod common;

use common::{cause_ids, diag_json, finding_ids};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Apache, stopped with its process group on drop.
struct Apache {
    child: Child,
}

impl Apache {
    /// Starts `apache2 -DFOREGROUND` with the configuration below `root`.
    fn start(root: &Path) -> Apache {
        assert!(
            ["/usr/sbin/apache2", "/usr/bin/apache2"]
                .iter()
                .any(|p| Path::new(p).exists()),
            "this test needs Debian's apache2: apt-get install apache2 (.ci/run does)"
        );
        let r = root.display();
        let script = format!(
            "mount --bind {r}/etc/apache2 /etc/apache2 && \
             mount --bind {r}/var/www /var/www && \
             mount --bind {r}/var/log/apache2 /var/log/apache2 && \
             . /etc/apache2/envvars && \
             exec apache2 -f /etc/apache2/apache2.conf -DFOREGROUND"
        );
        let child = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start apache2 (is the apache2 package installed?)");
        Apache { child }
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal("-KILL");
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A root with Apache's configuration, a web root whose `aliases` folder
/// belongs to www-data, and the host's own passwd/group (Apache's
/// www-data is the host's).
fn web_root(dir: &Path, port: u16) -> PathBuf {
    let root = dir.join("root");
    write(
        root.join("etc/apache2/envvars"),
        "export APACHE_RUN_USER=www-data\nexport APACHE_RUN_GROUP=www-data\n",
    );
    write(
        root.join("etc/apache2/apache2.conf"),
        &format!(
            "ServerRoot \"/etc/apache2\"\n\
             ServerName localhost\n\
             PidFile /var/log/apache2/apache2.pid\n\
             LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n\
             LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n\
             LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n\
             LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n\
             User ${{APACHE_RUN_USER}}\n\
             Group ${{APACHE_RUN_GROUP}}\n\
             ErrorLog /var/log/apache2/error.log\n\
             LogLevel warn\n\
             Listen 127.0.0.1:{port}\n\
             DocumentRoot \"/var/www/html\"\n\
             Alias /aliases \"/var/www/html/aliases\"\n\
             <Directory /var/www/html>\n  Require all granted\n</Directory>\n"
        ),
    );
    write(root.join("var/www/html/index.html"), "home\n");
    write(root.join("var/www/html/aliases/index.html"), "aliased\n");
    std::fs::create_dir_all(root.join("var/log/apache2")).expect("mkdir");
    for file in ["etc/passwd", "etc/group"] {
        std::fs::copy(Path::new("/").join(file), root.join(file)).expect("copy accounts");
    }
    let www = nix_ids("www-data");
    for path in [
        "var/www/html",
        "var/www/html/index.html",
        "var/www/html/aliases",
        "var/www/html/aliases/index.html",
    ] {
        std::os::unix::fs::chown(root.join(path), Some(www), Some(www)).expect("chown");
    }
    for path in [dir, &root, &root.join("var"), &root.join("var/www")] {
        set_mode(path, 0o755);
    }
    root
}

fn nix_ids(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no user {user} on this host"))
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// GET `path`; the status code.
fn get(port: u16, path: &str) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("timeout");
                write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
                let mut response = String::new();
                let _ = stream.read_to_string(&mut response);
                return response
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| panic!("not HTTP: {response:?}"));
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("apache2 never listened on 127.0.0.1:{port}: {e}"),
        }
    }
}

fn wait_for_log(log: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `diag check --format json --root ROOT --baseline FILE`.
fn check_with_baseline(root: &Path, baseline: &Path) -> (serde_json::Value, i32) {
    diag_json(&[
        "check",
        "--format",
        "json",
        "--root",
        root.to_str().expect("utf-8 path"),
        "--baseline",
        baseline.to_str().expect("utf-8 path"),
    ])
}

#[test]
fn incident_001_apache_denied_by_aliases_chmod_ranks_permission_drift_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let root = web_root(dir.path(), port);
    let baseline = dir.path().join("baseline.json");
    let root_arg = root.to_str().expect("utf-8 path");
    let out = common::diag(&[
        "baseline",
        "save",
        "-o",
        baseline.to_str().expect("utf-8"),
        "--root",
        root_arg,
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));

    // Healthy: Apache serves the alias, the baseline shows no drift.
    {
        let _apache = Apache::start(&root);
        assert_eq!(get(port, "/aliases/index.html"), 200);
    }
    let (json, _) = check_with_baseline(&root, &baseline);
    assert!(
        !cause_ids(&json).contains(&"fs.permission-drift".to_string()),
        "{json:#}"
    );
    assert!(!finding_ids(&json).contains(&"service.permission-denied".to_string()));

    // The security patch: aliases now root:root 0700.
    let aliases = root.join("var/www/html/aliases");
    std::os::unix::fs::chown(&aliases, Some(0), Some(0)).expect("chown");
    set_mode(&aliases, 0o700);
    {
        let _apache = Apache::start(&root);
        assert_eq!(get(port, "/aliases/index.html"), 403);
        let log = wait_for_log(&root.join("var/log/apache2/error.log"), "Permission denied");
        assert!(log.contains("(13)Permission denied"), "{log}");
    }

    let (json, code) = check_with_baseline(&root, &baseline);
    assert_eq!(code, 2, "{json:#}");
    let causes = cause_ids(&json);
    assert_eq!(
        causes.first().map(String::as_str),
        Some("fs.permission-drift"),
        "{json:#}"
    );
    let top = &json["causes"][0];
    let explains: Vec<_> = top["explains"]
        .as_array()
        .expect("explains")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(explains.contains(&"service.permission-denied"), "{top:#}");
    assert!(explains.contains(&"baseline.permission-changed"), "{top:#}");
    let evidence = top["evidence"].to_string();
    assert!(
        evidence.contains(
            "/var/www/html/aliases: owner root:root mode 0700, was www-data:www-data mode 0755"
        ),
        "{evidence}"
    );
    assert!(evidence.contains("var/log/apache2/error.log"), "{evidence}");
    assert!(evidence.contains("(13)Permission denied"), "{evidence}");
    let summary = top["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("www-data:www-data cannot read") || summary.contains("cannot"),
        "{summary}"
    );
}
