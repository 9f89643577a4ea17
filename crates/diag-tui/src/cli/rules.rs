//! `diag rules list|validate|test|facts`: work on rule files (the built-in
//! rules and every `--rules` directory, given before the command or
//! after it), and show the facts their conditions read. Imports only
//! [`crate::cli::args`] and [`crate::cli::common`].

use crate::cli::args::{FactsFormat, RuleArgs, RulesCommand};
use crate::cli::common::{check_rule_dirs, load_rules, write_stdout};
use anyhow::Result;
use diag_core::diagnose;
use diag_core::diagnose::rules::{facts_tree, RuleSet};
use diag_core::sanitize::{visible, visible_line};

/// Runs `diag rules ...`; `before` are the `--rules` given before the
/// command.
pub(crate) fn run(command: RulesCommand, before: &RuleArgs) -> Result<u8> {
    match command {
        RulesCommand::List { rules } => {
            let rules = load_rules(&before.and(&rules))?;
            // (id, kind, severity, title, where), state-change patterns
            // (timeline marks, not findings) last.
            let mut rows: Vec<[String; 5]> = Vec::new();
            for rule in rules.rules() {
                let kind = match rule.kind {
                    diag_core::diagnose::rules::RuleKind::Cause => "cause",
                    diag_core::diagnose::rules::RuleKind::Finding => "finding",
                };
                rows.push([
                    visible_line(&rule.id),
                    kind.into(),
                    rule.severity.to_string(),
                    visible_line(&rule.title),
                    format!("{}:{}", visible_line(&rule.file), rule.line),
                ]);
            }
            for state in rules.states() {
                rows.push([
                    visible_line(&state.id),
                    "state".into(),
                    "-".into(),
                    visible_line(&state.title),
                    format!("{}:{}", visible_line(&state.file), state.line),
                ]);
            }
            let header = ["ID", "KIND", "SEVERITY", "TITLE", "DEFINED AT"].map(String::from);
            let width = |column: usize| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|r| r[column].chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let (id, kind, severity) = (width(0), width(1), width(2));
            let mut out = String::new();
            for [a, b, c, d, e] in std::iter::once(&header).chain(&rows) {
                out.push_str(&format!("{a:<id$} {b:<kind$} {c:<severity$} {d}  ({e})\n"));
            }
            write_stdout(&out)?;
            Ok(0)
        }
        RulesCommand::Validate { dir, rules } => {
            let args = &before.and(&rules);
            let problems = match dir {
                Some(dir) => diag_core::diagnose::rules::validate_dir(&dir)?,
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
        RulesCommand::Facts { format } => {
            let fields = facts_tree::tree();
            let out = match format {
                // Examples are printable already (facts_tree::tree).
                FactsFormat::Text => facts_tree::text(&fields),
                FactsFormat::Markdown => facts_tree::markdown(&fields),
                FactsFormat::Json => {
                    let json = serde_json::to_string_pretty(&fields)?;
                    format!("{}\n", diag_core::sanitize::json(&json))
                }
            };
            write_stdout(&out)?;
            Ok(0)
        }
    }
}
