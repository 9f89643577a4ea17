//! `hostnamectl status` as systemd prints it (sos's host plugin writes it
//! to `sos_commands/host/hostnamectl_status`): whether the report was
//! taken inside a container, and of which kind.
//!
//! ```text
//!    Static hostname: penguin
//!          Icon name: computer-container
//!            Chassis: container
//!     Virtualization: lxc
//! ```
//!
//! `Virtualization:` is what `systemd-detect-virt` prints; systemd looks
//! for a container first, so a container inside a VM says `lxc`, not
//! `kvm`. Its container identifiers are those of systemd's `virt.c`.

/// The identifiers `systemd-detect-virt` prints for a container.
pub const CONTAINER_TECHNOLOGIES: &[&str] = &[
    "openvz",
    "lxc",
    "lxc-libvirt",
    "systemd-nspawn",
    "docker",
    "podman",
    "rkt",
    "wsl",
    "proot",
    "pouch",
];

/// The `Virtualization:` value of `hostnamectl status` output and its
/// 1-based line; `None` when there is none (bare metal, or not hostnamectl
/// output).
pub fn virtualization(text: &str) -> Option<(String, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let value = line.trim_start().strip_prefix("Virtualization:")?.trim();
        let word = value.split_whitespace().next()?;
        Some((word.to_ascii_lowercase(), i + 1))
    })
}

/// The container technology of `hostnamectl status` output (`lxc`,
/// `docker`, `systemd-nspawn`, ...) and its line, when it says the
/// system is a container; `None` for a VM (`kvm`) or bare metal.
pub fn container(text: &str) -> Option<(String, usize)> {
    virtualization(text).filter(|(v, _)| CONTAINER_TECHNOLOGIES.contains(&v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hotsos tree's `sos_commands/host/hostnamectl_status`, byte for
    /// byte (a KVM guest).
    const HOTSOS: &str = "   Static hostname: compute4\n         Icon name: computer-vm\n           Chassis: vm\n        Machine ID: d22e39617b3341ccbc225ca6ee6a973d\n           Boot ID: 901c1e96f7bd44a28a0d69d9933a9a75\n    Virtualization: kvm\n  Operating System: Ubuntu 20.04.3 LTS\n            Kernel: Linux 5.4.0-97-generic\n      Architecture: x86-64\n";

    #[test]
    fn a_vm_is_not_a_container_an_lxc_guest_is() {
        assert_eq!(virtualization(HOTSOS), Some(("kvm".into(), 6)));
        assert_eq!(container(HOTSOS), None);
        let lxc = HOTSOS
            .replace("computer-vm", "computer-container")
            .replace("Chassis: vm", "Chassis: container")
            .replace("Virtualization: kvm", "Virtualization: lxc");
        assert_eq!(container(&lxc), Some(("lxc".into(), 6)));
        assert_eq!(
            container("    Virtualization: systemd-nspawn\n"),
            Some(("systemd-nspawn".into(), 1))
        );
    }

    #[test]
    fn bare_metal_and_odd_input_are_no_container() {
        for text in [
            "   Static hostname: h\n  Operating System: Debian\n",
            "",
            "Virtualization:",
            "Virtualization:   \n",
            "Failed to query system properties: Connection timed out",
            "\u{1b}[1mVirtualization: \u{1b}[0mdocker\n",
        ] {
            assert_eq!(container(text), None, "{text:?}");
        }
    }
}
