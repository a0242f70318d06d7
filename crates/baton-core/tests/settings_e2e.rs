//! Changing a session's model and title: the next model call goes to the
//! new model (never the one already streaming), bad changes change
//! nothing, the change is announced and survives a restart; and the
//! agents and models a front end offers to choose from.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baton_core::{AgentSet, AskMode, Config, Engine, EngineError, EngineOptions};
use baton_llm::{ModelInfo, ProviderConfig, Wire};
use baton_protocol::api::{ModelView, UpdateSession};
use baton_protocol::{Event, EventKind, Role, SessionId};
use common::*;

/// Each model says who it is.
const WHO_ANSWERS: &str = r#"
[[rules]]
name = "on-m2"
[rules.when]
model = "^m2$"
[rules.reply]
text = "answered by m2"

[[rules]]
name = "on-m"
[rules.when]
model = "^m$"
[rules.reply]
text = "answered by m"
"#;

fn with_big_alias(c: &mut Config) {
    c.aliases.insert("big".into(), "mock/m2".into());
}

fn model_change(model: &str) -> UpdateSession {
    UpdateSession {
        model: Some(model.into()),
        title: None,
        agent: None,
    }
}

fn title_change(title: &str) -> UpdateSession {
    UpdateSession {
        model: None,
        title: Some(title.into()),
        agent: None,
    }
}

fn updates(seen: &[Event], session: &SessionId) -> Vec<(String, Option<String>)> {
    seen.iter()
        .filter(|e| e.session_id == *session)
        .filter_map(|e| match &e.kind {
            EventKind::SessionUpdated { model, title, .. } => Some((model.clone(), title.clone())),
            _ => None,
        })
        .collect()
}

/// The `model` field of every request the mock received, in order.
fn requested_models(h: &Harness) -> Vec<String> {
    h.mock
        .requests()
        .iter()
        .map(|r| r.body["model"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_turn_goes_to_the_new_model_and_the_change_survives_a_restart() {
    let h = harness(WHO_ANSWERS, with_big_alias).await;
    let mut f = Follower::new(&h.engine);
    let id = h.session().await;

    // A title chosen before the first message is not replaced by one made
    // up from it.
    let titled = h
        .engine
        .update_session(&id, title_change("  Chosen  "))
        .await
        .unwrap();
    assert_eq!(
        (titled.title.as_str(), titled.model.as_str()),
        ("Chosen", "mock/m")
    );
    h.engine.send_message(&id, "one").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    assert_eq!(h.last_text(&id).await, "answered by m");
    assert_eq!(h.engine.session(&id).await.unwrap().title, "Chosen");

    // Through an alias, like a new session's model.
    let moved = h
        .engine
        .update_session(&id, model_change("big"))
        .await
        .unwrap();
    assert_eq!(moved.model, "mock/m2");
    assert_eq!(moved.provider, "mock");
    assert_eq!(moved.title, "Chosen");
    assert_eq!(h.engine.session(&id).await.unwrap(), moved);
    h.engine.send_message(&id, "two").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    assert_eq!(h.last_text(&id).await, "answered by m2");
    assert_eq!(requested_models(&h), ["m", "m2"]);

    f.drain();
    assert_eq!(
        updates(&f.seen, &id),
        [
            ("mock/m".to_owned(), Some("Chosen".to_owned())),
            ("mock/m2".to_owned(), Some("Chosen".to_owned())),
        ]
    );
    let steps: Vec<&str> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepStarted { model, .. } => Some(model.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["mock/m", "mock/m2"]);
    let answered_by: Vec<Option<String>> = h
        .store
        .messages(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| m.model)
        .collect();
    assert_eq!(
        answered_by,
        [Some("mock/m".to_owned()), Some("mock/m2".to_owned())]
    );
    h.engine.shutdown().await;

    // A new engine on the same store opens the session on the new model.
    let mut config = Config::single_openai_provider("mock", h.mock.openai_base_url(), "m");
    with_big_alias(&mut config);
    let reopened = Engine::new(EngineOptions {
        home: h.home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: AgentSet::builtin(),
        ask_mode: AskMode::Wait,
    })
    .await
    .unwrap();
    let view = reopened.session(&id).await.unwrap();
    assert_eq!(
        (view.model.as_str(), view.title.as_str()),
        ("mock/m2", "Chosen")
    );
    reopened.open_session(&id).await.unwrap();
    reopened.send_message(&id, "three").await.unwrap();
    reopened.wait_quiet(&id).await.unwrap();
    assert_eq!(requested_models(&h), ["m", "m2", "m2"]);
    assert_eq!(h.last_text(&id).await, "answered by m2");
    reopened.shutdown().await;
}

/// The first call streams its text slowly, then runs a command that
/// waits for the file `gate`; the second call must be made to `m2`.
const SLOW_FIRST_STEP: &str = r#"
[[rules]]
name = "second-step"
[rules.when]
model = "^m2$"
last_tool_result = "released"
[rules.reply]
text = "finished on m2"

[[rules]]
name = "first-step"
[rules.when]
model = "^m$"
last_user = "^go$"
[rules.reply]
text = "working on it, slowly, very slowly"
text_chunk_chars = 1
chunk_delay_ms = 80
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_mid_turn_applies_at_the_next_step_not_to_the_call_streaming() {
    let h = harness(SLOW_FIRST_STEP, |_| {}).await;
    let mut f = Follower::new(&h.engine);
    let id = h.session().await;
    h.engine.send_message(&id, "go").await.unwrap();
    f.until("the first text", |e| {
        matches!(e.kind, EventKind::TextDelta { .. })
    })
    .await;
    let changed = h
        .engine
        .update_session(&id, model_change("mock/m2"))
        .await
        .unwrap();
    assert_eq!(changed.model, "mock/m2");
    f.until("the command", |e| is_type(e, "tool.started")).await;
    h.touch("gate");
    h.engine.wait_quiet(&id).await.unwrap();
    f.drain();

    // The call that was streaming finished on `m`, and was stored as
    // answered by it; the next one went to `m2`.
    assert_eq!(requested_models(&h), ["m", "m2"]);
    let rules: Vec<Option<String>> = h
        .mock
        .requests()
        .into_iter()
        .map(|r| r.matched_rule)
        .collect();
    assert_eq!(
        rules,
        [
            Some("first-step".to_owned()),
            Some("second-step".to_owned())
        ]
    );
    let assistant: Vec<(u64, String)> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessageCompleted {
                role: Role::Assistant,
                text,
                ..
            } => Some((e.seq, text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(assistant.len(), 2, "{assistant:?}");
    assert_eq!(assistant[1].1, "finished on m2");
    let updated = f
        .seen
        .iter()
        .find(|e| is_type(e, "session.updated"))
        .unwrap();
    assert!(
        updated.seq < assistant[0].0,
        "the change was made while the first call was still streaming"
    );
    let answered_by: Vec<Option<String>> = h
        .store
        .messages(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| m.model)
        .collect();
    assert_eq!(
        answered_by,
        [Some("mock/m".to_owned()), Some("mock/m2".to_owned())]
    );
    let steps: Vec<(u32, String)> = f
        .seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StepStarted { step, model } => Some((*step, model.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [(1, "mock/m".to_owned()), (2, "mock/m2".to_owned())]);
    let turns = f.of(|e| is_type(e, "turn.completed"));
    assert_eq!(turns.len(), 1, "one turn, two models");
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_changes_are_refused_and_change_nothing() {
    let h = harness(WHO_ANSWERS, with_big_alias).await;
    let id = h.session().await;
    h.engine.send_message(&id, "hello").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    let view = h.engine.session(&id).await.unwrap();
    let record = h.store.get_session(&id).await.unwrap().unwrap();
    let mut f = Follower::new(&h.engine);
    let last_seq = h.engine.last_seq();

    let refused = [
        model_change("nowhere/x"),
        model_change("no-provider-part"),
        model_change("unknown-alias"),
        model_change("  "),
        title_change(""),
        title_change(" \n\t "),
        UpdateSession::default(),
        // A good model with a bad title: nothing at all changes.
        UpdateSession {
            model: Some("big".into()),
            title: Some(" ".into()),
            agent: None,
        },
    ];
    for change in refused {
        let err = h
            .engine
            .update_session(&id, change.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, EngineError::Invalid(_)),
            "{change:?}: {err:?}"
        );
        assert!(!err.to_string().is_empty());
    }
    let unknown = h
        .engine
        .update_session(&SessionId::from("ses_nobody"), model_change("big"))
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, EngineError::UnknownSession(_)),
        "{unknown:?}"
    );

    assert_eq!(h.engine.session(&id).await.unwrap(), view);
    assert_eq!(h.store.get_session(&id).await.unwrap().unwrap(), record);
    assert_eq!(h.engine.last_seq(), last_seq, "no event at all");
    f.drain();
    assert!(f.seen.is_empty(), "{:?}", f.seen);

    // The session still answers on its model.
    h.engine.send_message(&id, "again").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    assert_eq!(requested_models(&h), ["m", "m"]);
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_not_live_takes_the_change_when_it_is_opened() {
    let h = harness(WHO_ANSWERS, with_big_alias).await;
    let id = h.session().await;
    h.engine.send_message(&id, "one").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();
    h.engine.shutdown().await;

    let mut config = Config::single_openai_provider("mock", h.mock.openai_base_url(), "m");
    with_big_alias(&mut config);
    let engine = Engine::new(EngineOptions {
        home: h.home.path().to_path_buf(),
        config,
        env: Box::new(|_| None),
        store: None,
        agents: AgentSet::builtin(),
        ask_mode: AskMode::Wait,
    })
    .await
    .unwrap();
    let mut f = Follower::new(&engine);
    let view = engine
        .update_session(&id, model_change("big"))
        .await
        .unwrap();
    assert_eq!(
        (view.model.as_str(), view.title.as_str()),
        ("mock/m2", "one")
    );
    f.until("session.updated", |e| is_type(e, "session.updated"))
        .await;
    assert_eq!(
        updates(&f.seen, &id),
        [("mock/m2".to_owned(), Some("one".to_owned()))]
    );
    engine.open_session(&id).await.unwrap();
    engine.send_message(&id, "two").await.unwrap();
    engine.wait_quiet(&id).await.unwrap();
    assert_eq!(requested_models(&h), ["m", "m2"]);
    engine.shutdown().await;
}

const PICKY_AGENT: &str = "---
description: Reviews code on a fast model.
mode: subagent
model: fast
---
You review code.
";

const STRAY_AGENT: &str = "---
description: Names a model nobody defined.
model: nonsense
---
You stray.
";

fn info(context_window: u64) -> ModelInfo {
    ModelInfo {
        context_window,
        max_output_tokens: None,
        input_per_mtok: Some(1.0),
        output_per_mtok: Some(2.0),
        cache_read_per_mtok: None,
        cache_write_per_mtok: None,
        images: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogs_models_are_listed_for_configured_providers_only() {
    let h = harness(WHO_ANSWERS, |c| {
        // Configured by its table; `openai` exists too, but nobody set it up.
        c.providers.insert(
            "anthropic".into(),
            ProviderConfig {
                base_url: Some("http://127.0.0.1:9".into()),
                ..ProviderConfig::default()
            },
        );
        c.aliases
            .insert("fast".into(), "anthropic/claude-haiku-4-5".into());
    })
    .await;
    let models = h.engine.models();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids[0], "mock/m", "the default first");
    assert!(models[0].is_default && models[1..].iter().all(|m| !m.is_default));
    let mut rest = ids[1..].to_vec();
    rest.sort_unstable();
    rest.dedup();
    assert_eq!(rest, ids[1..], "the others sorted by id, each once");
    for id in [
        "anthropic/claude-sonnet-4",
        "anthropic/claude-opus-4-5",
        "anthropic/claude-haiku-4-5",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(
        !ids.iter().any(|id| id.starts_with("openai/")),
        "openai is not configured: {ids:?}"
    );
    let haiku = models
        .iter()
        .find(|m| m.id == "anthropic/claude-haiku-4-5")
        .unwrap();
    assert_eq!(haiku.aliases, ["fast"], "an alias's target is listed once");
    assert_eq!(haiku.context_window, Some(200_000));
    h.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_models_are_listed_for_front_ends_to_offer() {
    let h = harness_with(
        WHO_ANSWERS,
        |c| {
            c.providers.insert(
                "an".into(),
                ProviderConfig {
                    wire: Some(Wire::Anthropic),
                    base_url: Some("http://127.0.0.1:9".into()),
                    ..ProviderConfig::default()
                },
            );
            c.aliases.insert("big".into(), "mock/m2".into());
            c.aliases.insert("also-big".into(), " mock/m2 ".into());
            c.aliases
                .insert("fast".into(), "an/claude-haiku-4-5".into());
            c.aliases.insert("gone".into(), "nowhere/x".into());
            c.aliases.insert("self".into(), "mock/m".into());
            c.models.insert("an/custom".into(), info(1234));
            c.models.insert("nowhere/y".into(), info(1));
            c.models.insert("bare-name".into(), info(2));
            c.models.insert("mock/a-first".into(), info(3));
        },
        |e| {
            e.agent_files
                .push((".baton/agents/picky.md".into(), PICKY_AGENT.into()));
            e.agent_files
                .push((".baton/agents/stray.md".into(), STRAY_AGENT.into()));
        },
    )
    .await;

    let view = |id: &str, default: bool, aliases: &[&str], window: Option<u64>| {
        let (provider, model) = id.split_once('/').unwrap();
        ModelView {
            id: id.into(),
            provider: provider.into(),
            model: model.into(),
            is_default: default,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            context_window: window,
        }
    };
    // The default first, then by id; providers nobody configured left
    // out; each model once, with every alias naming it.
    assert_eq!(
        h.engine.models(),
        [
            view("mock/m", true, &["self"], None),
            view("an/claude-haiku-4-5", false, &["fast"], Some(200_000)),
            view("an/custom", false, &[], Some(1234)),
            view("mock/a-first", false, &[], Some(3)),
            view("mock/m2", false, &["also-big", "big"], None),
        ]
    );

    let agents = h.engine.agent_views();
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "sorted by name");
    for builtin in ["build", "plan", "general", "explore"] {
        assert!(names.contains(&builtin), "{names:?}");
    }
    let build = agents.iter().find(|a| a.name == "build").unwrap();
    assert_eq!(
        (
            build.mode.as_str(),
            build.model.as_deref(),
            build.source.as_str()
        ),
        ("primary", None, "built-in")
    );
    assert!(!build.description.is_empty());
    let picky = agents.iter().find(|a| a.name == "picky").unwrap();
    assert_eq!(picky.mode, "subagent");
    assert_eq!(picky.description, "Reviews code on a fast model.");
    assert_eq!(picky.model.as_deref(), Some("an/claude-haiku-4-5"));
    assert_eq!(
        std::path::PathBuf::from(&picky.source),
        h.path(".baton/agents/picky.md")
    );
    let stray = agents.iter().find(|a| a.name == "stray").unwrap();
    assert_eq!(stray.model, None, "an undefined alias inherits");
    assert_eq!(stray.mode, "all");
    h.engine.shutdown().await;
}

/// Answers "ok", except that "wait" runs a command that waits for the
/// file `gate`.
const AGENT_SWITCH: &str = r#"
[[rules]]
name = "waits"
[rules.when]
last_user = "^wait$"
[rules.reply]
tool_calls = [{ name = "bash", arguments = { command = "while [ ! -f gate ]; do sleep 0.01; done; echo released" } }]

[[rules]]
name = "ok"
[rules.reply]
text = "ok"
"#;

const LEAD_AGENT: &str = "---
description: Leads the work on the big model.
mode: primary
model: mock/m2
---
You lead the work.
";

fn agent_change(agent: &str) -> UpdateSession {
    UpdateSession {
        agent: Some(agent.into()),
        ..UpdateSession::default()
    }
}

/// What each request told the model: its system prompt and tool names.
fn prefixes(h: &Harness) -> Vec<(String, Vec<String>)> {
    h.mock
        .requests()
        .iter()
        .map(|r| {
            let system = r.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_owned();
            let tools = r.body["tools"]
                .as_array()
                .map(|tools| {
                    tools
                        .iter()
                        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (system, tools)
        })
        .collect()
}

fn agent_updates(seen: &[Event], session: &SessionId) -> Vec<(String, String)> {
    seen.iter()
        .filter(|e| e.session_id == *session)
        .filter_map(|e| match &e.kind {
            EventKind::SessionUpdated { agent, model, .. } => Some((agent.clone(), model.clone())),
            _ => None,
        })
        .collect()
}

async fn lead_harness() -> Harness {
    harness_with(
        AGENT_SWITCH,
        |_| {},
        |x| {
            x.agent_files
                .push((".baton/agents/lead.md".into(), LEAD_AGENT.into()));
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_agent_applies_from_the_next_turn_with_its_prompt_tools_and_model() {
    let h = lead_harness().await;
    let mut f = Follower::new(&h.engine);
    let id = h.session().await;
    h.engine.send_message(&id, "one").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();

    let planning = h
        .engine
        .update_session(&id, agent_change("plan"))
        .await
        .unwrap();
    assert_eq!(
        (planning.agent.as_str(), planning.model.as_str()),
        ("plan", "mock/m"),
        "plan has no model of its own: the session keeps its own"
    );
    h.engine.send_message(&id, "two").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();

    let leading = h
        .engine
        .update_session(&id, agent_change("lead"))
        .await
        .unwrap();
    assert_eq!(
        (leading.agent.as_str(), leading.model.as_str()),
        ("lead", "mock/m2"),
        "an agent with a model brings it"
    );
    h.engine.send_message(&id, "three").await.unwrap();
    h.engine.wait_quiet(&id).await.unwrap();

    let seen = prefixes(&h);
    assert_eq!(seen.len(), 3);
    assert!(
        seen[0].0.contains("you read, change and run"),
        "{}",
        seen[0].0
    );
    assert!(seen[0].1.iter().any(|t| t == "bash"), "{:?}", seen[0].1);
    assert!(seen[1].0.contains("plan mode"), "{}", seen[1].0);
    for tool in ["bash", "write", "edit"] {
        assert!(
            !seen[1].1.iter().any(|t| t == tool),
            "{tool}: {:?}",
            seen[1].1
        );
    }
    assert!(seen[1].1.iter().any(|t| t == "read"), "{:?}", seen[1].1);
    assert!(seen[2].0.contains("You lead the work."), "{}", seen[2].0);
    assert_eq!(requested_models(&h), ["m", "m", "m2"]);
    // The conversation goes on across agents.
    let last = h.mock.requests().pop().unwrap();
    let said: Vec<String> = last.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"].as_str().map(str::to_owned))
        .collect();
    for word in ["one", "two", "three"] {
        assert!(said.iter().any(|s| s.contains(word)), "{word}: {said:?}");
    }
    f.drain();
    assert_eq!(
        agent_updates(&f.seen, &id),
        [
            ("plan".to_owned(), "mock/m".to_owned()),
            ("lead".to_owned(), "mock/m2".to_owned()),
        ]
    );
    h.engine.shutdown().await;

    // After a restart the session runs the agent it was switched to, with
    // that agent's prompt.
    let agents = AgentSet::load(&baton_core::AgentDirs {
        user_config: None,
        home: None,
        project: h.project.path().to_path_buf(),
    });
    let reopened = Engine::new(EngineOptions {
        home: h.home.path().to_path_buf(),
        config: Config::single_openai_provider("mock", h.mock.openai_base_url(), "m"),
        env: Box::new(|_| None),
        store: None,
        agents,
        ask_mode: AskMode::Wait,
    })
    .await
    .unwrap();
    assert_eq!(reopened.session(&id).await.unwrap().agent, "lead");
    reopened.send_message(&id, "four").await.unwrap();
    reopened.wait_quiet(&id).await.unwrap();
    let seen = prefixes(&h);
    assert_eq!(
        seen[3], seen[2],
        "the same prompt and tools as before the restart"
    );
    reopened.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_change_is_refused_while_work_is_under_way_and_for_tasks() {
    let h = lead_harness().await;
    let id = h.session().await;
    let mut f = Follower::new(&h.engine);
    h.engine.send_message(&id, "wait").await.unwrap();
    f.until("the command", |e| is_type(e, "tool.started")).await;
    let before = h.store.get_session(&id).await.unwrap().unwrap();
    let busy = h
        .engine
        .update_session(&id, agent_change("plan"))
        .await
        .unwrap_err();
    assert!(matches!(busy, EngineError::Busy(_)), "{busy:?}");
    assert!(busy.to_string().contains("working"), "{busy}");
    for bad in ["explore", "nobody"] {
        let err = h
            .engine
            .update_session(&id, agent_change(bad))
            .await
            .unwrap_err();
        assert!(matches!(err, EngineError::Invalid(_)), "{bad}: {err:?}");
    }
    assert_eq!(h.store.get_session(&id).await.unwrap().unwrap(), before);
    h.touch("gate");
    h.engine.wait_quiet(&id).await.unwrap();
    f.drain();
    assert!(agent_updates(&f.seen, &id).is_empty(), "{:?}", f.seen);

    // Idle now: the same change is taken.
    let view = h
        .engine
        .update_session(&id, agent_change("plan"))
        .await
        .unwrap();
    assert_eq!(view.agent, "plan");
    // Naming the agent it runs changes nothing but is no error.
    let same = h
        .engine
        .update_session(&id, agent_change("plan"))
        .await
        .unwrap();
    assert_eq!(same.agent, "plan");

    // A task's session keeps the agent its `task` call chose.
    let mut child = h.store.get_session(&id).await.unwrap().unwrap();
    child.id = SessionId::from("ses_child");
    child.parent_id = Some(id.clone());
    child.agent = "general".into();
    h.store.create_session(&child).await.unwrap();
    let err = h
        .engine
        .update_session(&child.id, agent_change("build"))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("task"), "{err}");
    assert_eq!(
        h.store.get_session(&child.id).await.unwrap().unwrap().agent,
        "general"
    );
    h.engine.shutdown().await;
}
