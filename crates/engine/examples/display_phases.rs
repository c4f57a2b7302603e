//! Prints how long each phase of merge + display data takes on three files (a profiling aid):
//! cargo run --release -p ifmatch-engine --example display_phases -- BASE MINE THEIRS
use ifmatch_engine::json::{print::pretty, Doc};
use ifmatch_engine::merge::{self, Fill};
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    let t0 = Instant::now();
    let texts: Vec<String> = a
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let t1 = Instant::now();
    let docs: Vec<Doc> = texts.iter().map(|t| Doc::parse(t).unwrap()).collect();
    let t2 = Instant::now();
    let m = merge::three_way(&docs[0], &docs[1], &docs[2], &Default::default());
    let t3 = Instant::now();
    let r = m.render(Fill::Base).unwrap();
    let t4 = Instant::now();
    let p: Vec<String> = texts.iter().map(|t| pretty(t)).collect();
    let t5 = Instant::now();
    let n = merge::display::line_diff(&p[0], &p[1]).len();
    let tr = Instant::now();
    for _ in 0..20 {
        std::hint::black_box(merge::display::line_diff(&p[0], &p[1]));
    }
    eprintln!(
        "line diff, repeated: {:.2} ms each",
        ms(tr, Instant::now()) / 20.0
    );
    let t6 = Instant::now();
    let rd = Doc::parse(&r).unwrap();
    let t7 = Instant::now();
    let same = merge::display::line_diff(&p[0], &p[0]).len();
    eprintln!(
        "identical texts diff: {:.0} ms ({same} ops)",
        ms(t7, Instant::now())
    );
    let t7 = Instant::now();
    let full = merge::display::display(&docs[0], &docs[1], &docs[2], &m);
    let t8 = Instant::now();
    println!("read {:.0} ms, parse x3 {:.0}, merge {:.0}, render {:.0}, pretty x3 {:.0}, one line diff {:.0} ({n} ops), parse result {:.0} ({} nodes), display() {:.0} ({} conflicts)",
        ms(t0,t1), ms(t1,t2), ms(t2,t3), ms(t3,t4), ms(t4,t5), ms(t5,t6), ms(t6,t7), rd.nodes.len(), ms(t7,t8), full.conflicts.len());
}
