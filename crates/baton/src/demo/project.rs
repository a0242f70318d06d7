//! What `baton demo` runs on: the scripted model's side, the scratch
//! project and the person's request. `baton-cache-bench` measures the same.

/// The demo's model script (the mock model's side of the conversation).
pub(crate) const DEMO_SCRIPT: &str = include_str!("script.toml");
/// The demo project's files.
pub(crate) const DEMO_FILES: &[(&str, &str)] = &[
    (
        "notes.txt",
        "Teh quick brown fox jumps over the lazy dog.\n",
    ),
    (
        "src/app.rs",
        "fn main() {\n    // TODO: handle errors\n    run();\n    // TODO: add logging\n}\n",
    ),
    ("src/lib.rs", "// TODO: write docs\npub fn run() {}\n"),
];
/// What the person asks.
pub(crate) const DEMO_PROMPT: &str =
    "Tidy up this project: fix the typo in notes.txt, count the TODOs in src/, and run the checks.";
