//! Matching the elements of two sequences for the positional array merge, at a cost that stays
//! near linear on every shape.
//!
//! An exact longest common subsequence (Myers) costs O((n + m) · d): fine when the sides differ
//! in a few places, quadratic when they share almost nothing in order (a reversed or shuffled
//! list). So: the common prefix and suffix are matched first; a middle small enough
//! (n · m ≤ `EXACT_CELLS`) gets the exact diff; a bigger one is cut at anchors — elements that
//! occur once on each side, kept where they are in the same order on both (the longest increasing
//! run of their positions, n log n) — and each piece between anchors is matched the same way.
//! When the anchors in order are only a sliver of the unique elements the two sides share
//! (fewer than one in `SLIVER`), the sides hold the same things in another order: the middle is
//! then one change (a wholesale reorder is one edit, as a line-based diff would show it), which
//! is what a positional merge can say about it anyway.
//!
//! The result is always a common subsequence, so the diff3 built on it is correct; it is the
//! longest one whenever the exact diff was affordable (all small arrays: the golden cases).

use std::hash::Hash;
use std::ops::Range;

/// Middles up to this many cells (n · m) are diffed exactly.
const EXACT_CELLS: usize = 1 << 20;
/// Anchors in order fewer than one in this many shared unique elements: a wholesale reorder.
const SLIVER: usize = 64;
/// How many times a piece between anchors is cut again before it counts as one change.
const MAX_DEPTH: usize = 8;

/// For each element of `a`, its index in `b` when matched (a common subsequence).
pub(super) fn matches<T: Eq + Hash + Ord>(a: &[T], b: &[T]) -> Vec<Option<usize>> {
    let mut r = vec![None; a.len()];
    let mut work = vec![(0..a.len(), 0..b.len(), 0usize)];
    while let Some((ar, br, depth)) = work.pop() {
        piece(a, b, ar, br, depth, &mut r, &mut work);
    }
    r
}

type Work = Vec<(Range<usize>, Range<usize>, usize)>;

fn piece<T: Eq + Hash + Ord>(
    a: &[T],
    b: &[T],
    ar: Range<usize>,
    br: Range<usize>,
    depth: usize,
    r: &mut [Option<usize>],
    work: &mut Work,
) {
    let (mut a0, mut a1, mut b0, mut b1) = (ar.start, ar.end, br.start, br.end);
    while a0 < a1 && b0 < b1 && a[a0] == b[b0] {
        r[a0] = Some(b0);
        a0 += 1;
        b0 += 1;
    }
    while a0 < a1 && b0 < b1 && a[a1 - 1] == b[b1 - 1] {
        r[a1 - 1] = Some(b1 - 1);
        a1 -= 1;
        b1 -= 1;
    }
    if a0 == a1 || b0 == b1 {
        return;
    }
    if (a1 - a0).saturating_mul(b1 - b0) <= EXACT_CELLS {
        exact(a, b, a0..a1, b0..b1, r);
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let anchors = anchors(&a[a0..a1], &b[b0..b1]);
    let Some(anchors) = anchors else { return };
    let (mut pa, mut pb) = (a0, b0);
    for (i, j) in anchors {
        let (i, j) = (a0 + i, b0 + j);
        r[i] = Some(j);
        if pa < i && pb < j {
            work.push((pa..i, pb..j, depth + 1));
        }
        (pa, pb) = (i + 1, j + 1);
    }
    if pa < a1 && pb < b1 {
        work.push((pa..a1, pb..b1, depth + 1));
    }
}

/// Myers over a small middle (similar's, no deadline: the result does not depend on timing).
fn exact<T: Eq + Hash + Ord>(
    a: &[T],
    b: &[T],
    ar: Range<usize>,
    br: Range<usize>,
    r: &mut [Option<usize>],
) {
    let (a0, b0) = (ar.start, br.start);
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a[ar], &b[br]) {
        if let similar::DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                r[a0 + old_index + k] = Some(b0 + new_index + k);
            }
        }
    }
}

/// Elements unique on both sides, in the same order on both: (index in a, index in b), or None
/// when they are only a sliver of the unique elements shared (a wholesale reorder).
fn anchors<T: Eq + Hash + Ord>(a: &[T], b: &[T]) -> Option<Vec<(usize, usize)>> {
    // Per distinct element of a: (count in a, index in a, count in b, index in b); the table
    // maps an element to its entry, and each element of a remembers its entry, so the last pass
    // reads the counts without hashing a third time.
    let mut seen: std::collections::HashMap<&T, u32, crate::json::FastHash> =
        std::collections::HashMap::with_capacity_and_hasher(a.len(), Default::default());
    let mut entries: Vec<(u32, usize, u32, usize)> = Vec::with_capacity(a.len());
    let mut entry_of: Vec<u32> = Vec::with_capacity(a.len());
    for (i, x) in a.iter().enumerate() {
        let e = *seen.entry(x).or_insert_with(|| {
            entries.push((0, i, 0, 0));
            (entries.len() - 1) as u32
        });
        entries[e as usize].0 += 1;
        entry_of.push(e);
    }
    for (j, x) in b.iter().enumerate() {
        if let Some(&e) = seen.get(x) {
            let e = &mut entries[e as usize];
            e.2 += 1;
            e.3 = j;
        }
    }
    drop(seen);
    // Shared unique elements in a's order; their positions in b.
    let pairs: Vec<(usize, usize)> = entry_of
        .iter()
        .filter_map(|&e| match entries[e as usize] {
            (1, i, 1, j) => Some((i, j)),
            _ => None,
        })
        .collect();
    let run = increasing(&pairs);
    if run.is_empty() || run.len() * SLIVER < pairs.len() {
        return None;
    }
    Some(run)
}

/// The longest run of `pairs` (in order) whose second members increase (patience sorting).
fn increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // tails[k]: index into pairs of the smallest tail of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = vec![usize::MAX; pairs.len()];
    for (p, &(_, j)) in pairs.iter().enumerate() {
        let k = tails.partition_point(|&t| pairs[t].1 < j);
        if k > 0 {
            prev[p] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(p);
        } else {
            tails[k] = p;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied().unwrap_or(usize::MAX);
    while at != usize::MAX {
        out.push(pairs[at]);
        at = prev[at];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matches form a common subsequence: increasing, and equal elements.
    fn check(a: &[u32], b: &[u32]) -> usize {
        let r = matches(a, b);
        let mut last = None;
        for (i, m) in r.iter().enumerate() {
            if let Some(j) = *m {
                assert_eq!(a[i], b[j]);
                assert!(last.is_none_or(|l| j > l), "not increasing at {i}");
                last = Some(j);
            }
        }
        r.iter().flatten().count()
    }

    #[test]
    fn small_inputs_get_the_longest_common_subsequence() {
        assert_eq!(check(&[1, 2, 3, 4, 5], &[1, 3, 4, 6, 5]), 4);
        assert_eq!(check(&[], &[1]), 0);
    }

    #[test]
    fn big_inputs_with_scattered_edits_keep_nearly_everything() {
        let a: Vec<u32> = (0..200_000).collect();
        let mut b = a.clone();
        for k in (0..b.len()).step_by(997) {
            b[k] = 1_000_000 + k as u32;
        }
        b.insert(50_000, 7_000_000);
        let n = check(&a, &b);
        assert_eq!(n, a.len() - a.len().div_ceil(997));
    }

    #[test]
    fn a_reversed_or_shuffled_big_input_is_one_change_and_a_moved_block_is_found() {
        let a: Vec<u32> = (0..100_000).collect();
        let rev: Vec<u32> = a.iter().rev().copied().collect();
        assert_eq!(check(&a, &rev), 0);
        // Swapping the halves: one half stays matched.
        let swapped: Vec<u32> = a[50_000..].iter().chain(&a[..50_000]).copied().collect();
        assert_eq!(check(&a, &swapped), 50_000);
    }

    #[test]
    fn the_increasing_run_is_a_longest_one() {
        let p: Vec<(usize, usize)> = [3, 1, 4, 1, 5, 9, 2, 6]
            .iter()
            .copied()
            .enumerate()
            .collect();
        let run = increasing(&p);
        assert_eq!(run.len(), 4);
        assert!(run.windows(2).all(|w| w[0].1 < w[1].1 && w[0].0 < w[1].0));
    }
}
