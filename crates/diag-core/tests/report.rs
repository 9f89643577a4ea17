//! The postmortem reports (`diag_core::report`): snapshots of every format
//! for several fixtures, the JSON Schema (committed copy equals the derived
//! one; real output validates against it), hostile strings from the host,
//! and the embedding example.

use diag_core::analysis::Analysis;
use diag_core::diagnose::rules::RuleSet;
use diag_core::report::{self, Report};
use diag_core::source::Bundle;
use diag_core::source::{CollectOptions, Snapshot};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A report of the bundle at `path` made deterministic: fixed read and
/// generation times, version, rule-set hash, command line and path.
fn report_of(path: &Path, shown_path: &str) -> Report {
    let bundle = Bundle::open(path).expect("open bundle");
    let mut snapshot = Snapshot::collect(&bundle, &CollectOptions::default());
    // A bundle without manifest dates its year-less syslog lines by the
    // time it is read.
    snapshot.taken_at = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let rules = RuleSet::builtin().expect("built-in rules");
    let mut report = Analysis::of_snapshot(snapshot, &rules).report(
        &rules,
        vec![
            "diag".into(),
            "report".into(),
            "--from".into(),
            shown_path.into(),
        ],
    );
    report.diagnosis.generated_at = "2026-01-01T00:00:00Z".into();
    report.diagnosis.source.path = shown_path.into();
    report.context.made.diag_version = "VERSION".into();
    report.context.made.rules_hash = "RULES-HASH".into();
    report.context.made.rule_count = 0;
    report
}

const FIXTURES: &[&str] = &["http6-gateway-typo", "http6-raid-quotacheck", "healthy-vm"];

#[test]
fn snapshots_of_every_format() {
    for name in FIXTURES {
        let report = report_of(
            &workspace().join("fixtures").join(name),
            &format!("fixtures/{name}"),
        );
        insta::assert_snapshot!(format!("{name}.md"), report::markdown(&report));
        insta::assert_snapshot!(format!("{name}.html"), report::html(&report));
        insta::assert_snapshot!(format!("{name}.json"), report::json(&report));
    }
}

#[test]
fn committed_schema_equals_derived_schema() {
    let committed =
        std::fs::read_to_string(workspace().join("docs/diag-1.schema.json")).unwrap_or_default();
    let derived = report::schema();
    if committed != derived {
        std::fs::write(std::env::temp_dir().join("diag-1.schema.json"), &derived).ok();
        panic!(
            "docs/diag-1.schema.json is not the schema derived from the types; \
             the derived one is in {}/diag-1.schema.json: copy it over",
            std::env::temp_dir().display()
        );
    }
}

static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
    let schema: serde_json::Value =
        serde_json::from_str(&report::schema()).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
});

fn validate(json: &str) {
    let validator = &*VALIDATOR;
    let instance: serde_json::Value = serde_json::from_str(json).expect("report is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(instance["schema"], "diag/1");
}

#[test]
fn every_fixture_report_validates_against_the_schema() {
    let mut n = 0;
    for entry in std::fs::read_dir(workspace().join("fixtures")).expect("fixtures") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let report = report_of(&path, "x");
        validate(&report::json(&report));
        // A plain diagnosis (`diag check --format json`) is valid too.
        validate(&serde_json::to_string(&report.diagnosis).expect("JSON"));
        n += 1;
    }
    assert!(n >= 3, "only {n} fixtures");
}

#[test]
fn the_schema_rejects_what_is_not_a_report() {
    let schema: serde_json::Value = serde_json::from_str(&report::schema()).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let report = report_of(&workspace().join("fixtures/http6-gateway-typo"), "x");
    let mut value = serde_json::to_value(&report).expect("value");
    assert!(validator.is_valid(&value));
    value["causes"][0]["confidence"] = "high".into();
    assert!(!validator.is_valid(&value), "a string confidence passed");
    let mut value = serde_json::to_value(&report).expect("value");
    value["report"]["timeline"][0]["kind"] = "party".into();
    assert!(!validator.is_valid(&value), "an unknown event kind passed");
}

// ---- hostile strings -------------------------------------------------------

const SCRIPT: &str = "<script>alert(1)</script>";

/// A bundle whose host name, log lines and file names hold HTML, Markdown
/// syntax, quotes, backticks, pipes, ANSI escapes and invalid UTF-8.
fn hostile_bundle(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    };
    let mut hostname = b"web<script>alert(1)</script>\"'&`|\x1b[31m".to_vec();
    hostname.extend_from_slice(&[0xff, 0xfe]);
    hostname.extend_from_slice(b"x\n");
    write("proc/sys/kernel/hostname", &hostname);
    write("proc/sys/kernel/osrelease", b"6.1.0-<b>bold</b>\n");
    write("proc/stat", b"cpu  1 2 3 4\nbtime 1790000000\n");
    let mut kmsg = Vec::new();
    kmsg.extend_from_slice(b"6,1,1000000,-;Linux version 6.1.0 (x) #1\n");
    kmsg.extend_from_slice(
        b"6,2,2000000,-;e1000e: eth0 NIC Link is Down <script>alert(1)</script> \"'& ``` | \x1b[31mred\x1b[0m\n",
    );
    for seq in 3..12u32 {
        kmsg.extend_from_slice(
            format!(
                "4,{seq},{}000000,-;IPv4: Neighbour table overflow. ```` |a|b| <img src=x onerror=alert(2)> \x1b[1m\n",
                seq * 2
            )
            .as_bytes(),
        );
    }
    kmsg.extend_from_slice(b"6,20,30000000,-;bad \xff\xfe utf8 md/raid1:md0: Disk failure on sdb1 <i>x</i>, disabling device.\n");
    kmsg.extend_from_slice(b"this line is not a kmsg record <script>alert(3)</script>\n");
    write("dev/kmsg", &kmsg);
    write(
        "proc/net/route",
        b"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n",
    );
    // A configuration file whose name is an HTML tag with a pipe and a
    // backtick, holding a broken line.
    write(
        "etc/netplan/<img src=x onerror=alert(4)>|`.yaml",
        b"network:\n  ethernets:\n    eth0:\n      addresses: [\"<script>alert(5)</script>\"]\n  : : ]\n",
    );
}

fn hostile_report() -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().expect("tempdir");
    hostile_bundle(dir.path());
    let report = report_of(dir.path(), "/tmp/<script>alert(6)</script>|`x`");
    (dir, report)
}

#[test]
fn hostile_strings_reach_the_report() {
    // The test means something only if the hostile strings are in it.
    let (_dir, report) = hostile_report();
    let host = report.diagnosis.source.host.clone().unwrap_or_default();
    assert!(host.contains(SCRIPT), "{host}");
    let json = report::json(&report);
    assert!(
        json.contains("NIC Link is Down <script>"),
        "state change not in timeline"
    );
    assert!(
        json.contains("onerror=alert(2)"),
        "evidence line not in report"
    );
    assert!(json.contains("onerror=alert(4)"), "file name not in report");
}

#[test]
fn hostile_strings_stay_text_in_html() {
    let (_dir, report) = hostile_report();
    let html = report::html(&report);
    // The only tags are the template's: no script, no img, no <b> or <i>.
    for tag in ["<script", "<img", "<b>", "<i>"] {
        assert!(!html.contains(tag), "{tag} injected:\n{html}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // Attribute values cannot be broken out of: every quote is escaped.
    assert!(!html.contains("\"'&amp;`|") || html.contains("&quot;'&amp;"));
    // ANSI escapes are shown, not passed through.
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains('\u{241b}'));
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn hostile_strings_stay_text_in_markdown() {
    let (_dir, report) = hostile_report();
    let md = report::markdown(&report);
    assert!(!md.contains('\u{1b}'));
    let mut in_code = false;
    let mut table_columns = Vec::new();
    let mut row_cells = 0;
    let mut header_cells = 0;
    let mut code_blocks = Vec::new();
    let mut text = String::new();
    for event in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                panic!("raw HTML reached the Markdown: {h:?}\n{md}")
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                assert_eq!(&*info, "text");
                in_code = true;
                code_blocks.push(String::new());
            }
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(t) if in_code => {
                if let Some(last) = code_blocks.last_mut() {
                    last.push_str(&t);
                }
            }
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::Start(Tag::Table(alignments)) => table_columns.push(alignments.len()),
            Event::Start(Tag::TableHead) => header_cells = 0,
            Event::End(TagEnd::TableHead) => {
                assert_eq!(Some(&header_cells), table_columns.last())
            }
            Event::Start(Tag::TableRow) => row_cells = 0,
            Event::End(TagEnd::TableRow) => {
                assert_eq!(
                    Some(&row_cells),
                    table_columns.last(),
                    "a table row has the wrong number of cells:\n{md}"
                )
            }
            Event::Start(Tag::TableCell) => {
                row_cells += 1;
                header_cells += 1;
            }
            _ => {}
        }
    }
    // Evidence excerpts survive whole inside their code blocks, the
    // four-backtick run included.
    assert!(
        code_blocks.iter().any(
            |b| b.contains("Neighbour table overflow. ```` |a|b| <img src=x onerror=alert(2)>")
        ),
        "{code_blocks:#?}"
    );
    // Host strings outside code read back as the text they were.
    assert!(text.contains("<script>alert(1)</script>\"'&`|"), "{text}");
    assert!(
        text.contains("NIC Link is Down <script>alert(1)</script>"),
        "{text}"
    );
    assert!(!table_columns.is_empty());
}

#[test]
fn hostile_strings_keep_json_valid() {
    let (_dir, report) = hostile_report();
    let json = report::json(&report);
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let host = value["source"]["host"].as_str().expect("host");
    assert!(host.contains(SCRIPT));
    // Invalid UTF-8 became replacement characters, not an error.
    assert!(host.contains('\u{fffd}'));
    validate(&json);
}

// ---- the embedding example -------------------------------------------------

/// Runs the `top_cause` example on a fixture; its stdout.
fn top_cause(fixture: &str) -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "run",
            "--quiet",
            "-p",
            "diag-core",
            "--example",
            "top_cause",
            "--",
        ])
        .arg(format!("fixtures/{fixture}"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn top_cause_example_prints_the_top_cause() {
    let stdout = top_cause("http6-gateway-typo");
    assert!(
        stdout.starts_with("route.gateway-misconfigured"),
        "{stdout}"
    );
    assert_eq!(top_cause("healthy-vm"), "no cause found\n");
}
