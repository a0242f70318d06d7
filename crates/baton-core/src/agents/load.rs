//! Reading a folder of agent files into an [`AgentSet`].

use super::formats::{Parsed, parse_agent_file};
use super::search_path::AgentDir;
use super::set::{AgentProblem, AgentSet};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Loads every `*.md` file of `dir` into `set`, in file-name order. A
/// missing folder is fine; anything else that goes wrong is reported.
pub(crate) fn load_dir(dir: &AgentDir, set: &mut AgentSet) {
    let files = match markdown_files(&dir.path) {
        Ok(files) => files,
        Err(err) if err.kind() == ErrorKind::NotFound => return,
        Err(err) => {
            set.report(AgentProblem {
                path: dir.path.clone(),
                message: format!("cannot read the agent folder: {err}"),
                skipped: true,
            });
            return;
        }
    };
    // Which file of this folder defined each name, to flag two files of
    // one folder that claim the same name.
    let mut defined_here: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in files {
        let problem = |message: String, skipped: bool| AgentProblem {
            path: path.clone(),
            message,
            skipped,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                set.report(problem(format!("cannot read the file: {err}"), true));
                continue;
            }
        };
        match parse_agent_file(&path, &text, dir.format, dir.scope) {
            Ok(Parsed::Agent(agent, warnings)) => {
                for warning in warnings {
                    set.report(problem(warning, false));
                }
                if let Some(taken) = set.get(&agent.name)
                    && taken.is_primary()
                    && !agent.is_primary()
                {
                    // Replacing it would leave nobody of that name to talk
                    // to (`build` is what `baton run` runs by default).
                    let by = match &taken.source.path {
                        Some(path) => path.display().to_string(),
                        None => "baton (built in)".to_owned(),
                    };
                    set.report(problem(
                        format!(
                            "this sub-agent is called `{}`, the name of a primary agent defined \
                             by {by}, which it would replace; rename it (`name:` in its front \
                             matter, or the file) to use it",
                            agent.name
                        ),
                        true,
                    ));
                    continue;
                }
                if let Some(earlier) = defined_here.insert(agent.name.clone(), path.clone()) {
                    set.report(problem(
                        format!(
                            "agent `{}` is also defined by {} in the same folder; this file \
                             wins",
                            agent.name,
                            earlier.display()
                        ),
                        false,
                    ));
                }
                set.insert(*agent);
            }
            Ok(Parsed::Disabled(reason)) => set.report(problem(reason, true)),
            Err(message) => set.report(problem(message, true)),
        }
    }
}

/// The `*.md` files directly in `dir` (following symbolic links), sorted.
fn markdown_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_markdown = path.extension().is_some_and(|ext| ext == "md");
        if is_markdown && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
