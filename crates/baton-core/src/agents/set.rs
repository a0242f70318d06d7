//! The agents a project can use, by name, and what went wrong reading them.

use super::builtin::builtin_agents;
use super::definition::AgentDef;
use super::load::load_dir;
use super::search_path::AgentDirs;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Something wrong with an agent file (or folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProblem {
    /// The file (or folder) concerned.
    pub path: PathBuf,
    /// What is wrong, in words meant for the person who wrote the file.
    pub message: String,
    /// `true`: the file was not loaded. `false`: a warning; the agent was
    /// loaded without what the message says.
    pub skipped: bool,
}

impl fmt::Display for AgentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.skipped { "skipped" } else { "warning" };
        write!(f, "{}: {kind}: {}", self.path.display(), self.message)
    }
}

/// Agents by name: the built-in ones, then the files found, each later
/// definition of a name replacing the earlier one.
#[derive(Debug, Clone)]
pub struct AgentSet {
    agents: BTreeMap<String, AgentDef>,
    problems: Vec<AgentProblem>,
}

impl AgentSet {
    /// Only the built-in agents (`build`, `plan`, `general`, `explore`).
    pub fn builtin() -> AgentSet {
        let mut set = AgentSet {
            agents: BTreeMap::new(),
            problems: Vec::new(),
        };
        for agent in builtin_agents() {
            set.insert(agent);
        }
        set
    }

    /// The built-in agents and every agent file under `dirs`, in the
    /// order of [`AgentDirs::search_path`]. Files that cannot be read are
    /// skipped and reported in [`AgentSet::problems`]; loading never
    /// fails.
    pub fn load(dirs: &AgentDirs) -> AgentSet {
        let mut set = AgentSet::builtin();
        for dir in dirs.search_path() {
            load_dir(&dir, &mut set);
        }
        set
    }

    /// Adds an agent, returning the one of the same name it replaces.
    pub fn insert(&mut self, agent: AgentDef) -> Option<AgentDef> {
        let replaced = self.agents.insert(agent.name.clone(), agent);
        if let Some(old) = &replaced {
            tracing::debug!(agent = %old.name, replaced = %old.source, "agent overridden");
        }
        replaced
    }

    /// The agent called `name`.
    pub fn get(&self, name: &str) -> Option<&AgentDef> {
        self.agents.get(name)
    }

    /// Every agent, sorted by name.
    pub fn all(&self) -> impl Iterator<Item = &AgentDef> {
        self.agents.values()
    }

    /// The agents others can delegate to, sorted by name.
    pub fn subagents(&self) -> impl Iterator<Item = &AgentDef> {
        self.all().filter(|a| a.is_subagent())
    }

    /// The agents a person can talk to, sorted by name.
    pub fn primaries(&self) -> impl Iterator<Item = &AgentDef> {
        self.all().filter(|a| a.is_primary())
    }

    /// What went wrong while loading, in the order it was found.
    pub fn problems(&self) -> &[AgentProblem] {
        &self.problems
    }

    /// Records a problem found while loading.
    pub(crate) fn report(&mut self, problem: AgentProblem) {
        tracing::debug!(%problem, "agent file problem");
        self.problems.push(problem);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::agents::definition::{Format, Origin, Scope};
    use std::path::Path;

    /// A home, a user config and a project directory in one temp dir.
    struct Dirs {
        _tmp: tempfile::TempDir,
        dirs: AgentDirs,
    }

    impl Dirs {
        fn new() -> Dirs {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().to_path_buf();
            Dirs {
                dirs: AgentDirs {
                    user_config: Some(root.join("home/.config/baton")),
                    home: Some(root.join("home")),
                    project: root.join("project"),
                },
                _tmp: tmp,
            }
        }

        fn home(&self) -> &Path {
            self.dirs.home.as_deref().unwrap()
        }

        fn project(&self) -> &Path {
            &self.dirs.project
        }

        fn load(&self) -> AgentSet {
            AgentSet::load(&self.dirs)
        }
    }

    fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn names<'a>(agents: impl Iterator<Item = &'a AgentDef>) -> Vec<&'a str> {
        agents.map(|a| a.name.as_str()).collect()
    }

    const BATON: &str = "---\ndescription: Baton reviewer.\nmode: subagent\ntools: [read]\n\
                         ---\nReview.";
    const CLAUDE: &str = "---\nname: reviewer\ndescription: Claude reviewer.\n\
                          tools: Read, Grep\nmodel: inherit\n---\nReview.";
    const OPENCODE: &str = "---\ndescription: opencode reviewer.\nmode: primary\n\
                            tools: { bash: false }\n---\nReview.";

    /// The built-in agents, sorted.
    const BUILTIN_NAMES: [&str; 7] = [
        "architect",
        "build",
        "developer",
        "explore",
        "general",
        "plan",
        "qa",
    ];

    #[test]
    fn builtins_alone() {
        let set = AgentSet::builtin();
        assert_eq!(names(set.all()), BUILTIN_NAMES);
        assert_eq!(names(set.primaries()), ["architect", "build", "plan"]);
        assert_eq!(
            names(set.subagents()),
            ["developer", "explore", "general", "qa"]
        );
        assert!(set.problems().is_empty());
        assert_eq!(set.get("plan").unwrap().source.origin, Origin::Builtin);
        assert!(set.get("nope").is_none());
    }

    #[test]
    fn missing_folders_give_the_builtins_and_no_problems() {
        let d = Dirs::new();
        let set = d.load();
        assert_eq!(names(set.all()), BUILTIN_NAMES);
        assert!(set.problems().is_empty(), "{:?}", set.problems());
    }

    #[test]
    fn each_dialect_loads_from_its_folder() {
        let d = Dirs::new();
        let baton = write(&d.project().join(".baton/agents"), "baton-rev.md", BATON);
        write(&d.project().join(".claude/agents"), "claude.md", CLAUDE);
        write(&d.project().join(".opencode/agent"), "oc-rev.md", OPENCODE);
        write(&d.project().join(".opencode/agents"), "oc-two.md", OPENCODE);
        write(
            &d.project().join(".baton/agents"),
            "notes.txt",
            "not an agent",
        );
        let set = d.load();
        assert!(set.problems().is_empty(), "{:?}", set.problems());
        assert_eq!(
            names(set.all()),
            [
                "architect",
                "baton-rev",
                "build",
                "developer",
                "explore",
                "general",
                "oc-rev",
                "oc-two",
                "plan",
                "qa",
                "reviewer"
            ]
        );

        let b = set.get("baton-rev").unwrap();
        assert_eq!(b.source.path.as_deref(), Some(baton.as_path()));
        assert_eq!(
            (b.source.format, b.source.scope),
            (Format::Baton, Some(Scope::Project))
        );
        assert_eq!(
            b.source.to_string(),
            "project .baton/agents/baton-rev.md (baton)"
        );
        assert!(b.allows_tool("read") && !b.allows_tool("edit"));

        let c = set.get("reviewer").unwrap();
        assert_eq!(c.source.format, Format::ClaudeCode);
        assert_eq!(c.model, None);
        assert!(c.is_subagent() && !c.is_primary());
        assert_eq!(
            c.tools.as_deref(),
            Some(&["read", "grep"].map(String::from)[..])
        );

        let o = set.get("oc-rev").unwrap();
        assert_eq!(o.source.format, Format::OpenCode);
        assert!(o.is_primary() && !o.is_subagent());
        assert!(!o.allows_tool("bash") && o.allows_tool("edit"));
        assert_eq!(names(set.subagents()).len(), 6);
    }

    #[test]
    fn project_files_override_user_files_and_files_override_builtins() {
        let d = Dirs::new();
        // The same name four times, lowest precedence first.
        let user_claude = CLAUDE.replace("Claude reviewer.", "user claude");
        write(
            &d.home().join(".claude/agents"),
            "reviewer.md",
            &user_claude,
        );
        let user_baton = BATON.replace("Baton reviewer.", "user baton");
        write(
            &d.home().join(".config/baton/agents"),
            "reviewer.md",
            &user_baton,
        );
        let project_claude = CLAUDE.replace("Claude reviewer.", "project claude");
        write(
            &d.project().join(".claude/agents"),
            "reviewer.md",
            &project_claude,
        );
        let general = "---\ndescription: My general.\nmode: subagent\n---\nMine.";
        write(
            &d.home().join(".config/opencode/agent"),
            "general.md",
            general,
        );
        let user_only = "---\ndescription: only in the user folder\n---\nP";
        write(
            &d.home().join(".config/opencode/agents"),
            "mine.md",
            user_only,
        );

        let set = d.load();
        assert!(set.problems().is_empty(), "{:?}", set.problems());
        let reviewer = set.get("reviewer").unwrap();
        assert_eq!(reviewer.description, "project claude");
        assert_eq!(reviewer.source.scope, Some(Scope::Project));
        let general = set.get("general").unwrap();
        assert_eq!(general.description, "My general.");
        assert_eq!(general.source.origin, Origin::File);
        assert_eq!(general.source.scope, Some(Scope::User));
        let mine = set.get("mine").unwrap();
        assert_eq!(mine.source.scope, Some(Scope::User));

        // Without the project's file, the user's baton file wins over the
        // user's Claude Code file.
        std::fs::remove_file(d.project().join(".claude/agents/reviewer.md")).unwrap();
        let set = d.load();
        assert_eq!(set.get("reviewer").unwrap().description, "user baton");

        // A project baton file wins over everything.
        let project_baton = BATON.replace("Baton reviewer.", "project baton");
        write(
            &d.project().join(".baton/agents"),
            "reviewer.md",
            &project_baton,
        );
        let set = d.load();
        assert_eq!(set.get("reviewer").unwrap().description, "project baton");
    }

    #[test]
    fn broken_files_are_reported_and_skipped_while_others_load() {
        let d = Dirs::new();
        let dir = d.project().join(".baton/agents");
        let bad_yaml = write(&dir, "bad-yaml.md", "---\ndescription: [oops\n---\nP");
        let no_desc = write(&dir, "no-desc.md", "---\nmode: subagent\n---\nP");
        let no_front = write(&dir, "no-front.md", "# Just a note\n");
        let bad_name = write(
            &dir,
            "bad-name.md",
            "---\nname: two words\ndescription: d\n---\nP",
        );
        let bad_rule = write(
            &dir,
            "bad-rule.md",
            "---\ndescription: d\npermission:\n  bash: { 'ls [': allow }\n---\nP",
        );
        write(&dir, "good.md", BATON);
        let disabled = write(
            &d.project().join(".opencode/agent"),
            "off.md",
            "---\ndescription: d\ndisable: true\n---\nP",
        );

        let set = d.load();
        assert!(set.get("good").is_some());
        for name in [
            "bad-yaml", "no-desc", "no-front", "bad-name", "bad-rule", "off",
        ] {
            assert!(set.get(name).is_none(), "{name}");
        }
        let problem = |path: &Path| {
            set.problems()
                .iter()
                .find(|p| p.path == path)
                .unwrap_or_else(|| panic!("no problem for {}", path.display()))
        };
        for (path, expected) in [
            (&bad_yaml, "not valid YAML"),
            (&no_desc, "missing `description`"),
            (&no_front, "no front matter"),
            (&bad_name, "`two words`"),
            (&bad_rule, "`ls [`"),
            (&disabled, "disable: true"),
        ] {
            let p = problem(path);
            assert!(p.skipped, "{p}");
            assert!(p.message.contains(expected), "{p}");
        }
        assert_eq!(set.problems().len(), 6, "{:?}", set.problems());
        let shown = problem(&no_desc).to_string();
        assert!(shown.contains("no-desc.md: skipped: missing"), "{shown}");
    }

    #[test]
    fn warnings_are_recorded_and_the_agent_loads() {
        let d = Dirs::new();
        let claude = "---\nname: web\ndescription: d\ntools: Read, WebSearch\n\
                      hooks: {}\n---\nP";
        let path = write(&d.project().join(".claude/agents"), "web.md", claude);
        let set = d.load();
        let web = set.get("web").unwrap();
        assert_eq!(web.tools.as_deref(), Some(&["read".to_owned()][..]));
        let messages: Vec<&str> = set
            .problems()
            .iter()
            .inspect(|p| assert!(!p.skipped && p.path == path, "{p}"))
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("`WebSearch`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("unknown field `hooks`")),
            "{messages:?}"
        );
    }

    #[test]
    fn two_files_of_one_folder_with_one_name_warn_and_the_later_wins() {
        let d = Dirs::new();
        let dir = d.project().join(".claude/agents");
        write(&dir, "a.md", "---\nname: twin\ndescription: first\n---\nP");
        let second = write(&dir, "b.md", "---\nname: twin\ndescription: second\n---\nP");
        let set = d.load();
        assert_eq!(set.get("twin").unwrap().description, "second");
        let [problem] = set.problems() else {
            panic!("{:?}", set.problems());
        };
        assert!(!problem.skipped && problem.path == second, "{problem}");
        assert!(problem.message.contains("a.md"), "{problem}");
    }

    #[test]
    fn a_sub_agent_file_cannot_take_a_primary_agents_name() {
        let d = Dirs::new();
        let dir = d.project().join(".claude/agents");
        let path = write(
            &dir,
            "build.md",
            "---\nname: build\ndescription: builds\n---\nP",
        );
        let set = d.load();
        // `build` stays the built-in primary agent; the file is reported.
        let build = set.get("build").unwrap();
        assert!(build.is_primary() && build.source.path.is_none());
        let [problem] = set.problems() else {
            panic!("{:?}", set.problems());
        };
        assert!(problem.skipped && problem.path == path, "{problem}");
        assert!(problem.message.contains("rename"), "{problem}");
    }

    #[test]
    fn an_unreadable_folder_is_reported() {
        let d = Dirs::new();
        // A file where the folder should be.
        let path = write(&d.project().join(".baton"), "agents", "not a folder");
        write(&d.project().join(".claude/agents"), "ok.md", CLAUDE);
        let set = d.load();
        assert!(set.get("reviewer").is_some());
        let [problem] = set.problems() else {
            panic!("{:?}", set.problems());
        };
        assert!(problem.skipped && problem.path == path, "{problem}");
    }

    #[test]
    fn insert_replaces_by_name() {
        let mut set = AgentSet::builtin();
        let mut mine = set.get("general").unwrap().clone();
        mine.description = "custom".into();
        let old = set.insert(mine).unwrap();
        assert_ne!(old.description, "custom");
        assert_eq!(set.get("general").unwrap().description, "custom");
    }
}
