//! Setting the server up: where its token comes from and where it may
//! listen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use baton_server::{ServerError, check_bind, token};
use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_environment_token_wins_over_the_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("server.token"), "from-file\n").unwrap();
    let got = token::resolve(Some(" from-env ".into()), home.path()).unwrap();
    assert_eq!(got, "from-env");
    // A blank variable counts as unset.
    let got = token::resolve(Some("  ".into()), home.path()).unwrap();
    assert_eq!(got, "from-file");
}

#[test]
fn a_generated_token_is_private_long_and_reused() {
    let base = tempfile::tempdir().unwrap();
    // The data directory does not exist yet.
    let home = base.path().join("baton-home");
    assert_eq!(token::read(&home).unwrap(), None);
    let made = token::resolve(None, &home).unwrap();
    assert!(made.len() >= 32, "at least 128 bits in hex: {made}");
    assert!(made.chars().all(|c| c.is_ascii_hexdigit()), "{made}");
    let file = home.join("server.token");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(token::read(&home).unwrap().as_deref(), Some(made.as_str()));
    assert_eq!(token::resolve(None, &home).unwrap(), made, "reused");
    // Nothing else was left behind (no temporary files).
    let names: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["server.token"]);

    let other = tempfile::tempdir().unwrap();
    assert_ne!(token::resolve(None, other.path()).unwrap(), made, "random");
}

#[test]
fn a_token_file_readable_by_others_is_tightened_and_a_blank_one_replaced() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("server.token");
    std::fs::write(&file, "kept-token\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(token::resolve(None, home.path()).unwrap(), "kept-token");
    assert_eq!(mode(&file), 0o600);

    let blank = tempfile::tempdir().unwrap();
    std::fs::write(blank.path().join("server.token"), "\n").unwrap();
    assert_eq!(token::read(blank.path()).unwrap(), None);
    let made = token::resolve(None, blank.path()).unwrap();
    assert!(made.len() >= 32, "{made}");
    assert_eq!(token::read(blank.path()).unwrap(), Some(made));
    assert_eq!(mode(&blank.path().join("server.token")), 0o600);
}

#[tokio::test]
async fn only_loopback_addresses_are_accepted_unless_remote_is_allowed() {
    for ok in ["127.0.0.1:4690", "localhost:4690", "[::1]:0", "127.0.0.2:1"] {
        let addrs = check_bind(ok, false).await.unwrap();
        assert!(!addrs.is_empty(), "{ok}");
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback()),
            "{ok}: {addrs:?}"
        );
    }
    assert_eq!(
        check_bind(baton_server::DEFAULT_ADDR, false).await.unwrap(),
        ["127.0.0.1:4690".parse().unwrap()]
    );

    let err = check_bind("0.0.0.0:4690", false).await.unwrap_err();
    assert!(matches!(err, ServerError::NotLoopback { .. }));
    assert_eq!(
        err.to_string(),
        "binding 0.0.0.0:4690 exposes the engine to the network; pass --allow-remote if you mean it"
    );
    assert!(check_bind("[::]:4690", false).await.is_err());
    assert!(check_bind("192.0.2.1:80", false).await.is_err());

    let allowed = check_bind("0.0.0.0:4690", true).await.unwrap();
    assert_eq!(allowed, ["0.0.0.0:4690".parse().unwrap()]);

    for bad in ["127.0.0.1", "no port here", "127.0.0.1:notaport"] {
        let err = check_bind(bad, false).await.unwrap_err();
        assert!(
            matches!(err, ServerError::BadAddress { .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains(bad), "{err}");
    }
}
