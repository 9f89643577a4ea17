use super::*;

fn problems_of(text: &str) -> Vec<String> {
    let files = vec![RuleFile {
        name: "r.toml".to_string(),
        text: text.to_string(),
        cases: CaseFiles::None,
    }];
    let mut parsed = parse_files(&files, Depth::Checked);
    let mut problems = std::mem::take(&mut parsed.problems);
    if let Err(Error::Rules(more)) = finish(parsed, &BTreeSet::new(), 0) {
        problems.extend(more);
    }
    problems.iter().map(ToString::to_string).collect()
}

/// The fixture cases every rule needs; engine tests that build their own
/// rules append this to each.
pub(crate) const CASES: &str = r#"
[[rule.case]]
name = "f"
expect = "fires"
[[rule.case]]
name = "q"
expect = "quiet"
"#;

#[test]
fn builtin_rules_load_and_every_case_passes() {
    // Checked in full: every pattern compiles, the log set builds, every
    // summary's fields exist, every rule has both kinds of case.
    let rules = RuleSet::builtin_with_cases().expect("built-in rules are valid");
    assert!(rules.get("neigh.table-overflow").is_some());
    assert!(rules.get("kmsg.messages-suppressed").is_some());
    let outcomes = crate::diagnose::test_rules(&rules);
    assert!(outcomes.len() >= 6);
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// What every command but `rules test`/`validate` loads is the same rule
/// set as the one the tests check, less the cases.
#[test]
fn builtin_rules_without_cases_are_the_checked_ones() {
    let checked = RuleSet::builtin_with_cases().expect("built-in rules");
    let fast = RuleSet::builtin().expect("built-in rules");
    assert_eq!(checked.fingerprint(), fast.fingerprint());
    assert_eq!(checked.rules().len(), fast.rules().len());
    let conditions = |r: &Rule| -> Vec<Condition> {
        let mut all: Vec<Condition> = [&r.when, &r.needs, &r.unless, &r.evidence]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        all.extend(r.fields.iter().map(|(_, c)| c.clone()));
        all.extend(r.severity_when.iter().map(|(_, c)| c.clone()));
        all
    };
    for (a, b) in checked.rules().iter().zip(fast.rules()) {
        assert_eq!((&a.id, &a.file, a.line), (&b.id, &b.file, b.line));
        assert!(!a.cases.is_empty(), "{}", a.id);
        assert!(b.cases.is_empty(), "{}", b.id);
        // Conditions compiled on first use refer to the findings that
        // the compiled expression refers to, so the order is the same.
        for (x, y) in conditions(a).iter().zip(conditions(b).iter()) {
            assert_eq!(x.source, y.source);
            assert_eq!(x.text, y.text, "{}: lets expanded alike", a.id);
            assert_eq!(x.refers_to, y.refers_to, "{}: `{}`", a.id, x.source);
            let _ = y.program();
        }
    }
    // The patterns compile on first use, the set too.
    let (set, owners) = fast.log_set().expect("built-in log patterns");
    assert_eq!(set.len(), owners.len());
    let overflow = fast.get("neigh.table-overflow").expect("rule");
    let log = overflow.log.as_ref().expect("a log pattern");
    assert!(log
        .regex()
        .is_match("neighbour: arp_cache: neighbor table overflow!"));
    // User rules added to them are checked in full.
    let problems = |summary: &str| -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let rule = format!(
            "[[rule]]\nid = \"u.x\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"{summary}\"\n[rule.log]\npattern = 'x(?P<dev>y)'\n"
        );
        std::fs::write(dir.path().join("u.toml"), rule).expect("write");
        match RuleSet::load(&[dir.path()]) {
            Err(Error::Rules(problems)) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("a user rule without cases loaded: {other:?}"),
        }
    };
    let unknown = problems("{nope}");
    assert!(
        unknown.len() == 1 && unknown[0].contains("{nope}"),
        "{unknown:?}"
    );
    let no_cases = problems("{dev}");
    assert!(
        no_cases.len() == 1 && no_cases[0].contains("needs at least one case"),
        "{no_cases:?}"
    );
}

/// Session 16: a built-in rule's conditions compile on first use, and
/// `while_warming` compiles every rule's `needs` and `when` on another
/// thread while its closure runs, and gives the closure's value.
#[test]
fn while_warming_compiles_what_every_rule_evaluates() {
    let rules = RuleSet::builtin().expect("built-in rules");
    let always = |set: &RuleSet| -> (usize, usize) {
        let conditions: Vec<&Condition> = set
            .rules()
            .iter()
            .flat_map(|r| [&r.needs, &r.when])
            .flatten()
            .collect();
        let compiled = conditions.iter().filter(|c| c.program.get().is_some());
        (compiled.count(), conditions.len())
    };
    let (compiled, total) = always(&rules);
    assert_eq!(compiled, 0, "none compiled at load");
    assert!(total > 100, "{total} conditions");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let out = rules.while_warming(|| {
        while always(&rules).0 < total && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        42
    });
    assert_eq!(out, 42);
    assert_eq!(
        always(&rules),
        (total, total),
        "compiled beside the closure"
    );
}

#[test]
fn bad_regex_is_located_at_the_error() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'abc(def'\n{CASES}"
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("r.toml:7:"), "{problems:?}");
    assert!(
        problems[0].contains("regex does not compile"),
        "{problems:?}"
    );
}

#[test]
fn bad_exclude_regex_is_located_and_a_good_one_excludes() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'x'\nexclude = 'y(z'\n{CASES}"
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("r.toml:8:13:"), "{problems:?}");
    assert!(
        problems[0].contains("regex does not compile"),
        "{problems:?}"
    );
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'x'\nexclude = 'yz'\n{CASES}"
    );
    let rules = RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules");
    let log = rules.get("a.b").and_then(|r| r.log.as_ref()).expect("log");
    assert!(log.counts("x"));
    assert!(!log.counts("x yz"));
    assert!(!log.counts("y"));
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let problems = problems_of("[[rule]]\nid = \"a.b\ntitle = 1\n");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("r.toml:2:"), "{problems:?}");
}

#[test]
fn unknown_key_is_reported() {
    let problems = problems_of("[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"true\"\ncolour = 1\n");
    assert!(
        problems[0].contains("unknown field `colour`"),
        "{problems:?}"
    );
}

#[test]
fn unknown_field_in_condition_points_into_the_expression() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"facts.net.default_routes.exists(r, r.gatway == '')\"\n{CASES}"
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    // `r.gatway` is on line 6.
    assert!(problems[0].starts_with("r.toml:6:"), "{problems:?}");
    assert!(
        problems[0].contains("unknown field `gatway`"),
        "{problems:?}"
    );
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"facts.nieghbours.x > 1\"\n{CASES}"
    );
    assert!(problems_of(&text)[0].contains("unknown field `nieghbours`"));
}

#[test]
fn condition_syntax_error() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"facts.routes >\"\n{CASES}"
    );
    let problems = problems_of(&text);
    assert!(problems[0].starts_with("r.toml:6:"), "{problems:?}");
    assert!(
        problems[0].contains("condition does not parse"),
        "{problems:?}"
    );
}

#[test]
fn duplicate_ids_unknown_explains_and_missing_cases() {
    let rule = |id: &str, extra: &str| {
        format!("[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"true\"\n{extra}\n{CASES}")
    };
    let text = format!("{}{}", rule("a.b", ""), rule("a.b", ""));
    let problems = problems_of(&text);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("duplicate rule id \"a.b\"") && p.starts_with("r.toml:")),
        "{problems:?}"
    );

    let problems = problems_of(&rule("a.c", "explains = [\"no.such\"]"));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("explains unknown finding \"no.such\"")),
        "{problems:?}"
    );

    let problems = problems_of("[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"'x.y' in findings\"\n");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("unknown finding \"x.y\"")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("needs at least one case")),
        "{problems:?}"
    );
}

#[test]
fn bad_severity_and_template_field() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"loud\"\nsummary = \"{{nope}}\"\nwhen = \"true\"\n{CASES}"
    );
    let problems = problems_of(&text);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("r.toml:4:13: severity \"loud\"")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("summary uses {nope}")),
        "{problems:?}"
    );
}

#[test]
fn cycles_are_refused() {
    let rule = |id: &str, other: &str| {
        format!("[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"'{other}' in findings\"\n{CASES}")
    };
    let text = format!("{}{}", rule("a.b", "a.c"), rule("a.c", "a.b"));
    let problems = problems_of(&text);
    assert!(
        problems.iter().any(|p| p.contains("reference cycle")),
        "{problems:?}"
    );
}

#[test]
fn templates() {
    let fields = BTreeMap::from([("n".to_string(), "3".to_string())]);
    assert_eq!(
        render_template("{n} of {{x}} {missing} }", &fields),
        "3 of {x} {missing} }"
    );
    assert_eq!(template_names("a {b} {{c}} {d}"), vec!["b", "d"]);
    assert_eq!(render_template("open {n", &fields), "open {n");
    let with_empty = BTreeMap::from([
        ("e".to_string(), String::new()),
        ("n".to_string(), "3".to_string()),
    ]);
    assert_eq!(
        render_template("[{e|unknown}] [{n|unknown}] [{gone|-}]", &with_empty),
        "[unknown] [3] [-]"
    );
    assert_eq!(template_names("{a|x} {b}"), vec!["a", "b"]);
}

#[test]
fn references_are_read_from_the_text() {
    let text = r#"findings['a.b'].count > 0 && ('c-d.e' in findings || findings[ "f.g" ].fields.x == 'h.i')"#;
    assert_eq!(check::references(text), ["a.b", "c-d.e", "f.g"]);
}

/// Issue 19 item 7: `rules validate DIR` warns, at the innermost one,
/// about comprehensions nested three deep (their cost is the product of
/// their lists' sizes); the rule still loads.
#[test]
fn validate_warns_about_comprehensions_nested_three_deep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"facts.net.addresses.exists(a, facts.net.default_routes.exists(r, facts.net.links.exists(l, l.name == a.ifname)))\"\n{CASES}"
    );
    std::fs::write(dir.path().join("r.toml"), &text).expect("write");
    let problems = validate_dir(dir.path()).expect("validate");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let warning = &problems[0];
    assert!(warning.warning, "{warning}");
    assert_eq!(warning.line, 6);
    // At the innermost comprehension (`facts.net.links.exists`).
    let column =
        "when = \"facts.net.addresses.exists(a, facts.net.default_routes.exists(r, facts.net.links"
            .chars()
            .count();
    assert!(
        warning.col > column - 20 && warning.col <= column + 10,
        "{warning}"
    );
    let shown = warning.to_string();
    assert!(
        shown.contains(": warning: comprehensions")
            && shown.contains(
                "nested 3 deep over facts.net.addresses × facts.net.default_routes × facts.net.links"
            ),
        "{shown}"
    );
    // A warning is not a load error.
    assert!(RuleSet::from_files(&[("r.toml".into(), text)]).is_ok());
}

/// Issue 19 item 8: a log pattern over the compiled size limit is an error
/// at the pattern (a user rule's is a load error too), not a pattern that
/// takes megabytes and slows every line.
#[test]
fn a_pattern_over_the_size_limit_is_an_error_at_the_pattern() {
    let text = format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'x\\w{{60}}'\n{CASES}"
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("r.toml:7:12: "), "{problems:?}");
    assert!(problems[0].contains("size limit"), "{problems:?}");
    // The ASCII spelling of the same is small.
    let ascii = text.replace("x\\w{60}", "x(?-u:\\w){60}");
    assert!(problems_of(&ascii).is_empty());
}

/// User patterns are matched alone (under a time budget), not in the set
/// of built-in ones, which one slow pattern would slow down entirely.
#[test]
fn user_patterns_stay_out_of_the_builtin_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[[rule]]\nid = \"u.slow\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = '(?:a|b)*a(?:a|b){{200}}c'\n{CASES}"
    );
    std::fs::write(dir.path().join("u.toml"), text).expect("write");
    let rules = RuleSet::load(&[dir.path()]).expect("rules");
    let builtin = RuleSet::builtin().expect("built-in rules");
    let (set, owners) = rules.log_set().expect("set");
    let (builtin_set, _) = builtin.log_set().expect("set");
    assert_eq!(set.len(), builtin_set.len());
    assert!(owners.iter().all(|&i| rules.rules()[i].builtin));
    assert!(!rules.get("u.slow").expect("rule").builtin);
}

/// The capture of the `capture.arp-offlink-targets` cases: 10.0.0.2
/// (02:00:00:00:00:02) ARPs for 8.8.N.N, N = 1..=10, one request each,
/// 64 ms apart, to a unicast MAC (a broadcast MAC is not ASCII); the same
/// frames as `offlink_case` in the tests of `parse::pcap`.
fn offlink_arp() -> Vec<u8> {
    use crate::parse::pcap::build::{arp, pcapng};
    use diag_test_support::pcap_scenarios::{HOST, HOST_IP, PEER};
    let frames: Vec<(u64, Vec<u8>)> = (1u8..=10)
        .map(|n| {
            let mut f = arp(
                1,
                HOST,
                HOST_IP,
                [0; 6],
                std::net::Ipv4Addr::new(8, 8, n, n),
            );
            f[..6].copy_from_slice(&PEER);
            (u64::from(n) << 16, f)
        })
        .collect();
    pcapng(1, &frames)
}

/// `rules/cases/capture/` holds exactly the captures of
/// `diag_test_support::pcap_scenarios` (as `NAME.pcapng`) and [`offlink_arp`], byte
/// for byte; `DIAG_WRITE_CASES=1 cargo test -p diag-core
/// capture_case_files_are_the_scenarios` writes them again.
#[test]
fn capture_case_files_are_the_scenarios() {
    use crate::parse::pcap::build::pcapng;
    use diag_test_support::pcap_scenarios as scenarios;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/cases/capture");
    let mut expected: BTreeMap<String, Vec<u8>> = scenarios::all()
        .into_iter()
        .map(|(name, frames)| (format!("{name}.pcapng"), pcapng(1, &frames)))
        .collect();
    expected.insert("offlink_arp.pcapng".into(), offlink_arp());
    if std::env::var_os("DIAG_WRITE_CASES").is_some() {
        for (name, bytes) in &expected {
            std::fs::write(dir.join(name), bytes).expect("write a case file");
        }
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("rules/cases/capture")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".pcapng"))
        .collect();
    assert_eq!(
        present,
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "rules/cases/capture/ holds other files than the scenarios"
    );
    for (name, bytes) in &expected {
        let file = std::fs::read(dir.join(name)).expect("read a case file");
        assert!(
            file == *bytes,
            "rules/cases/capture/{name} differs from its generator \
             (DIAG_WRITE_CASES=1 cargo test -p diag-core capture_case_files_are_the_scenarios)"
        );
    }
    // And the built-in rules read them: every capture case names one.
    let rules = RuleSet::builtin_with_cases().expect("built-in rules");
    let captures = rules
        .rules()
        .iter()
        .flat_map(|r| &r.cases)
        .filter_map(|c| c.inputs.get("capture/eth0.pcapng"))
        .count();
    assert!(captures >= 30, "{captures}");
}

/// A rule with `[rule.let]` (name = expression lines) and `when`.
fn let_rule(when: &str, lets: &str, fields: &str) -> String {
    format!(
        "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"{when}\"\n[rule.let]\n{lets}\n[rule.fields]\n{fields}\n{CASES}"
    )
}

#[test]
fn lets_are_shared_by_the_conditions_and_evaluate_as_written_out() {
    let text = let_rule(
        "size(up) > 0",
        "up = \"facts.net.links.filter(l, l.up)\"\nnames = \"up.map(l, l.name)\"",
        "links = \"names.join(', ')\"\nfirst = \"up[0].mtu\"",
    );
    assert!(problems_of(&text).is_empty(), "{:?}", problems_of(&text));
    let rules = RuleSet::from_files(&[("r.toml".into(), text)]).expect("rules");
    let rule = rules.get("a.b").expect("rule");
    assert_eq!(rule.lets.len(), 2);
    assert_eq!(rule.lets[0].0, "up");
    let when = rule.when.as_ref().expect("when");
    assert_eq!(when.source, "size(up) > 0");
    assert_eq!(when.text, "size((facts.net.links.filter(l, l.up))) > 0");
    let facts = crate::facts::Facts::from_snapshot(&crate::source::snapshot::Snapshot::from_inputs([(
        "net/addr.json",
        r#"[{"ifindex":2,"ifname":"eth0","flags":["UP"],"mtu":9000,"operstate":"UP","addr_info":[]},
{"ifindex":3,"ifname":"eth1","flags":[],"mtu":1500,"operstate":"DOWN","addr_info":[]}]"#,
    )]))
    .0;
    let evaluation = crate::diagnose::evaluate(&facts, &rules);
    assert!(evaluation.notes.is_empty(), "{:?}", evaluation.notes);
    assert_eq!(evaluation.findings.len(), 1);
    // The fingerprint sees the lets.
    let other = let_rule(
        "size(up) > 0",
        "up = \"facts.net.links.filter(l, !l.up)\"\nnames = \"up.map(l, l.name)\"",
        "links = \"names.join(', ')\"\nfirst = \"up[0].mtu\"",
    );
    let other = RuleSet::from_files(&[("r.toml".into(), other)]).expect("rules");
    assert_ne!(rules.fingerprint(), other.fingerprint());
}

#[test]
fn let_problems_are_located_in_the_file() {
    // A typo in a let is reported once, at the let (line 8, the `gatway`).
    let text = let_rule(
        "size(bad) > 0",
        "bad = \"facts.net.default_routes.filter(r, r.gatway == '')\"",
        "n = \"string(size(bad))\"",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("r.toml:8:"), "{problems:?}");
    assert!(
        problems[0].contains("unknown field `gatway`"),
        "{problems:?}"
    );
    // A typo in a condition that uses a let is at the condition, in the
    // condition's own column.
    let text = let_rule(
        "bad.exists(r, r.gatway == '')",
        "bad = \"facts.net.default_routes\"",
        "",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("r.toml:6:"), "{problems:?}");
    // A let that names a later one, one that is not used, a bad name, a
    // loop variable with a let's name, a let that does not parse.
    for (lets, when, message) in [
        (
            "a = \"b + 1\"\nb = \"1\"",
            "a > 0",
            "written after this one",
        ),
        ("a = \"1\"\nb = \"2\"", "a > 0", "let `b` is not used"),
        ("Bad = \"1\"", "true", "let name \"Bad\""),
        ("facts = \"1\"", "true", "is taken"),
        (
            "r = \"1\"",
            "r > 0 && facts.net.links.exists(r, true)",
            "loop variable `r`",
        ),
        ("a = \"1 +\"", "a > 0", "condition does not parse"),
        ("a = \"x + 1\"", "a > 0", "unknown variable `x`"),
    ] {
        let problems = problems_of(&let_rule(when, lets, ""));
        assert!(
            problems
                .iter()
                .any(|p| p.contains(message) && p.starts_with("r.toml:")),
            "{lets} / {when}: {problems:?}"
        );
    }
    // A rule that uses a let it does not define: an unknown variable.
    let problems = problems_of(&let_rule("nope > 0", "a = \"1\"\nb = \"a\"", "x = \"b\""));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("unknown variable `nope`")),
        "{problems:?}"
    );
}

#[test]
fn the_builtin_lets_expand_alike_loaded_either_way() {
    // The conditions compiled on first use are expanded at load like the
    // checked ones (compared in builtin_rules_without_cases_are_the_checked_ones).
    let fast = RuleSet::builtin().expect("built-in rules");
    let with_lets = fast.rules().iter().filter(|r| !r.lets.is_empty()).count();
    assert!(with_lets >= 30, "{with_lets}");
    let rule = fast.get("route.gateway-misconfigured").expect("rule");
    let evidence = rule.evidence.as_ref().expect("evidence");
    assert_eq!(evidence.source, "wrong");
    assert_eq!(
        evidence.text,
        "(facts.net.default_routes.filter(r, r.problem != ''))"
    );
}

#[test]
fn state_patterns_load_check_their_examples_and_make_no_finding() {
    let rules = RuleSet::builtin_with_cases().expect("built-in rules");
    assert!(rules.states().len() >= 9);
    let fast = RuleSet::builtin().expect("built-in rules");
    assert!(fast.is_state_change("e1000e 0000:00:19.0: eth0: NIC Link is Down"));
    assert!(fast.is_state_change("md: md0: recovery done."));
    assert!(!fast.is_state_change("IPv4: Neighbour table overflow."));
    // No rule carries a state's id: states are not findings.
    for state in rules.states() {
        assert!(rules.get(&state.id).is_none(), "{}", state.id);
    }
    let state = |extra: &str| {
        format!("[[state]]\nid = \"x.y\"\ntitle = \"t\"\npattern = 'link (?:up|down)'\n{extra}\n")
    };
    let problems = problems_of(&state(
        "examples = [\"eth0 link up\", \"nothing\"]\ncounterexamples = [\"link down\"]",
    ));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("r.toml:5:") && problems[0].contains("\"nothing\" does not match")
    );
    assert!(problems[1].starts_with("r.toml:6:") && problems[1].contains("matches the pattern"));
    let problems = problems_of(&state(""));
    assert!(
        problems[0].contains("needs at least one example"),
        "{problems:?}"
    );
    let problems = problems_of(
        &state("examples = [\"link up\"]\ncounterexamples = [\"x\"]")
            .replace("'link (?:up|down)'", "'link (up'"),
    );
    assert!(
        problems[0].starts_with("r.toml:4:") && problems[0].contains("regex does not compile"),
        "{problems:?}"
    );
    // A user state is added to the built-in ones; one with a built-in id
    // replaces it.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("s.toml"),
        "[[state]]\nid = \"link.up-down\"\ntitle = \"t\"\npattern = 'carrier gone'\nexamples = [\"eth0 carrier gone\"]\ncounterexamples = [\"eth0: Link is Down\"]\n",
    )
    .expect("write");
    let user = RuleSet::load(&[dir.path()]).expect("rules");
    assert_eq!(user.states().len(), fast.states().len());
    assert!(user.is_state_change("eth0 carrier gone"));
    assert!(!user.is_state_change("eth0: NIC Link is Down"));
    assert_ne!(user.fingerprint(), fast.fingerprint());
}

#[test]
fn case_files_are_read_beneath_the_rule_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir_all(rules_dir.join("cases/kmsg")).expect("mkdir");
    std::fs::write(
        rules_dir.join("cases/kmsg/overflow.txt"),
        "6,1,100,-;u: something broke\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("outside.txt"),
        "6,1,100,-;u: something broke\n",
    )
    .expect("write");
    std::os::unix::fs::symlink("../../outside.txt", rules_dir.join("cases/out.txt"))
        .expect("symlink");
    std::os::unix::fs::symlink("kmsg/overflow.txt", rules_dir.join("cases/in.txt"))
        .expect("symlink");
    let rule = |file: &str| {
        format!(
            "[[rule]]\nid = \"u.broke\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'something broke'\n\
             [[rule.case]]\nname = \"f\"\nexpect = \"fires\"\ninputs.\"dev/kmsg\" = {{ file = \"{file}\" }}\n\
             [[rule.case]]\nname = \"q\"\nexpect = \"quiet\"\ninputs.\"dev/kmsg\" = \"6,1,100,-;fine\"\n"
        )
    };
    let load = |file: &str| {
        std::fs::write(rules_dir.join("u.toml"), rule(file)).expect("write");
        RuleSet::load_with_cases(&[&rules_dir])
    };
    for good in ["kmsg/overflow.txt", "in.txt"] {
        let rules = load(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        let outcomes = crate::diagnose::test_rules(&rules);
        let mine: Vec<_> = outcomes.iter().filter(|o| o.rule == "u.broke").collect();
        assert!(
            mine.len() == 2 && mine.iter().all(|o| o.passed()),
            "{mine:?}"
        );
    }
    for (bad, message) in [
        ("../outside.txt", "without `..`"),
        ("/etc/passwd", "without `..`"),
        ("out.txt", "refused"),
        ("nope.txt", "not present"),
    ] {
        match load(bad) {
            Err(Error::Rules(problems)) => {
                assert!(
                    problems
                        .iter()
                        .any(|p| p.to_string().contains(message)
                            && p.to_string().contains("u.toml:11:")),
                    "{bad}: {problems:?}"
                );
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // The `cases/` folder holds no rule files: a TOML file in it is data.
    std::fs::write(
        rules_dir.join("cases/not-a-rule.toml"),
        "this is = not [a rule",
    )
    .expect("write");
    assert!(load("in.txt").is_ok());
    // Rules given in memory have no cases/ folder.
    let problems = problems_of(&rule("in.txt"));
    assert!(
        problems.iter().any(|p| p.contains("no cases/ folder")),
        "{problems:?}"
    );
}

/// Issue 25: `rules validate` stopped at the first TOML problem of a file.
/// Every `[[rule]]` whose shape is wrong is reported, at its own line, and
/// the rules after them are still checked.
#[test]
fn rules_validate_reports_every_schema_error_not_the_first() {
    let text = format!(
        r#"# A file with three broken rules and one good one.
[[rule]]
id = "a.bad"
title = "no severity ñ"
summary = "x"
when = "true"
{CASES}
[[rule]]
id = "b.good"
title = "fine"
severity = "warning"
summary = "x"
when = "true"
{CASES}
[[rule]]
id = "c.bad"
title = "severity of the wrong type"
severity = 3
summary = "x"
when = "true"
{CASES}
[[rule]]
id = "d.bad"
title = "condition that does not compile"
severity = "warning"
summary = "x"
when = "facts.net.("
{CASES}"#
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("r.toml:2:"), "{problems:#?}");
    assert!(problems[0].contains("severity"), "{problems:#?}");
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .expect("line")
    };
    assert!(
        problems[1].starts_with(&format!("r.toml:{}:", line("severity = 3"))),
        "{problems:#?}"
    );
    assert!(
        problems[2].contains(&format!(":{}:", line("facts.net.("))),
        "{problems:#?}"
    );
}
