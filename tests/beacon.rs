//! The screen beacon shipped in `contrib/beacon/beacon.js`: run in Node with a stub `window`
//! and `Image`, it requests a URL that accesslens, reading it back from a log, turns into the
//! session's resolution and colour depth.

use std::process::Command;

use tempfile::TempDir;

use crate::util::*;

/// Runs the snippet with a 1440x900, 30-bit screen and returns the URL it requests.
fn snippet_url() -> String {
    let snippet = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/beacon/beacon.js");
    let harness = r#"
const fs = require("fs");
const requested = [];
globalThis.window = { screen: { width: 1440, height: 900, colorDepth: 30 } };
globalThis.Image = function () {
  return new Proxy({}, { set(target, key, value) { if (key === "src") requested.push(value); target[key] = value; return true; } });
};
Date.now = () => 1700000000000;
new Function(fs.readFileSync(process.argv[1], "utf8"))();
if (requested.length !== 1) { console.error("requests: " + JSON.stringify(requested)); process.exit(1); }
console.log(requested[0]);
"#;
    let output = Command::new("node")
        .arg("-e")
        .arg(harness)
        .arg(&snippet)
        .output()
        .expect("node runs (.ci/run installs nodejs)");
    assert!(
        output.status.success(),
        "the snippet failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[test]
fn the_snippets_request_becomes_the_sessions_screen() {
    let url = snippet_url();
    assert_eq!(url, "/collect?res=1440x900&cd=30&r=1700000000000");

    let dir = TempDir::new().unwrap();
    let agent = FIREFOX_WIN;
    let log = format!(
        "198.51.100.1 - - [10/Mar/2024:10:00:00 +0000] \"GET /pricing HTTP/1.1\" 200 900 \"-\" \"{agent}\"\n\
         198.51.100.1 - - [10/Mar/2024:10:00:01 +0000] \"GET /beacon.js HTTP/1.1\" 200 300 \"https://mysite.test/pricing\" \"{agent}\"\n\
         198.51.100.1 - - [10/Mar/2024:10:00:01 +0000] \"GET {url} HTTP/1.1\" 204 0 \"https://mysite.test/pricing\" \"{agent}\"\n"
    );
    let input = write_file(dir.path(), "access.log", log.as_bytes());
    let out = dir.path().join("out");
    analyze(&[&input], &out, &[]);
    assert_eq!(
        duckdb_rows(
            &out,
            "select page_views, resolution, color_depth from '{out}/sessions.parquet'"
        ),
        [["1", "1440x900", "30"]]
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select resolution, device, sessions from '{out}/resolutions.parquet'"
        ),
        [["1440x900", "pc", "1"]]
    );
    assert_eq!(
        duckdb_value(&out, "select beacon_hits from '{out}/summary.parquet'"),
        "1"
    );
}
