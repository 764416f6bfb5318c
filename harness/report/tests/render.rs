//! Renders the fixture report in headless Chromium and checks the screenshot is a real page: the
//! right size, mostly not blank, with the fail red and the pass green both on screen.
//!
//! Skipped (with a message) where `/usr/bin/chromium` is missing, unless
//! `FAULTLINE_REQUIRE_CHROMIUM=1` (CI) makes that a failure. `FAULTLINE_SCREENSHOT=<path>` keeps a
//! copy of the screenshot, e.g. to refresh docs/report-example.png.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline_report::fixtures::sample_suite;
use faultline_report::write_all;

const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2400;
const TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn fixture_report_renders_in_chromium_with_pass_and_fail_colours() {
    if !Path::new(CHROMIUM).exists() {
        assert_ne!(
            std::env::var("FAULTLINE_REQUIRE_CHROMIUM").as_deref(),
            Ok("1"),
            "{CHROMIUM} is missing and FAULTLINE_REQUIRE_CHROMIUM=1; install it with: apt-get install -y chromium"
        );
        eprintln!("SKIPPED: {CHROMIUM} not found (apt-get install -y chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = write_all(&sample_suite(), &dir.path().join("out")).unwrap();
    let png = dir.path().join("report.png");
    screenshot(&files.html, &png, &dir.path().join("profile"));
    if let Ok(keep) = std::env::var("FAULTLINE_SCREENSHOT") {
        std::fs::copy(&png, &keep).unwrap();
    }

    let (width, height, rgb) = decode_rgb(&png);
    assert_eq!((width, height), (WIDTH, HEIGHT));
    let pixels: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let share = |pred: &dyn Fn(&[u8; 3]) -> bool| {
        pixels.iter().filter(|p| pred(p)).count() as f64 / pixels.len() as f64
    };
    let not_white = share(&|p| p.iter().any(|&c| c < 235));
    let red = share(&|&[r, g, b]| r > 150 && g < 80 && b < 80);
    let green = share(&|&[r, g, b]| g > 100 && r < 60 && b < 100);
    eprintln!("not white {not_white:.3}, red {red:.4}, green {green:.4}");
    // A blank page is under 1%; the fixture's page is 10-11% (9.7% once, when the screenshot came
    // before every plot was painted), so 5% tells the two apart without depending on that timing.
    assert!(
        not_white > 0.05,
        "the page looks blank: only {:.1}% of pixels are not white",
        not_white * 100.0
    );
    assert!(red > 0.001, "no fail red on the page ({:.3}%)", red * 100.0);
    assert!(
        green > 0.0002,
        "no pass green on the page ({:.3}%)",
        green * 100.0
    );
}

fn screenshot(html: &Path, png: &Path, profile: &Path) {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish the screenshot within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(
        status.success() && png.exists(),
        "chromium failed ({status}); no screenshot at {}:\n{stderr}",
        png.display()
    );
}

/// The PNG as 8-bit RGB, whatever colour type Chromium chose.
fn decode_rgb(path: &Path) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(File::open(path).unwrap());
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    (info.width, info.height, rgb)
}
