//! `xtask log-patterns DIR`: the built-in rules' kernel-log patterns, one
//! per line, as `benches/kernel_log.sh` gives them to the reference tools:
//! `DIR/rg` for `rg -f` (Rust regex syntax, which ripgrep shares with
//! diag; named groups made plain, since `-f` joins the patterns into one
//! regex where a name may appear once) and `DIR/ere` for
//! `LC_ALL=C grep -E -f` (translated to POSIX ERE through regex-syntax's
//! HIR, as the `kernel_log` bench does).

#[path = "../../crates/diag-core/benches/common/mod.rs"]
mod common;

use diag_core::diagnose::rules::RuleSet;

pub fn main(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let [dir] = args.as_slice() else {
        return Err("usage: xtask log-patterns DIR".into());
    };
    let dir = std::path::Path::new(dir);
    let rules = RuleSet::builtin()?;
    let named = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")?;
    let mut rg = String::new();
    for rule in rules.rules() {
        if let Some(log) = rule.log.as_ref() {
            rg.push_str(&named.replace_all(log.pattern(), "("));
            rg.push('\n');
        }
    }
    std::fs::write(dir.join("rg"), rg)?;
    std::fs::write(dir.join("ere"), common::ere_patterns(&rules))?;
    Ok(())
}
