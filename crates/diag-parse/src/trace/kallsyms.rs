//! Kernel addresses to `symbol+0xoffset/0xsize [module]`, as the kernel's
//! `%pS` prints them, from `/proc/kallsyms` (`ffffffff8208ae50 T
//! tcp_v4_rcv`, a module's symbols followed by `\t[module]`).
//!
//! The size is the distance to the next higher symbol, as the kernel's
//! own lookup counts it. One pass over the text, whatever its order;
//! only the addresses asked for are kept.

/// The longest symbol or module name used; a longer one is not a symbol.
const NAME_MAX: usize = 128;

/// Names `addresses` (any order, duplicates allowed): one entry per
/// address, `None` where no symbol lies at or below it (or kallsyms shows
/// zeros: not root, `kptr_restrict`).
pub fn resolve(kallsyms: &str, addresses: &[u64]) -> Vec<Option<String>> {
    if addresses.is_empty() {
        return Vec::new();
    }
    let symbols = Symbols::parse(kallsyms);
    addresses.iter().map(|&a| symbols.name(a)).collect()
}

/// A kallsyms table, sorted by address: made once (about 120,000
/// symbols, 20 ms here), asked many times.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    /// `(address, name, module)`, by address; of aliases, the first
    /// listed first.
    symbols: Vec<(u64, String, Option<String>)>,
}

impl Symbols {
    /// Reads `/proc/kallsyms`'s text.
    pub fn parse(kallsyms: &str) -> Symbols {
        let mut symbols: Vec<(u64, String, Option<String>)> = Vec::new();
        for line in kallsyms.lines() {
            let mut parts = line.split_ascii_whitespace();
            let (Some(address), Some(_kind), Some(name)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(address) = u64::from_str_radix(address, 16) else {
                continue;
            };
            if address == 0 || name.len() > NAME_MAX {
                continue;
            }
            let module = parts
                .next()
                .and_then(|m| m.strip_prefix('[')?.strip_suffix(']'))
                .filter(|m| m.len() <= NAME_MAX)
                .map(str::to_string);
            symbols.push((address, name.to_string(), module));
        }
        // Stable: of symbols at one address (aliases), the first listed wins.
        crate::sort::sort_by_key(&mut symbols, |s| s.0);
        Symbols { symbols }
    }

    /// `address` as `%pS` prints it; `None` when no symbol lies at or
    /// below it.
    pub fn name(&self, address: u64) -> Option<String> {
        let symbols = &self.symbols;
        let at = symbols.partition_point(|s| s.0 <= address);
        let start = symbols[..at].last()?.0;
        // The first of the aliases at `start`.
        let first = symbols.partition_point(|s| s.0 < start);
        let (_, name, module) = &symbols[first];
        let offset = address - start;
        let mut text = match symbols.get(at) {
            Some(next) => format!("{name}+{offset:#x}/{:#x}", next.0 - start),
            None => format!("{name}+{offset:#x}"),
        };
        if let Some(module) = module {
            text.push_str(&format!(" [{module}]"));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALLSYMS: &str = "\
ffffffff8208ae50 T tcp_v4_rcv
ffffffff8208c250 t tcp_v4_rcv_alias_next
0000000000000000 A fixed_percpu_data
ffffffff8209e7b0 T __udp4_lib_rcv
ffffffff8209e7b0 T __udp4_lib_rcv_alias
ffffffff8209f4b0 T udp_v4_early_demux
ffffffffc0a01000 t vxlan_rcv\t[vxlan]
ffffffffc0a02000 t vxlan_xmit\t[vxlan]
zzzz T not_an_address
";

    #[test]
    fn names_addresses_as_the_kernel_prints_them() {
        let named = resolve(
            KALLSYMS,
            &[
                0xffffffff8208aee9,
                0xffffffff8209ec6c,
                0xffffffffc0a011c4,
                0x10,
            ],
        );
        assert_eq!(
            named,
            [
                Some("tcp_v4_rcv+0x99/0x1400".to_string()),
                Some("__udp4_lib_rcv+0x4bc/0xd00".to_string()),
                Some("vxlan_rcv+0x1c4/0x1000 [vxlan]".to_string()),
                None,
            ]
        );
    }

    #[test]
    fn the_last_symbol_has_no_size_and_zeros_name_nothing() {
        assert_eq!(
            resolve(KALLSYMS, &[0xffffffffc0a02010]),
            [Some("vxlan_xmit+0x10 [vxlan]".to_string())]
        );
        let hidden = "0000000000000000 T tcp_v4_rcv\n0000000000000000 T udp_rcv\n";
        assert_eq!(resolve(hidden, &[0xffffffff8208aee9]), [None]);
        assert_eq!(resolve("", &[1, 2]), [None, None]);
    }
}
