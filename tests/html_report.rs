//! The HTML report end to end: the real binary (`compare`, and `check` on a results file)
//! writes `--format html` / `--html FILE` for fixture snapshots with a failing benchmark and
//! hostile names, and headless Chromium (Debian's `chromium`) loads the page: its screenshot
//! must show something drawn, its console must stay silent (the page has no script, and its
//! Content-Security-Policy reports anything it would load from elsewhere), and every chart
//! image of the failing benchmark must have decoded. Under `CI` Chromium is required
//! (`.ci/run` installs it with `.ci/install-chromium`), so CI cannot skip that part silently.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use perfgate::baseline::schema::{SnapshotKind, Throughput};

/// The benchmark that regresses (twice as slow, its tail too).
const FAILING: &str = "pool/roundtrip";
const HOSTILE: &str = "<script>alert(1)</script>";

fn write_pair(dir: &Path) {
    let mk = |kind, seed: u64, scale: f64, gone: bool| {
        let mut v = plain_benches(&[HOSTILE, "steady/one"], seed, 1.0);
        v.push(bench(
            FAILING,
            samples(seed + 10, 40, 12_000.0 * scale, 0.01),
            None,
            Some(ops(seed + 11, 20_000, 11_000.0 * scale, 400.0 * scale)),
        ));
        v.push(bench(
            "pipe/copy",
            samples(seed + 12, 30, 20_000.0, 0.01),
            Some(Throughput::Bytes(65536)),
            None,
        ));
        v.push(bench(
            if gone { "gone/away" } else { "brand/new" },
            samples(seed + 13, 30, 1000.0, 0.01),
            None,
            None,
        ));
        snapshot(kind, v)
    };
    write(
        &dir.join("base.json"),
        &mk(SnapshotKind::Baseline, 1, 1.0, true),
    );
    write(
        &dir.join("res.json"),
        &mk(SnapshotKind::Results, 100, 2.0, false),
    );
}

/// The section of the page about benchmark `name` (escaped as the page escapes it).
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let heading = format!("<h2><code>{name}</code>");
    let at = page
        .find(&heading)
        .unwrap_or_else(|| panic!("{name}: {page}"));
    let start = page[..at].rfind("<section").unwrap();
    let end = at + page[at..].find("</section>").unwrap();
    &page[start..end]
}

#[test]
fn compare_writes_a_self_contained_page_failing_benchmark_first() {
    let tmp = tempfile::tempdir().unwrap();
    write_pair(tmp.path());
    let mut args = COMPARE.to_vec();
    args.extend(["--format", "html", "--html", "report.html"]);
    let out = run_in(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = stdout(&out);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("report.html")).unwrap(),
        page
    );
    assert!(page.starts_with("<!DOCTYPE html>\n") && page.ends_with("</html>\n"));
    for bad in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
        assert!(!page.contains(bad), "{bad} in the page");
    }
    assert!(page.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    // The failing benchmark has the first section, with its change, its latency histograms
    // and the missing benchmark's section next (it fails too).
    let first = &page[page.find("<section").unwrap()..];
    assert!(
        first
            .starts_with("<section id=\"b-0\" class=\"failing\">\n<h2><code>pool/roundtrip</code>"),
        "{first}"
    );
    let failing = section(&page, FAILING);
    assert!(failing.contains("id=\"chart-0-change\" src=\"data:image/svg+xml"));
    assert!(failing.contains("id=\"chart-0-distribution\" src=\"data:image/svg+xml"));
    assert!(failing.contains("Per-operation latency (log scale)"));
    assert!(section(&page, "gone/away").contains("class=\"failing\""));
    assert!(section(&page, "steady/one").contains("Per-iteration sample times"));
}

#[test]
fn check_writes_the_html_report_beside_another_format() {
    let tmp = tempfile::tempdir().unwrap();
    write_pair(tmp.path());
    let out = run_in(
        tmp.path(),
        &[
            "check",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
            "--confirm-rounds",
            "0",
            "--format",
            "json",
            "--html",
            "report.html",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "fail");
    let page = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(section(&page, FAILING).contains("class=\"failing\""));
}

/// The browsers tried, in order: Debian's `chromium`, the name Ubuntu and GitHub's runner
/// images also have, and Google's build.
const BROWSERS: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// Runs headless Chromium on `page` with `args`; `None` (after a note) when it is not
/// installed and `CI` is not set.
fn chromium(profile: &Path, page: &Path, args: &[&str]) -> Option<std::process::Output> {
    let browser = BROWSERS.iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and none of {BROWSERS:?} is on PATH (.ci/install-chromium)"
        );
        eprintln!("note: chromium not on PATH; skipping the browser test");
        return None;
    };
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // No first-run work, no network: the page must need none.
            "--no-first-run",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("{browser}: {e}"));
    Some(out)
}

/// The console messages Chromium logged (`--enable-logging=stderr` writes each as a
/// `CONSOLE` line, errors and Content-Security-Policy violations among them).
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// A copy of the page with a probe script at the end (and without the policy that would
/// block it): once the page has loaded, it writes into the DOM how many chart images of the
/// failing benchmark's section decoded, and how many did not.
fn probed(page: &str) -> String {
    let policy_start = page
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let policy_end = policy_start + page[policy_start..].find('>').unwrap() + 1;
    let probe = r#"<script>
window.addEventListener("load", () => {
  const section = document.getElementById("b-0");
  const imgs = [...section.querySelectorAll("img.chart")];
  const ok = imgs.filter((i) => i.complete && i.naturalWidth > 0).length;
  const p = document.createElement("p");
  p.id = "probe";
  p.textContent = `charts ${ok} decoded ${imgs.length - ok} broken`;
  document.body.appendChild(p);
});
</script>
"#;
    format!(
        "{}{}{}",
        &page[..policy_start],
        &page[policy_end..page.len() - "</body>\n</html>\n".len()],
        format_args!("{probe}</body>\n</html>\n")
    )
}

#[test]
fn chromium_renders_the_page_with_the_failing_benchmarks_charts() {
    let tmp = tempfile::tempdir().unwrap();
    write_pair(tmp.path());
    let mut args = COMPARE.to_vec();
    args.extend(["--format", "table", "--html", "report.html"]);
    let out = run_in(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = tmp.path().join("report.html");
    let shot = tmp.path().join("shot.png");

    // The page as written: a screenshot, and not one console message.
    let Some(run) = chromium(
        &tmp.path().join("profile"),
        &report,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
    ) else {
        return;
    };
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "chromium failed:\n{log}");
    let console = console_messages(&log);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    check_screenshot(&shot);

    // The console check sees what it should: a page that logs an error is caught.
    let noisy = tmp.path().join("noisy.html");
    std::fs::write(
        &noisy,
        "<!DOCTYPE html><title>x</title><script>console.error('perfgate probe')</script>",
    )
    .unwrap();
    let run = chromium(&tmp.path().join("profile"), &noisy, &["--dump-dom"])
        .expect("chromium ran once already");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(
        console_messages(&log)
            .iter()
            .any(|l| l.contains("perfgate probe")),
        "a console error went unseen: Chromium's log format changed?\n{log}"
    );

    // The failing benchmark's chart images in the rendered DOM, every one decoded.
    let page = std::fs::read_to_string(&report).unwrap();
    let probe = tmp.path().join("probed.html");
    std::fs::write(&probe, probed(&page)).unwrap();
    let run = chromium(
        &tmp.path().join("profile"),
        &probe,
        &["--dump-dom", "--virtual-time-budget=10000"],
    )
    .expect("chromium ran once already");
    let dom = String::from_utf8_lossy(&run.stdout);
    let log = String::from_utf8_lossy(&run.stderr);
    let console = console_messages(&log);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    assert!(
        dom.contains("<p id=\"probe\">charts 2 decoded 0 broken</p>"),
        "probe: {}\n{log}",
        dom.lines()
            .filter(|l| l.contains("probe"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(dom.contains("<h2><code>pool/roundtrip</code>"));
    // The hostile name is text in the rendered DOM, not an element.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// The screenshot is a PNG of the window's size with a page drawn on it: many colours (text,
/// the charts' blue and orange bars) and the failing verdict's red.
fn check_screenshot(path: &Path) {
    let file = std::fs::File::open(path).expect("a screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!((info.width, info.height), (1280, 1600));
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let colours: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(
        colours.len() > 50,
        "{} colours: nothing drawn",
        colours.len()
    );
    let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(
        white < pixels.len() * 98 / 100,
        "{white} of {} pixels white",
        pixels.len()
    );
    // The charts' bars: the baseline's blue and the current's orange, blended on white.
    let bluish = pixels
        .iter()
        .filter(|[r, _, b]| *b > 150 && *r < 170 && (*b as i32 - *r as i32) > 60)
        .count();
    let orangish = pixels
        .iter()
        .filter(|[r, g, b]| *r > 200 && *g > 120 && *g < 220 && *b < 150)
        .count();
    assert!(
        bluish > 500 && orangish > 500,
        "blue {bluish}, orange {orangish}"
    );
}
