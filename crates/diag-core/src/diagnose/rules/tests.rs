use super::*;

fn problems_of(text: &str) -> Vec<String> {
    let files = vec![("r.toml".to_string(), text.to_string())];
    let (rules, mut problems) = parse_files(&files, Depth::Checked);
    if let Err(Error::Rules(more)) = finish(rules, Vec::new(), &BTreeSet::new(), 0) {
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
