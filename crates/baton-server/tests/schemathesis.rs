//! Schemathesis (property-based API testing) against the real server over
//! HTTP: every operation of the OpenAPI document, with data that fits the
//! document and data that does not, under every check it has (statuses,
//! content types, response schemas, event-stream frames, refusals of bad
//! data, acceptance of good data, authentication, unsupported methods,
//! stateful links). The document must state what the server enforces.
//!
//! It needs the `st` command of schemathesis 4 (`pip install
//! schemathesis`; `.ci/run` installs it). Without it this test fails.
//! Settings it cannot take on the command line are in
//! `tests/schemathesis.toml`, each with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::time::Duration;

/// Test cases per operation and phase: enough to cover every parameter
/// and its bounds, few enough to finish in seconds on two cores.
const MAX_EXAMPLES: &str = "20";

/// Fixed, so that a run is reproducible (and a failure can be replayed).
const SEED: &str = "1";

/// How long the whole run may take before the test gives up.
const RUN_DEADLINE: Duration = Duration::from_secs(240);

const INSTALL: &str = "pip install 'schemathesis>=4,<5'";

/// The version `st --version` reports, checked to be a 4.x.
fn schemathesis_version() -> String {
    let output = std::process::Command::new("st")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "schemathesis is not installed (`st --version`: {e}); install it with `{INSTALL}`"
            )
        });
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`st --version` failed: {text}{}; reinstall schemathesis with `{INSTALL}`",
        String::from_utf8_lossy(&output.stderr)
    );
    let version = text
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        version.starts_with("4."),
        "this test is written for schemathesis 4, found `{}`; install it with `{INSTALL}`",
        text.trim()
    );
    version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_mismatch_between_the_document_and_the_server() {
    let version = schemathesis_version();
    let s = start_plain().await;
    let operations = baton_server::openapi()
        .paths
        .paths
        .values()
        .map(|item| {
            [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .iter()
                .filter(|op| op.is_some())
                .count()
        })
        .sum::<usize>();
    // Schemathesis keeps what it learns in the directory it runs in;
    // nothing of a previous run may steer this one.
    let scratch = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let run = tokio::process::Command::new("st")
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(s.url("/openapi.json"))
        // Every path: schemathesis leaves out the one that served it the
        // document unless a filter names it.
        .args(["--include-path-regex", "^/"])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .arg("--no-color")
        .current_dir(scratch.path())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {RUN_DEADLINE:?}"))
        .expect("schemathesis runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis {version} found mismatches between the document and the server \
         (exit {:?}):\n{report}",
        output.status.code()
    );
    // It tested every operation, and every case passed.
    assert!(
        report.contains(&format!("Tested: {operations}\n")),
        "not all {operations} operations were tested:\n{report}"
    );
    let summary = report
        .lines()
        .find(|line| line.contains(" generated, "))
        .unwrap_or_else(|| panic!("no summary of test cases:\n{report}"));
    let counts: Vec<u64> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        summary.contains(" passed") && !summary.contains("fail") && !summary.contains("error"),
        "{summary}"
    );
    let (generated, passed) = (counts[0], counts[1]);
    assert_eq!(generated, passed, "{summary}");
    assert!(
        generated >= operations as u64 * 10,
        "too few cases for {operations} operations: {summary}"
    );
    s.stop().await;
}
