//! The one stable sort of diag-parse and diag-core (public for diag-core,
//! hidden from the docs).
//!
//! `slice::sort_by` and its kin instantiate std's whole driftsort (merge
//! runs, a stable quicksort, small-sort networks: 6-8 KB of code at
//! opt-level 3) once per element type *and* per comparison closure; the
//! crate's ~40 sorts cost ~0.3 MB of the static binary
//! (docs/static-binary.md). Every sort here is of a few hundred or
//! thousand records once per analysis (findings, talkers, files, boots),
//! never per packet or per log line, so they all go through
//! [`sort_by`]: it sorts a vector of indices with one comparison behind a
//! `dyn` reference — a single driftsort instantiation for the whole crate —
//! and then moves the elements into that order in place.
//!
//! The result is exactly `slice::sort_by`'s: stable (equal elements keep
//! their order, as the indices of a stable sort of indices do).

use std::cmp::Ordering;

/// Sorts `v` stably by `compare`, as [`slice::sort_by`] does.
pub fn sort_by<T>(v: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &mut |a, b| compare(&v[a], &v[b]));
    permute(v, &mut order);
}

/// Sorts `v` stably by the key `key` gives, as [`slice::sort_by_key`].
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably by its order, as [`slice::sort`].
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The one instantiation of std's stable sort: indices, compared through
/// a `dyn` reference.
#[inline(never)]
#[allow(clippy::disallowed_methods)] // the one instantiation
fn sort_indices(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Puts `v` in the order `order` gives (`order[k]` is the index, in `v`
/// now, of the element that belongs at `k`), one cycle of the permutation
/// at a time; `order` is left as the identity.
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut at = start;
        // Positions already done read as themselves.
        while order[at] != at {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // compared with std's sorts
mod tests {
    use super::*;

    /// The same result as std's stable sort, ties included, on many
    /// permutations and duplicate patterns (a deterministic generator).
    #[test]
    fn sort_by_is_std_stable_sort() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..200usize {
            for round in 0..5 {
                let modulus = [1u64, 2, 3, 10, 1000][round];
                let items: Vec<(u64, usize)> = (0..len)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed % modulus, i)
                    })
                    .collect();
                let mut ours = items.clone();
                let mut std = items;
                sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
                std.sort_by_key(|a| a.0);
                assert_eq!(ours, std, "len {len} modulus {modulus}");
            }
        }
    }

    #[test]
    fn sort_by_key_and_sort_are_std_ones() {
        let words = ["delta", "alpha", "charlie", "bravo", "alpha", "echo", ""];
        let mut ours: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let mut std = ours.clone();
        sort(&mut ours);
        std.sort();
        assert_eq!(ours, std);
        let mut ours: Vec<&str> = words.to_vec();
        let mut std = ours.clone();
        sort_by_key(&mut ours, |w| std::cmp::Reverse(w.len()));
        std.sort_by_key(|w| std::cmp::Reverse(w.len()));
        assert_eq!(ours, std);
    }

    /// Elements that own heap memory are moved, never duplicated or lost.
    #[test]
    fn permute_moves_owned_values() {
        let mut v: Vec<Vec<u8>> = (0..50u8).rev().map(|i| vec![i; 3]).collect();
        sort_by_key(&mut v, |x| x[0]);
        assert!(v.iter().enumerate().all(|(i, x)| x == &vec![i as u8; 3]));
    }
}
