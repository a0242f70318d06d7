//! `baton trust`: the user's list of trusted project directories, kept in
//! the user's config file (`[trust] trusted`, `[trust] declined`), edited in
//! place so that the rest of the file (comments, order) stays as written.

use crate::cli::TrustArgs;
use crate::exit::{CmdResult, Failure};
use crate::setup;
use baton_core::trust::canonical;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `baton trust`.
pub fn trust(args: TrustArgs) -> CmdResult {
    let file = user_file()?;
    if args.list {
        let settings = setup::load_project_config(&setup::current_dir()?)?
            .config
            .trust;
        println!("trusted ({}):", file.display());
        for dir in &settings.trusted {
            println!("  {}", dir.display());
        }
        if !settings.declined.is_empty() {
            println!("declined (not asked again):");
            for dir in &settings.declined {
                println!("  {}", dir.display());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = match args.dir {
        Some(dir) => dir,
        None => setup::current_dir()?,
    };
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let dir = canonical(&dir);
    if args.revoke {
        let removed = record(&file, &dir, Decision::Revoke)?;
        if removed {
            println!("{} is no longer trusted", dir.display());
        } else {
            println!("{} was not in the trusted list", dir.display());
        }
        let still = setup::load_project_config(&dir)?.trusted;
        if still {
            println!(
                "(it is still trusted through a directory above it; see `baton trust --list`)"
            );
        }
    } else {
        record(&file, &dir, Decision::Trust)?;
        println!(
            "trusted {}: its .baton/config.toml now applies in full ({})",
            dir.display(),
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The user's config file, which `baton trust` writes.
fn user_file() -> Result<PathBuf, Failure> {
    setup::user_config_file().0.ok_or_else(|| {
        Failure::usage("cannot find a config directory: set BATON_CONFIG to your config file")
    })
}

/// What to write about a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Add it to `trusted` (and drop it from `declined`).
    Trust,
    /// Add it to `declined` (the terminal UI does not ask again).
    Decline,
    /// Drop it from `trusted`.
    Revoke,
}

/// Writes `decision` about `dir` into the user's config; returns whether
/// the file changed.
pub fn record_decision(dir: &Path, decision: Decision) -> Result<bool, Failure> {
    record(&user_file()?, &canonical(dir), decision)
}

fn record(file: &Path, dir: &Path, decision: Decision) -> Result<bool, Failure> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read {}: {e}",
                file.display()
            )));
        }
    };
    let (edited, changed) = edit(&text, dir, decision)
        .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
    if !changed {
        return Ok(false);
    }
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
    }
    // Written whole to a temporary file, then moved over: never half a file.
    let temp = file.with_extension("toml.tmp");
    std::fs::write(&temp, edited)
        .and_then(|()| std::fs::rename(&temp, file))
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", file.display())))?;
    Ok(true)
}

/// The config text with `decision` applied, and whether it changed.
fn edit(text: &str, dir: &Path, decision: Decision) -> Result<(String, bool), String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let entry = doc
        .entry("trust")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    let Some(table) = entry.as_table_like_mut() else {
        return Err("`trust` must be a table".into());
    };
    let name = dir.to_string_lossy().into_owned();
    let changed = match decision {
        Decision::Trust => {
            let removed = remove(table, "declined", &name)?;
            add(table, "trusted", &name)? || removed
        }
        Decision::Decline => add(table, "declined", &name)?,
        Decision::Revoke => remove(table, "trusted", &name)?,
    };
    Ok((doc.to_string(), changed))
}

fn list<'a>(
    table: &'a mut dyn toml_edit::TableLike,
    key: &str,
) -> Result<&'a mut toml_edit::Array, String> {
    table
        .entry(key)
        .or_insert(toml_edit::value(toml_edit::Array::new()))
        .as_array_mut()
        .ok_or_else(|| format!("`trust.{key}` must be a list of directories"))
}

fn add(table: &mut dyn toml_edit::TableLike, key: &str, name: &str) -> Result<bool, String> {
    let array = list(table, key)?;
    if array.iter().any(|v| v.as_str() == Some(name)) {
        return Ok(false);
    }
    array.push(name);
    Ok(true)
}

fn remove(table: &mut dyn toml_edit::TableLike, key: &str, name: &str) -> Result<bool, String> {
    if table.get(key).is_none() {
        return Ok(false);
    }
    let array = list(table, key)?;
    let before = array.len();
    array.retain(|v| v.as_str() != Some(name));
    Ok(array.len() != before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_the_rest_of_the_file_and_are_idempotent() {
        let text = "# my config\nmodel = \"mock/x\" # default\n\n[trust]\ndeclined = [\"/p\"]\n";
        let (text, changed) = edit(text, Path::new("/p"), Decision::Trust).unwrap();
        assert!(changed);
        assert!(
            text.starts_with("# my config\nmodel = \"mock/x\" # default\n"),
            "{text}"
        );
        let parsed: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(parsed["trust"]["trusted"][0].as_str(), Some("/p"));
        assert_eq!(parsed["trust"]["declined"].as_array().unwrap().len(), 0);
        let (again, changed) = edit(&text, Path::new("/p"), Decision::Trust).unwrap();
        assert!(!changed);
        assert_eq!(again, text);
        let (revoked, changed) = edit(&text, Path::new("/p"), Decision::Revoke).unwrap();
        assert!(changed);
        let parsed: toml_edit::DocumentMut = revoked.parse().unwrap();
        assert_eq!(parsed["trust"]["trusted"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn a_file_that_is_not_toml_is_refused() {
        assert!(edit("model = ", Path::new("/p"), Decision::Trust).is_err());
        assert!(edit("trust = 1", Path::new("/p"), Decision::Trust).is_err());
    }
}
