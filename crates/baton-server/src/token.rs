//! The bearer token every `/v1` request carries: `BATON_SERVER_TOKEN`, or
//! the one kept in `$BATON_HOME/server.token` (mode 0600), made on first
//! use.

use crate::error::ServerError;
use std::io::Write;
use std::path::Path;

/// The file name of the token under the data directory.
pub const FILE_NAME: &str = "server.token";

/// The token the server uses: `env_token` (the value of
/// `BATON_SERVER_TOKEN`) when set and not blank; else the one in
/// `$home/server.token`, whose mode is tightened to 0600 if it was looser;
/// else a new one (from the operating system's randomness), written there
/// with mode 0600.
pub fn resolve(env_token: Option<String>, home: &Path) -> Result<String, ServerError> {
    if let Some(token) = env_token
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        return Ok(token);
    }
    let path = home.join(FILE_NAME);
    if let Some(token) = read(home)? {
        tighten(&path)?;
        return Ok(token);
    }
    let token = generate();
    match create(home, &token)? {
        Created::Ours => {
            tracing::info!(path = %path.display(), "wrote a new server token");
            Ok(token)
        }
        // Another process wrote one since we looked: use theirs.
        Created::Theirs => read(home)?.ok_or_else(|| ServerError::TokenFile {
            path,
            source: std::io::Error::other("the token file is empty"),
        }),
    }
}

/// The token in `$home/server.token`, if there is one (a blank file counts
/// as none). Clients use this to reach a local server.
pub fn read(home: &Path) -> Result<Option<String>, ServerError> {
    let path = home.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim();
            Ok((!token.is_empty()).then(|| token.to_owned()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ServerError::TokenFile { path, source }),
    }
}

/// A new token: 64 hex digits, 244 random bits from the operating system.
fn generate() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Who ended up writing the token file.
enum Created {
    Ours,
    Theirs,
}

/// Writes the token file atomically, never replacing one that holds a
/// token: a temporary file made with mode 0600 is linked into place (or
/// renamed over a blank one).
fn create(home: &Path, token: &str) -> Result<Created, ServerError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServerError::TokenFile { path, source }
    };
    std::fs::create_dir_all(home).map_err(failed(home))?;
    let path = home.join(FILE_NAME);
    let temp = home.join(format!(
        ".{FILE_NAME}.{}.{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let placed = write_private(&temp, token).and_then(|()| place(&temp, &path));
    // Gone already after a rename.
    let _ = std::fs::remove_file(&temp);
    placed.map_err(failed(&path))
}

/// Puts the written temporary file at `path`, unless a token is there.
fn place(temp: &Path, path: &Path) -> std::io::Result<Created> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => Ok(Created::Ours),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = std::fs::read_to_string(path).unwrap_or_default();
            if existing.trim().is_empty() {
                std::fs::rename(temp, path)?;
                Ok(Created::Ours)
            } else {
                Ok(Created::Theirs)
            }
        }
        // A file system without hard links: rename (last writer wins).
        Err(_) => std::fs::rename(temp, path).map(|()| Created::Ours),
    }
}

/// Creates `path` (it must not exist) readable and writable by its owner
/// only, with `token` in it, flushed to disk.
fn write_private(path: &Path, token: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Makes an existing token file readable by its owner only.
#[cfg(unix)]
fn tighten(path: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |source| ServerError::TokenFile {
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(failed)?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", mode & 0o777),
            "the server token was readable by others; setting its mode to 0600"
        );
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
    }
    Ok(())
}

/// Modes are a Unix matter.
#[cfg(not(unix))]
fn tighten(_path: &Path) -> Result<(), ServerError> {
    Ok(())
}
