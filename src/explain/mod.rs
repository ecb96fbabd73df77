//! Why a benchmark got slower: a profile of it on the baseline build and on the head build,
//! folded into stacks, compared function by function, and drawn as a differential flame
//! graph.
//!
//! Everything here works on folded stacks (`frame;frame;leaf WEIGHT` lines, the format of
//! `inferno-collapse-perf` and Brendan Gregg's `stackcollapse-perf.pl`), so it is pure and
//! tested on fixtures; [`perf`] runs the profiler that produces them.
//!
//! A function's **self time** is the samples in which it is the leaf frame; its **share** is
//! that over all samples of the side. The weights are what inferno's perf collapser
//! writes: each sample's period, nanoseconds of the software clock, so a weight is CPU time. The two sides ran for the same wall-clock time but not
//! necessarily the same number of iterations, so shares, not counts, are compared: a function
//! that does more work per iteration takes a larger share of the head's samples.

pub mod perf;
pub mod syscalls;

use std::collections::BTreeMap;

/// Folded stacks of one side: each distinct stack (frames joined by `;`, root first) and its
/// sample count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    stacks: BTreeMap<String, u64>,
}

impl Folded {
    /// Reads folded lines (`stack COUNT`); lines without a trailing count are skipped, since
    /// they carry no samples.
    pub fn parse(text: &str) -> Folded {
        let mut f = Folded::default();
        for line in text.lines() {
            let Some((stack, count)) = line.trim_end().rsplit_once(' ') else {
                continue;
            };
            let (Ok(n), false) = (count.parse::<u64>(), stack.is_empty()) else {
                continue;
            };
            *f.stacks.entry(stack.to_string()).or_default() += n;
        }
        f
    }

    /// Adds another profile of the same side (the interleaved short profiles are summed).
    pub fn add(&mut self, other: &Folded) {
        for (s, n) in &other.stacks {
            *self.stacks.entry(s.clone()).or_default() += n;
        }
    }

    /// The same stacks with every root frame named `name`. perf names the root after the
    /// process, which is the bench executable's name with cargo's hash in it and so differs
    /// between the two builds: left alone, no stack of one side would match the other's.
    pub fn with_root(&self, name: &str) -> Folded {
        let mut f = Folded::default();
        for (stack, n) in &self.stacks {
            let rest = stack.split_once(';').map_or("", |(_, r)| r);
            let s = if rest.is_empty() {
                name.to_string()
            } else {
                format!("{name};{rest}")
            };
            *f.stacks.entry(s).or_default() += n;
        }
        f
    }

    /// All samples.
    pub fn total(&self) -> u64 {
        self.stacks.values().sum()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The folded lines, sorted, each ending with a newline: what inferno reads.
    pub fn to_text(&self) -> String {
        self.stacks
            .iter()
            .map(|(s, n)| format!("{s} {n}\n"))
            .collect()
    }

    /// Self samples per function (the leaf frame of each stack).
    pub fn self_samples(&self) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for (stack, n) in &self.stacks {
            let leaf = stack.rsplit(';').next().unwrap_or(stack);
            *out.entry(leaf).or_default() += n;
        }
        out
    }
}

/// One function's self time on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionChange {
    /// The function (the frame's name as perf symbolized it).
    pub function: String,
    /// Self time on the baseline build, nanoseconds of sampled CPU time.
    pub base_ns: u64,
    /// Self time on the head build, nanoseconds of sampled CPU time.
    pub head_ns: u64,
    /// Share of the baseline's samples, a fraction.
    pub base_share: f64,
    /// Share of the head's samples, a fraction.
    pub head_share: f64,
}

impl FunctionChange {
    /// Growth of the share, in fractions (percentage points / 100).
    pub fn growth(&self) -> f64 {
        self.head_share - self.base_share
    }
}

/// The smallest growth of share listed: half a tenth of a percentage point, below which a row
/// would read `+0.0 pp` and is sampling noise (a function with a handful of samples).
pub const MIN_GROWTH: f64 = 0.0005;

/// The `n` functions whose self share grew most from `base` to `head`, largest growth first
/// (ties by name, so the output is deterministic); only functions that grew by at least
/// [`MIN_GROWTH`].
pub fn top_growth(base: &Folded, head: &Folded, n: usize) -> Vec<FunctionChange> {
    let (bt, ht) = (base.total(), head.total());
    let share = |c: u64, t: u64| if t == 0 { 0.0 } else { c as f64 / t as f64 };
    let bs = base.self_samples();
    let hs = head.self_samples();
    let mut names: Vec<&str> = bs.keys().chain(hs.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut all: Vec<FunctionChange> = names
        .into_iter()
        .map(|f| {
            let (b, h) = (
                bs.get(f).copied().unwrap_or(0),
                hs.get(f).copied().unwrap_or(0),
            );
            FunctionChange {
                function: f.to_string(),
                base_ns: b,
                head_ns: h,
                base_share: share(b, bt),
                head_share: share(h, ht),
            }
        })
        .filter(|c| c.growth() >= MIN_GROWTH)
        .collect();
    all.sort_by(|a, b| {
        b.growth()
            .total_cmp(&a.growth())
            .then_with(|| a.function.cmp(&b.function))
    });
    all.truncate(n);
    all
}

/// Folds the text of `perf script` into stacks (inferno's perf collapser, one thread: the
/// profile is small and the other core is someone's measurement).
pub fn fold_perf_script(script: &str) -> std::io::Result<Folded> {
    use inferno::collapse::Collapse;
    let mut opts = inferno::collapse::perf::Options::default();
    opts.nthreads = 1;
    let mut folder = inferno::collapse::perf::Folder::from(opts);
    let mut out = Vec::new();
    folder.collapse(script.as_bytes(), &mut out)?;
    Ok(Folded::parse(&String::from_utf8_lossy(&out)))
}

/// The differential flame graph of `base` to `head` as SVG: the head's stacks drawn, red where
/// a frame takes more of the samples than on the baseline, blue where less. The baseline is
/// normalized to the head's sample count, so a side that merely ran more iterations does not
/// colour everything.
pub fn differential_svg(base: &Folded, head: &Folded, title: &str) -> std::io::Result<String> {
    let mut diff = Vec::new();
    let opts = inferno::differential::Options {
        normalize: true,
        strip_hex: true,
    };
    inferno::differential::from_readers(
        opts,
        base.to_text().as_bytes(),
        head.to_text().as_bytes(),
        &mut diff,
    )?;
    let mut fo = inferno::flamegraph::Options::default();
    fo.title = title.to_string();
    fo.subtitle = Some("red: more of the samples on head than on the baseline; blue: less".into());
    // The weights are sampling periods: nanoseconds of the software clock, not sample counts.
    fo.count_name = "ns".into();
    let mut svg = Vec::new();
    inferno::flamegraph::from_reader(&mut fo, diff.as_slice(), &mut svg)?;
    Ok(String::from_utf8_lossy(&svg).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "main;bench;iter;checksum 80\nmain;bench;iter 15\nmain;setup 5\n";
    const HEAD: &str = "main;bench;iter;checksum 80\nmain;bench;iter;injected 100\nmain;bench;iter 15\nmain;setup 5\n";

    #[test]
    fn parses_and_sums_folded_lines() {
        let mut f = Folded::parse("a;b 3\na;b 2\nno count\n;x\nc 1\n");
        assert_eq!(f.total(), 6);
        f.add(&Folded::parse("c 4\n"));
        assert_eq!(f.to_text(), "a;b 5\nc 5\n");
        assert_eq!(f.self_samples().get("b"), Some(&5));
        let r = Folded::parse("fixture-0123;main;x 2\nfixture-4567;main;x 3\nfixture-0123 1\n");
        assert_eq!(
            r.with_root("fixture").to_text(),
            "fixture 1\nfixture;main;x 5\n"
        );
    }

    #[test]
    fn the_new_function_grows_most_and_shrunk_ones_are_left_out() {
        let top = top_growth(&Folded::parse(BASE), &Folded::parse(HEAD), 10);
        assert_eq!(top.len(), 1, "{top:?}");
        assert_eq!(top[0].function, "injected");
        assert_eq!((top[0].base_ns, top[0].head_ns), (0, 100));
        assert!((top[0].head_share - 0.5).abs() < 1e-12);
        assert_eq!(top[0].base_share, 0.0);
    }

    #[test]
    fn ties_are_broken_by_name_and_the_list_is_cut() {
        let base = Folded::parse("m;z 10\nm;a 10\nm;k 80\n");
        let head = Folded::parse("m;z 20\nm;a 20\nm;k 60\n");
        let top = top_growth(&base, &head, 1);
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].function, "a");
    }

    #[test]
    fn growth_below_a_twentieth_of_a_point_is_noise() {
        let base = Folded::parse("m;a 10000\nm;b 1\n");
        let head = Folded::parse("m;a 10000\nm;b 2\nm;c 500\n");
        let top = top_growth(&base, &head, 10);
        let names: Vec<&str> = top.iter().map(|c| c.function.as_str()).collect();
        assert_eq!(names, ["c"]);
    }

    #[test]
    fn empty_sides_give_no_growth_and_no_panic() {
        assert!(top_growth(&Folded::default(), &Folded::default(), 10).is_empty());
    }

    #[test]
    fn folds_perf_script_output() {
        let script = "\
fixture 30037 13479.357159:    1001001 cpu-clock: 
\t           a333f fixture::injected_slowdown+0xbf (/t/fixture)
\t           9e9e5 criterion::bencher::Bencher<M>::iter+0xd5 (/t/fixture)
\t           a3b74 main+0x34 (/t/fixture)

fixture 30037 13479.358163:    1001001 cpu-clock: 
\t           a3343 fixture::injected_slowdown+0xc3 (/t/fixture)
\t           9e9e5 criterion::bencher::Bencher<M>::iter+0xd5 (/t/fixture)
\t           a3b74 main+0x34 (/t/fixture)

";
        let f = fold_perf_script(script).unwrap();
        assert_eq!(
            f.to_text(),
            // Two samples of 1,001,001 ns each: the weight is the sampling period.
            "fixture;main;criterion::bencher::Bencher<M>::iter;fixture::injected_slowdown 2002002\n"
        );
    }

    #[test]
    fn draws_a_differential_svg() {
        let svg =
            differential_svg(&Folded::parse(BASE), &Folded::parse(HEAD), "fixture/sum").unwrap();
        assert!(svg.starts_with("<?xml"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.contains("injected"));
        assert!(svg.contains("fixture/sum"));
    }
}
