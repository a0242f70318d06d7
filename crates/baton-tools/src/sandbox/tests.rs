//! The ruleset against the running kernel: confined commands (and what
//! they start) write only where the plan says, read everywhere, and reach
//! the network only when allowed.

use super::*;
use std::path::PathBuf;
use std::process::Output;

/// Runs `script` with `sh -c` in `dir`, confined by `plan`.
async fn confined(plan: &WritePlan, network: bool, dir: &Path, script: &str) -> Output {
    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg(script).current_dir(dir);
    landlock_rules::Ruleset::new(plan, network)
        .unwrap()
        .confine(&mut command);
    command.output().await.unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Two directories: one the plan allows, one it does not (with a file).
struct Dirs {
    allowed: tempfile::TempDir,
    other: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        let dirs = Dirs {
            allowed: tempfile::tempdir().unwrap(),
            other: tempfile::tempdir().unwrap(),
        };
        std::fs::write(dirs.other.path().join("kept"), "original\n").unwrap();
        dirs
    }

    /// Only the allowed directory and /dev/null (not even /tmp, where
    /// both directories are).
    fn plan(&self) -> WritePlan {
        WritePlan {
            dirs: vec![std::fs::canonicalize(self.allowed.path()).unwrap()],
            git: Vec::new(),
            devices: vec![PathBuf::from("/dev/null")],
        }
    }

    fn other(&self, name: &str) -> PathBuf {
        self.other.path().join(name)
    }

    fn allowed(&self, name: &str) -> PathBuf {
        self.allowed.path().join(name)
    }
}

#[tokio::test]
async fn writes_happen_only_where_the_plan_allows_and_reads_everywhere() {
    let d = Dirs::new();
    let script = format!(
        "echo in > {in_file}; mkdir {in_dir}; echo out > {out_file}; mkdir {out_dir}; \
         echo gone > /dev/null && echo devnull-ok; echo to-stdout > /dev/stdout; \
         echo to-stderr > /dev/stderr; cat {kept}",
        in_file = d.allowed("f").display(),
        in_dir = d.allowed("d").display(),
        out_file = d.other("f").display(),
        out_dir = d.other("d").display(),
        kept = d.other("kept").display(),
    );
    let out = confined(&d.plan(), true, d.allowed.path(), &script).await;
    let said = text(&out);
    assert_eq!(std::fs::read_to_string(d.allowed("f")).unwrap(), "in\n");
    assert!(d.allowed("d").is_dir());
    assert!(!d.other("f").exists(), "{said}");
    assert!(!d.other("d").exists(), "{said}");
    assert!(said.contains("Permission denied"), "{said}");
    assert!(said.contains("devnull-ok"), "{said}");
    assert!(
        said.contains("to-stdout") && said.contains("to-stderr"),
        "the command's own pipes stay writable by name: {said}"
    );
    assert!(said.contains("original"), "reading stays open: {said}");
}

#[tokio::test]
async fn truncating_removing_and_moving_outside_are_refused() {
    let d = Dirs::new();
    let kept = d.other("kept");
    let script = format!(
        ": > {kept}; rm -f {kept}; mv {kept} {dest}; ln {kept} {link}; ln -s {kept} {sym}",
        kept = kept.display(),
        dest = d.allowed("moved").display(),
        link = d.other("hard").display(),
        sym = d.other("sym").display(),
    );
    let out = confined(&d.plan(), true, d.allowed.path(), &script).await;
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "original\n",
        "{}",
        text(&out)
    );
    assert!(!d.allowed("moved").exists());
    assert!(!d.other("hard").exists() && !d.other("sym").exists());
}

#[tokio::test]
async fn what_the_command_starts_stays_confined() {
    let d = Dirs::new();
    let script = format!(
        "sh -c 'sh -c \"echo deep > {}\"' ; (echo bg > {}) & wait",
        d.other("deep").display(),
        d.other("bg").display()
    );
    confined(&d.plan(), true, d.allowed.path(), &script).await;
    assert!(!d.other("deep").exists());
    assert!(!d.other("bg").exists());
}

#[tokio::test]
async fn tcp_is_refused_only_when_the_network_is_off() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move {
        loop {
            if listener.accept().await.is_err() {
                break;
            }
        }
    });
    let d = Dirs::new();
    // bash opens a TCP connection for a redirection to /dev/tcp/HOST/PORT.
    let script =
        format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo connected || echo refused");
    let open = confined(&d.plan(), true, d.allowed.path(), &script).await;
    assert!(text(&open).contains("connected"), "{}", text(&open));
    let closed = confined(&d.plan(), false, d.allowed.path(), &script).await;
    assert!(text(&closed).contains("refused"), "{}", text(&closed));
    accept.abort();
}

#[tokio::test]
async fn prepare_confines_every_mode_but_off() {
    let work = tempfile::tempdir().unwrap();
    let off = SandboxSettings {
        mode: SandboxMode::Off,
        ..SandboxSettings::default()
    };
    assert!(matches!(
        prepare(&off, work.path()).unwrap(),
        Prepared::Unconfined
    ));
    for mode in [SandboxMode::WorkspaceWrite, SandboxMode::ReadOnly] {
        let settings = SandboxSettings {
            mode,
            ..SandboxSettings::default()
        };
        match prepare(&settings, work.path()).unwrap() {
            Prepared::Confined { refusals, .. } => assert_eq!(refusals.mode, mode),
            Prepared::Unconfined => panic!("{mode} ran unconfined"),
        }
    }
}

#[test]
fn an_unsandboxable_command_is_refused_naming_the_key_or_run_as_it_is() {
    let unavailable = SandboxUnavailable {
        reason: "this Linux kernel is built without Landlock".to_owned(),
    };
    let refuse = SandboxSettings::default();
    let Err(err) = unsandboxable(&refuse, &unavailable) else {
        panic!("an unsandboxable command ran although `unsupported` is `refuse`");
    };
    let text = err.to_string();
    assert!(
        text.starts_with("the command was not run")
            && text.contains("built without Landlock")
            && text.contains("`[sandbox] unsupported = \"run-unsandboxed\"`"),
        "{text}"
    );
    let run = SandboxSettings {
        unsupported: Unsupported::RunUnsandboxed,
        ..SandboxSettings::default()
    };
    assert!(matches!(
        unsandboxable(&run, &unavailable),
        Ok(Prepared::Unconfined)
    ));
}
