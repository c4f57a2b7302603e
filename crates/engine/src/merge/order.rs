//! The order of a keyed array's merge: order is data, merged like any other change.
//!
//! Elements are named by interned ids (`u32`). The order the three versions agree on is measured
//! on the elements all three hold (the *common* ones): a side whose common elements are in
//! another order than base's has reordered. A reorder made on one side only is kept; the same
//! reorder on both is taken once; different reorders on both sides are an order conflict, with
//! each side's order (and base's) arranged so that it can be chosen.
//!
//! Arranging an order: the common elements in the leading order, then every other element each
//! side holds (its insertions, the elements the other side deleted, ones both added) right after
//! its preceding neighbour in that side. Where both sides put elements after the same neighbour,
//! each side's run stays together, and the runs are ordered by their ids — not by which side is
//! called mine — so swapping mine and theirs never changes the result.
//!
//! Cost: linear in the elements (plus the id comparisons of that tie-break).

/// Where the merged order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum From {
    /// Nobody reordered.
    Nobody,
    /// Mine reordered, theirs did not.
    Mine,
    /// Theirs reordered, mine did not.
    Theirs,
    /// Both reordered the same way.
    Both,
}

/// The merged order of a keyed array.
#[derive(Debug)]
pub(super) enum Order {
    /// One order (arranged), and where it came from.
    One(Vec<u32>, From),
    /// Both sides reordered differently: each side's order and base's, arranged.
    Disagree {
        /// Base's order of the common elements, the others placed around it.
        base: Vec<u32>,
        /// Mine's.
        mine: Vec<u32>,
        /// Theirs'.
        theirs: Vec<u32>,
    },
}

const IN_BASE: u8 = 1;
const IN_MINE: u8 = 2;
const IN_THEIRS: u8 = 4;
const IN_ALL: u8 = IN_BASE | IN_MINE | IN_THEIRS;

/// Merges the orders of base, mine and theirs (each a list of distinct ids below `count`);
/// `cmp` orders two ids by their identity text (for the label-free tie-break).
pub(super) fn merge(
    base: &[u32],
    mine: &[u32],
    theirs: &[u32],
    count: usize,
    cmp: &dyn Fn(u32, u32) -> std::cmp::Ordering,
) -> Order {
    let mut held = vec![0u8; count];
    for (list, bit) in [(base, IN_BASE), (mine, IN_MINE), (theirs, IN_THEIRS)] {
        for &id in list {
            held[id as usize] |= bit;
        }
    }
    let common = |list: &[u32]| -> Vec<u32> {
        list.iter()
            .copied()
            .filter(|&id| held[id as usize] == IN_ALL)
            .collect()
    };
    let (pb, pm, pt) = (common(base), common(mine), common(theirs));
    let arrange = |lead: &[u32]| arrange(lead, mine, theirs, count, cmp);
    match (pm != pb, pt != pb) {
        (false, false) => Order::One(arrange(&pb), From::Nobody),
        (true, false) => Order::One(arrange(&pm), From::Mine),
        (false, true) => Order::One(arrange(&pt), From::Theirs),
        (true, true) if pm == pt => Order::One(arrange(&pm), From::Both),
        (true, true) => Order::Disagree {
            base: arrange(&pb),
            mine: arrange(&pm),
            theirs: arrange(&pt),
        },
    }
}

/// The leading order with every other element of mine and theirs placed after its preceding
/// neighbour in its own side (see the module's words).
fn arrange(
    lead: &[u32],
    mine: &[u32],
    theirs: &[u32],
    count: usize,
    cmp: &dyn Fn(u32, u32) -> std::cmp::Ordering,
) -> Vec<u32> {
    const NONE: u32 = u32::MAX;
    let mut pos = vec![NONE; count];
    for (i, &id) in lead.iter().enumerate() {
        pos[id as usize] = i as u32;
    }
    // runs[side][bucket]: bucket 0 is before the first leading element, k + 1 right after the
    // k-th. Only buckets that receive something allocate.
    let mut runs: [Vec<Vec<u32>>; 2] = [
        vec![Vec::new(); lead.len() + 1],
        vec![Vec::new(); lead.len() + 1],
    ];
    for (side, list) in [mine, theirs].into_iter().enumerate() {
        let mut bucket = 0usize;
        for &id in list {
            match pos[id as usize] {
                NONE => runs[side][bucket].push(id),
                p => bucket = p as usize + 1,
            }
        }
    }
    let mut seen = vec![false; count];
    let mut out = Vec::with_capacity(lead.len() + mine.len().max(theirs.len()));
    let mut emit = |id: u32, out: &mut Vec<u32>| {
        if !std::mem::replace(&mut seen[id as usize], true) {
            out.push(id);
        }
    };
    let [runs_m, runs_t] = runs;
    for (k, (rm, rt)) in runs_m.into_iter().zip(runs_t).enumerate() {
        if k > 0 {
            emit(lead[k - 1], &mut out);
        }
        let mine_first = rt.is_empty()
            || (!rm.is_empty()
                && rm
                    .iter()
                    .zip(&rt)
                    .map(|(&a, &b)| cmp(a, b))
                    .find(|o| o.is_ne())
                    .unwrap_or(rm.len().cmp(&rt.len()))
                    .is_le());
        let (first, second) = if mine_first { (rm, rt) } else { (rt, rm) };
        for id in first.into_iter().chain(second) {
            emit(id, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(b: &[u32], m: &[u32], t: &[u32]) -> Order {
        merge(b, m, t, 16, &|a, b| a.cmp(&b))
    }

    #[test]
    fn one_sided_reorder_is_kept_with_the_other_sides_insertions() {
        // base [0 1 2], mine moves 1 first, theirs inserts 5 after 0.
        match run(&[0, 1, 2], &[1, 0, 2], &[0, 5, 1, 2]) {
            Order::One(o, From::Mine) => assert_eq!(o, vec![1, 0, 5, 2]),
            other => panic!("{other:?}"),
        }
        // Swapped sides: the same order.
        match run(&[0, 1, 2], &[0, 5, 1, 2], &[1, 0, 2]) {
            Order::One(o, From::Theirs) => assert_eq!(o, vec![1, 0, 5, 2]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn different_reorders_disagree_and_the_same_one_is_taken_once() {
        match run(&[0, 1, 2], &[2, 1, 0], &[1, 0, 2]) {
            Order::Disagree { base, mine, theirs } => {
                assert_eq!(base, vec![0, 1, 2]);
                assert_eq!(mine, vec![2, 1, 0]);
                assert_eq!(theirs, vec![1, 0, 2]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run(&[0, 1, 2], &[2, 1, 0], &[2, 1, 0]),
            Order::One(_, From::Both)
        ));
    }

    #[test]
    fn deletions_and_insertions_are_not_reorders() {
        match run(&[0, 1, 2, 3], &[0, 2, 3, 7], &[0, 1, 6, 2]) {
            // 1 and 3 stay listed (the element merge decides whether they survive).
            Order::One(o, From::Nobody) => assert_eq!(o, vec![0, 1, 6, 2, 3, 7]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn insertions_after_the_same_neighbour_are_ordered_by_id_not_by_side() {
        let a = run(&[0, 1], &[0, 9, 8, 1], &[0, 4, 1]);
        let b = run(&[0, 1], &[0, 4, 1], &[0, 9, 8, 1]);
        match (a, b) {
            (Order::One(x, _), Order::One(y, _)) => {
                assert_eq!(x, vec![0, 4, 9, 8, 1]);
                assert_eq!(x, y);
            }
            other => panic!("{other:?}"),
        }
    }
}
