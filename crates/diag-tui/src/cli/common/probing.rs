//! The probe plan and options from the probe flags: what `diag probe`
//! probes (its named targets, `--targets-from`, this host's own set) and
//! how, and what `check --probe` and `collect --probe` add to their
//! snapshot. Methods on [`ProbeArgs`] and [`ProbeFlags`]; imports only
//! [`crate::cli::args`] (and diag_core).

use crate::cli::args::{ProbeArgs, ProbeFlags, ProbeSettings};
use anyhow::{bail, Context, Result};
use diag_core::diagnose::{ProbeTargets, SCHEMA};
use diag_core::facts::Facts;
use diag_core::probe::{self, PathTarget, Plan, ProbeOptions, Target};
use diag_core::source::Bundle;
use diag_core::source::{CollectOptions, Snapshot};
use std::path::Path;
use std::time::Duration;

impl ProbeFlags {
    /// Refuses probe settings without `--probe` and settings out of range,
    /// before anything is collected.
    pub(crate) fn validate(&self) -> Result<()> {
        if !self.probe && self.settings != ProbeSettings::default() {
            bail!("probe settings (--port, --beyond, --timeout, ...) need --probe");
        }
        if self.probe {
            ProbeArgs {
                settings: self.settings.clone(),
                ..ProbeArgs::default()
            }
            .options()?;
        }
        Ok(())
    }

    /// Runs the probes of the host whose facts are `facts` (its own
    /// addresses, resolvers and gateways), as the flags say.
    pub(crate) fn run(&self, facts: &Facts) -> Result<probe::Results> {
        let args = ProbeArgs {
            settings: self.settings.clone(),
            ..ProbeArgs::default()
        };
        let plan = args.plan(facts)?;
        Ok(probe::run(&plan, &args.options()?)?)
    }

    /// With `--probe`: runs the probes of this host and adds
    /// `probe/*.json` to `snapshot` (`diag collect --probe`). Probe
    /// settings without `--probe` are an error, not ignored.
    pub(crate) fn add_to(&self, snapshot: &mut Snapshot) -> Result<()> {
        self.validate()?;
        if !self.probe {
            return Ok(());
        }
        let (facts, _) = Facts::from_snapshot(snapshot);
        for (name, bytes) in self.run(&facts)?.inputs() {
            snapshot.inputs.insert(
                name,
                diag_core::source::Input {
                    bytes: bytes.into(),
                    truncated: false,
                },
            );
        }
        Ok(())
    }
}

impl ProbeArgs {
    pub(crate) fn options(&self) -> Result<ProbeOptions> {
        if !(self.settings.timeout.is_finite()
            && self.settings.timeout > 0.0
            && self.settings.timeout <= 30.0)
        {
            bail!("--timeout must be above 0 and at most 30 seconds");
        }
        let options = ProbeOptions {
            timeout: Duration::from_secs_f64(self.settings.timeout),
            retries: self.settings.retries,
            concurrency: self.settings.concurrency,
            rate: self.settings.rate,
            max_targets: self.settings.max_targets,
            dns_names: self.settings.dns_names.clone(),
            gateway_port: self.settings.gateway_port,
        };
        options.validate()?;
        Ok(options)
    }

    /// Whether the operator named the targets (arguments, `--targets-file`,
    /// `--targets-from`): then only they are probed, unless `--dns` or
    /// `--path` asks for more.
    fn named_targets(&self) -> bool {
        !self.targets.is_empty() || self.targets_file.is_some() || self.targets_from.is_some()
    }

    /// Whether the nameservers are queried: always without named targets,
    /// with them only on `--dns` (or `--dns-name`); never with `--no-dns`.
    fn runs_dns(&self) -> bool {
        !self.settings.no_dns
            && (!self.named_targets() || self.dns || !self.settings.dns_names.is_empty())
    }

    /// Whether the default gateways are probed: always without named
    /// targets, with them only on `--path`; never with `--no-path`.
    fn runs_gateways(&self) -> bool {
        !self.settings.no_path && (!self.named_targets() || self.path)
    }

    /// Whether the plan needs this host's own state (its addresses,
    /// resolvers or routes).
    pub(crate) fn needs_local(&self) -> bool {
        !self.named_targets() || self.runs_dns() || self.runs_gateways()
    }

    /// The plan: targets, nameservers and gateways. `local` are this
    /// host's facts (its resolvers and routes; its addresses when no other
    /// targets are given); unused, and may be empty, when
    /// [`Self::needs_local`] says so.
    pub(crate) fn plan(&self, local: &Facts) -> Result<Plan> {
        if self.named_targets()
            && !self.runs_gateways()
            && self.settings.gateway_port != ProbeSettings::default().gateway_port
        {
            bail!("--gateway-port needs --path when targets are given");
        }
        let mut plan = Plan {
            dns_names: self.settings.dns_names.clone(),
            ..Plan::default()
        };
        let mut listed = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            let (ip, port) =
                probe::parse_target(t).map_err(|m| anyhow::anyhow!("target {}: {m}", i + 1))?;
            listed.push((ip, port, "command line".to_string()));
        }
        if let Some(file) = &self.targets_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            for (ip, port, line) in probe::parse_target_list(&name, &text)? {
                listed.push((ip, port, format!("{name}:{line}")));
            }
        }
        for (ip, port, origin) in listed {
            let ports = match port {
                Some(p) => vec![p],
                None if !self.settings.ports.is_empty() => self.settings.ports.clone(),
                None => bail!("{ip} ({origin}): no port; give ADDRESS:PORT or --port"),
            };
            match plan.targets.iter_mut().find(|t| t.address == ip) {
                Some(t) => {
                    t.ports.extend(ports);
                    t.ports.sort_unstable();
                    t.ports.dedup();
                }
                None => plan.targets.push(Target {
                    address: ip,
                    ports,
                    expected: true,
                    bound: None,
                    origin,
                }),
            }
        }
        if let Some(path) = &self.targets_from {
            let host = host_targets(path)?;
            plan.add_host_targets(&host, &self.settings.ports, &format!("{}:", path.display()));
        }
        if !self.named_targets() {
            if let Some(host) = ProbeTargets::from_facts(local) {
                plan.add_host_targets(&host, &self.settings.ports, "");
            }
        }
        let (dns, gateways) = (self.runs_dns(), self.runs_gateways());
        if dns || gateways {
            plan.add_local_path(local, self.settings.gateway_port);
        }
        if !dns {
            plan.nameservers.clear();
            plan.dns_names.clear();
        }
        if !gateways {
            plan.gateways.clear();
        }
        if !self.settings.no_path {
            for b in &self.settings.beyond {
                let (address, port) =
                    probe::parse_target(b).map_err(|m| anyhow::anyhow!("--beyond {m}"))?;
                plan.beyond.push(PathTarget {
                    address,
                    port,
                    neigh_state: String::new(),
                    origin: "command line".into(),
                });
            }
        }
        Ok(plan)
    }
}

/// The targets of the host under test, from its bundle (a directory or a
/// `.tar.zst`) or from what `diag check --format json` (or `analyze`,
/// `report --format json`) printed there: a file whose first non-blank
/// byte is `{` is read as that JSON.
fn host_targets(path: &Path) -> Result<ProbeTargets> {
    if path.is_file() && looks_like_json(path)? {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        if doc["schema"].as_str() != Some(SCHEMA) {
            bail!(
                "{}: not diag/1 JSON (no \"schema\": \"{SCHEMA}\"); give a bundle or the output of `diag check --format json`",
                path.display()
            );
        }
        let Some(targets) = doc.get("targets").filter(|t| !t.is_null()) else {
            bail!(
                "{}: the diagnosis lists no addresses (no `targets`: written by an older diag, or the host had none)",
                path.display()
            );
        };
        return serde_json::from_value(targets.clone())
            .with_context(|| format!("{}: `targets` is not in the diag/1 shape", path.display()));
    }
    let bundle = Bundle::open(path)?;
    let snapshot = Snapshot::collect(&bundle, &CollectOptions::default());
    let (facts, _) = Facts::from_snapshot(&snapshot);
    match ProbeTargets::from_facts(&facts) {
        Some(t) if !(t.expected.is_empty() && t.bound.is_empty()) => Ok(t),
        _ => bail!(
            "{}: the bundle holds neither configured nor bound addresses (no net/addr.json, etc/ips, ifcfg, ...)",
            path.display()
        ),
    }
}

fn looks_like_json(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = Vec::with_capacity(256);
    std::fs::File::open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_from_the_command_line() {
        let args = ProbeArgs {
            targets: vec!["192.0.2.10".into(), "192.0.2.11:443".into()],
            settings: ProbeSettings {
                ports: vec![80, 8080],
                no_dns: true,
                no_path: true,
                ..ProbeSettings::default()
            },
            ..ProbeArgs::default()
        };
        let plan = args.plan(&Facts::default()).expect("plan");
        assert_eq!(plan.targets.len(), 2);
        assert_eq!(plan.targets[0].ports, [80, 8080]);
        assert_eq!(plan.targets[1].ports, [443]);
        let bare = ProbeArgs {
            targets: vec!["192.0.2.10".into()],
            ..ProbeArgs::default()
        };
        let err = bare.plan(&Facts::default()).expect_err("no port");
        assert!(
            err.to_string().contains("give ADDRESS:PORT or --port"),
            "{err}"
        );
    }

    /// A host with a resolver and a default gateway: named targets touch
    /// neither unless --dns / --path ask; without targets, both are
    /// probed.
    #[test]
    fn named_targets_are_all_that_is_probed() {
        let local = Snapshot::from_inputs([
            ("etc/resolv.conf", "nameserver 192.0.2.53\n"),
            (
                "proc/net/route",
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
            ),
        ]);
        let (facts, _) = Facts::from_snapshot(&local);
        let named = |dns: bool, path: bool| ProbeArgs {
            targets: vec!["192.0.2.10:80".into()],
            dns,
            path,
            ..ProbeArgs::default()
        };
        let plan = named(false, false).plan(&facts).expect("plan");
        assert_eq!(plan.tcp_count(), 1);
        assert!(plan.nameservers.is_empty() && plan.dns_names.is_empty());
        assert!(plan.gateways.is_empty() && plan.beyond.is_empty());
        assert!(!named(false, false).needs_local());

        let plan = named(true, false).plan(&facts).expect("plan");
        assert_eq!(plan.nameservers.len(), 1, "{plan:?}");
        assert!(plan.gateways.is_empty());
        let plan = named(false, true).plan(&facts).expect("plan");
        assert!(plan.nameservers.is_empty());
        assert_eq!(plan.gateways.len(), 2, "ICMP and TCP: {plan:?}");

        // --dns-name asks for DNS; --beyond names its own targets.
        let mut args = named(false, false);
        args.settings.dns_names = vec!["example.test".into()];
        args.settings.beyond = vec!["192.0.2.99:443".into()];
        let plan = args.plan(&facts).expect("plan");
        assert_eq!(plan.nameservers.len(), 1);
        assert!(plan.gateways.is_empty());
        assert_eq!(plan.beyond.len(), 1);

        // A gateway port without --path would be ignored: refused.
        let mut args = named(false, false);
        args.settings.gateway_port = 443;
        assert!(args.plan(&facts).is_err());

        let own = ProbeArgs::default().plan(&facts).expect("plan");
        assert_eq!(own.nameservers.len(), 1);
        assert_eq!(own.gateways.len(), 2);
        assert!(ProbeArgs::default().needs_local());
    }
}
