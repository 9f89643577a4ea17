//! `diag report` end to end: outputs and formats, atomic writes, stdout,
//! errors, and the HTML report opened in headless Chromium.
//!
//! The Chromium test needs Debian's `chromium` (`.ci/run` installs it);
//! without it, it fails saying what to install: a test never passes
//! silently for want of its tool.

mod common;

use common::{diag, stderr, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    workspace()
        .join("fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn several_outputs_share_one_diagnosis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("r.md");
    let html = dir.path().join("r.HTML");
    let json = dir.path().join("r.json");
    let out = diag(&[
        "report",
        "--from",
        &fixture("http6-gateway-typo"),
        "-o",
        md.to_str().expect("utf-8"),
        "-o",
        html.to_str().expect("utf-8"),
        "--output",
        json.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = std::fs::read_to_string(md).expect("md");
    let html = std::fs::read_to_string(html).expect("html");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("json")).expect("JSON");
    assert!(md.starts_with("# diag report: http6\n"), "{md}");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(json["schema"], "diag/1");
    assert_eq!(json["causes"][0]["id"], "route.gateway-misconfigured");
    // One diagnosis: the same generation time everywhere.
    let at = json["generated_at"].as_str().expect("generated_at");
    assert!(md.contains(at) && html.contains(at), "{at}");
    // The command line is recorded.
    assert!(json["report"]["made"]["command_line"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "--from")));
    // Nothing but the three reports is left in the directory.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn dash_writes_to_stdout_in_the_given_format() {
    let out = diag(&[
        "report",
        "--from",
        &fixture("healthy-vm"),
        "--format",
        "md",
        "-o",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# diag report: vm\n"), "{text}");
    assert!(text.contains("No rule found anything wrong."));
}

#[test]
fn report_replaces_an_existing_file_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.json");
    std::fs::write(&path, "x".repeat(100_000)).expect("write");
    let out = diag(&[
        "report",
        "--from",
        &fixture("healthy-vm"),
        "-o",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(json["schema"], "diag/1");
}

#[test]
fn format_errors_name_the_output_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let txt = dir.path().join("r.txt");
    let out = diag(&[
        "report",
        "--from",
        &fixture("healthy-vm"),
        "-o",
        txt.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("r.txt: cannot tell the format"),
        "{}",
        stderr(&out)
    );

    let md = dir.path().join("r.md");
    let out = diag(&[
        "report",
        "--from",
        &fixture("healthy-vm"),
        "--format",
        "json",
        "-o",
        md.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("r.md: the extension says md but --format says json"));

    let out = diag(&["report", "--from", &fixture("healthy-vm")]);
    assert_eq!(out.status.code(), Some(3), "-o is required");

    let out = diag(&[
        "report",
        "--from",
        "/nonexistent/bundle",
        "-o",
        "-",
        "--format",
        "md",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("/nonexistent/bundle: no such bundle"));
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn unwritable_output_is_an_error_naming_it() {
    let out = diag(&[
        "report",
        "--from",
        &fixture("healthy-vm"),
        "-o",
        "/nonexistent-dir/r.md",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/nonexistent-dir"),
        "{}",
        stderr(&out)
    );
}

// ---- headless Chromium -----------------------------------------------------

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs headless Chromium on `page` with `extra` flags; returns stdout and
/// stderr. Killed after a minute.
fn run_chromium(binary: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let logs = tempfile::tempdir().expect("log dir");
    let stdout_path = logs.path().join("stdout");
    let stderr_path = logs.path().join("stderr");
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within 60 s; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    )
}

/// Console messages Chromium logged (`INFO:CONSOLE:1] "message", source:`).
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(binary) = chromium() else {
        panic!("this test needs headless Chromium: apt-get install chromium (.ci/run does)");
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // The console check can fail: a page that logs an error is caught.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><p>x</p><script>console.error('diag-control-error')</script>",
    )
    .expect("write");
    let (_, log) = run_chromium(&binary, &control, &["--dump-dom".into()]);
    assert!(
        console_messages(&log)
            .iter()
            .any(|l| l.contains("diag-control-error")),
        "chromium's console log is not where the test looks:\n{log}"
    );

    let page = dir.path().join("report.html");
    let out = diag(&[
        "report",
        "--from",
        &fixture("http6-gateway-typo"),
        "-o",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let (dom, log) = run_chromium(&binary, &page, &["--dump-dom".into()]);
    assert!(dom.contains("id=\"summary\""), "{dom}");
    assert!(
        dom.contains("Most likely cause: <strong>Default route misconfigured"),
        "the summary is not in the rendered DOM:\n{dom}"
    );
    assert!(dom.contains("<svg"), "no timeline chart");
    assert!(!dom.contains("<script"), "a script element in the report");
    let console = console_messages(&log);
    assert!(console.is_empty(), "console messages: {console:#?}");

    let png = dir.path().join("report.png");
    let (_, log) = run_chromium(
        &binary,
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,1800".into(),
        ],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    assert_eq!((width, height), (1200, 1800));
    // A blank page of that size compresses to a few kilobytes; text,
    // tables and the chart make it far larger.
    assert!(bytes.len() > 40_000, "screenshot is {} bytes", bytes.len());
    assert!(console_messages(&log).is_empty(), "{log}");
}

#[test]
fn report_help_is_stable() {
    let out = diag(&["report", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// Issue 25: printed to PDF, the HTML report lost the evidence of every
/// finding (it sits in closed `<details>`). Printing opens them: headless
/// Chromium's PDF, read back by `pdftotext`, holds a finding's evidence
/// line.
#[test]
fn the_printed_html_report_keeps_the_evidence_of_findings() {
    let Some(binary) = chromium() else {
        panic!("this test needs headless Chromium: apt-get install chromium (.ci/run does)");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("r.html");
    let out = diag(&[
        "report",
        "--from",
        &fixture("http6-gateway-typo"),
        "-o",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).expect("report");
    // A finding's evidence line, inside a closed <details>.
    let line = "net_ratelimit: 2127 callbacks suppressed";
    let closed = html.find("<details>").expect("a closed details block");
    assert!(html[closed..].contains(line), "not in a closed block");
    let pdf = dir.path().join("r.pdf");
    run_chromium(
        &binary,
        &page,
        &[format!("--print-to-pdf={}", pdf.display())],
    );
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("run pdftotext (apt-get install poppler-utils; .ci/run does)");
    assert!(text.status.success(), "pdftotext failed");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(line), "the PDF lost the evidence:\n{text}");
}
