//! Compaction in a session: before a request would fill too much of the
//! model's context window (or after the provider said it was too long, or
//! when someone asks), the older part of the conversation is summarized by
//! a model and replaced, in what the model is sent, by that summary; the
//! latest turns stay verbatim. The summary is stored as a message (so a
//! reload shows it and the model view is rebuilt from it) and announced.

use super::SessionActor;
use crate::compaction::{self, CHARS_PER_TOKEN};
use baton_llm::{ChatRequest, ModelRef, Provider, StreamEvent, stream_with_retry};
use baton_protocol::{Compaction, EventKind, Message, Part, Role, Usage};
use baton_tools::TodoStatus;
use futures::StreamExt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the summarizing model is told.
const SUMMARIZER: &str = "You summarize the earlier part of a coding agent's conversation so \
that the agent can go on without it. Write a dense summary in Markdown: the person's requests \
and preferences (their own words where they matter), decisions made and why, what was done \
(files changed, commands run and what they showed), facts found (names, numbers, paths, \
identifiers, error messages: copy them exactly), and what was still to do. Leave out \
pleasantries and anything superseded. Write only the summary.";

/// The most tokens a summary may take, for a model of `window` tokens: a
/// tenth of it, between 256 and 4096.
fn summary_tokens(window: u64) -> u64 {
    (window / 10).clamp(256, 4_096)
}

/// Why a compaction ran, as events and the stored part name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The window was filling up.
    Auto,
    /// Someone asked (`/compact`, the API).
    Manual,
    /// The provider refused the request as too long.
    Overflow,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
            Self::Overflow => "overflow",
        }
    }
}

/// The model a summary is asked of.
struct Summarizer {
    model: ModelRef,
    provider: Arc<dyn Provider>,
    window: u64,
    info: Option<baton_llm::ModelInfo>,
}

impl SessionActor {
    /// The model's context window, when the catalog knows it.
    fn window(&self) -> Option<u64> {
        self.model_info.as_ref().map(|i| i.context_window)
    }

    /// The room kept for the answer.
    fn output_reserve(&self) -> u64 {
        let configured = u64::from(self.services.config.agent.max_output_tokens);
        self.model_info
            .as_ref()
            .and_then(|i| i.max_output_tokens)
            .map_or(configured, |m| m.min(configured))
    }

    /// Estimated tokens of the next request, the answer's room included.
    fn next_request_tokens(&self) -> u64 {
        compaction::request_tokens(self.prefix_tokens, &self.history) + self.output_reserve()
    }

    /// Compacts if the next request would pass `[context] compact_at` of
    /// the window (nothing happens for models of unknown window).
    pub(super) async fn compact_if_needed(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(), String> {
        let Some(window) = self.window() else {
            return Ok(());
        };
        let limit = (window as f64 * self.services.config.context.compact_at) as u64;
        if self.next_request_tokens() <= limit {
            return Ok(());
        }
        self.compact(Trigger::Auto, cancel).await.map(|_| ())
    }

    /// Summarizes the older part of the conversation; returns whether
    /// anything was compacted (a conversation of one turn has nothing
    /// older to summarize).
    pub(crate) async fn compact(
        &mut self,
        trigger: Trigger,
        cancel: &CancellationToken,
    ) -> Result<bool, String> {
        let before = self.next_request_tokens();
        let window = self.window().unwrap_or(before.max(1) * 2);
        // Reported without the room kept for the answer.
        let size = before.saturating_sub(self.output_reserve());
        let limit = (window as f64 * self.services.config.context.compact_at) as u64;
        let room = limit
            .saturating_sub(self.prefix_tokens + self.output_reserve() + summary_tokens(window));
        let share = (window as f64 * self.services.config.context.keep_recent) as u64;
        let keep = share.min(room);
        let Some(split) = compaction::split_point(&self.history, keep) else {
            return Ok(false);
        };
        self.services.emit(
            &self.record.id,
            EventKind::ContextCompacting {
                trigger: trigger.as_str().to_owned(),
                tokens: size,
            },
        );
        self.control.set_doing("compacting the conversation");
        let summarizer = self.summarizer()?;
        let transcript = compaction::transcript(&self.history[..split]);
        let summary = self.summarize(&summarizer, &transcript, cancel).await?;
        let mut text = summary.trim().to_owned();
        text.push_str(&self.open_work());
        let first_kept = self.history.get(split).map(|m| m.id.clone());
        let kept: Vec<Message> = self.history[split..].to_vec();
        let summarized = self.history[..split]
            .iter()
            // An earlier summary counts the messages it stood for.
            .map(|m| {
                m.parts
                    .iter()
                    .find_map(|p| match p {
                        Part::Compaction(c) => Some(c.summarized),
                        _ => None,
                    })
                    .unwrap_or(1)
            })
            .sum();
        let mut record = Compaction {
            summary: text,
            first_kept,
            summarized,
            tokens_before: size,
            tokens_after: 0,
            trigger: trigger.as_str().to_owned(),
        };
        let mut message = Message::new(
            self.record.id.clone(),
            Role::User,
            vec![Part::Compaction(record.clone())],
        );
        let removed: u64 = self.history[..split]
            .iter()
            .map(compaction::message_tokens)
            .sum();
        record.tokens_after = size.saturating_sub(removed) + compaction::message_tokens(&message);
        message.parts = vec![Part::Compaction(record.clone())];
        self.services
            .store
            .append_message(&message)
            .await
            .map_err(|e| format!("could not store the compaction: {e}"))?;
        let id = message.id.clone();
        self.history = Arc::new(std::iter::once(message).chain(kept).collect());
        self.services.emit(
            &self.record.id,
            EventKind::ContextCompacted {
                message_id: id,
                trigger: record.trigger,
                summarized: record.summarized,
                tokens_before: record.tokens_before,
                tokens_after: record.tokens_after,
            },
        );
        Ok(true)
    }

    /// The configured summarizing model, or the session's own.
    fn summarizer(&self) -> Result<Summarizer, String> {
        let own = || Summarizer {
            model: self.model.clone(),
            provider: self.provider.clone(),
            window: self.window().unwrap_or(u64::MAX / 4),
            info: self.model_info.clone(),
        };
        let Some(spec) = &self.services.config.context.compact_model else {
            return Ok(own());
        };
        let model = self
            .services
            .check_model(spec)
            .map_err(|e| format!("[context] compact_model: {e}"))?;
        let provider = self
            .services
            .providers
            .get(&model.provider)
            .ok_or_else(|| {
                format!(
                    "[context] compact_model: provider `{}` is not configured",
                    model.provider
                )
            })?;
        let info = self.services.catalog.lookup(&model).cloned();
        Ok(Summarizer {
            window: info.as_ref().map_or(u64::MAX / 4, |i| i.context_window),
            model,
            provider,
            info,
        })
    }

    /// A rolling summary of `transcript`: pieces that fit the summarizer's
    /// window, each summarized together with the summary so far.
    async fn summarize(
        &self,
        summarizer: &Summarizer,
        transcript: &str,
        cancel: &CancellationToken,
    ) -> Result<String, String> {
        let usable = (summarizer.window as f64 * 0.6) as u64;
        let reserve = summary_tokens(summarizer.window);
        let budget = usable.saturating_sub(2 * reserve + 512).max(512);
        let max_chars = (budget as f64 * CHARS_PER_TOKEN) as usize;
        let mut summary = String::new();
        for piece in compaction::chunks(transcript, max_chars) {
            let mut ask = String::new();
            if !summary.is_empty() {
                ask.push_str(&format!(
                    "The summary of the conversation before this part:\n<summary>\n{summary}\n\
                     </summary>\n\nWrite one summary covering both.\n\n"
                ));
            }
            ask.push_str(&format!(
                "<conversation>\n{piece}</conversation>\n\nSummarize the conversation above."
            ));
            summary = self.summary_call(summarizer, ask, cancel).await?;
        }
        if summary.trim().is_empty() {
            return Err("the model wrote an empty summary".into());
        }
        Ok(summary)
    }

    async fn summary_call(
        &self,
        summarizer: &Summarizer,
        ask: String,
        cancel: &CancellationToken,
    ) -> Result<String, String> {
        let request = ChatRequest {
            model: summarizer.model.model.clone(),
            system: SUMMARIZER.into(),
            messages: Arc::new(vec![Message::new(
                self.record.id.clone(),
                Role::User,
                vec![Part::Text { text: ask }],
            )]),
            tools: Vec::new(),
            max_tokens: u32::try_from(summary_tokens(summarizer.window)).unwrap_or(4_096),
            temperature: None,
            reasoning: None,
            images: false,
        };
        let policy = self.services.config.retry.policy();
        let mut stream =
            stream_with_retry(summarizer.provider.clone(), request, policy, cancel.clone());
        let mut text = String::new();
        let mut usage = Usage::default();
        while let Some(item) = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err("cancelled".into()),
            item = stream.next() => item,
        } {
            match item {
                Ok(StreamEvent::TextDelta(delta)) => text.push_str(&delta),
                Ok(StreamEvent::Usage(u)) => usage = u,
                Ok(StreamEvent::Retrying { .. }) => {
                    text.clear();
                    usage = Usage::default();
                }
                Ok(_) => {}
                Err(e) => return Err(format!("could not compact the conversation: {e}")),
            }
        }
        if let Some(info) = &summarizer.info {
            usage.cost_usd = info.cost(&usage);
        }
        // What summarizing cost counts toward the session.
        if let Err(e) = self.services.store.add_usage(&self.record.id, &usage).await {
            tracing::warn!("could not store the summary's usage: {e}");
        }
        Ok(text)
    }

    /// What is still open, restated after the summary: tasks (with their
    /// claimed files) and the todo list.
    fn open_work(&self) -> String {
        let mut out = String::new();
        let tasks = self.tasks.active_tasks_lines(&self.record.id);
        if !tasks.is_empty() {
            out.push_str("\n\nDelegated tasks still running (each result arrives as a notice):\n");
            out.push_str(&tasks.join("\n"));
        }
        let todos = self.todos.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let open: Vec<String> = todos
            .iter()
            .filter(|t| t.status != TodoStatus::Completed)
            .map(|t| {
                let mark = if t.status == TodoStatus::InProgress {
                    "in progress"
                } else {
                    "pending"
                };
                format!("- [{mark}] {}", t.content)
            })
            .collect();
        if !open.is_empty() {
            out.push_str("\n\nThe todo list's open items:\n");
            out.push_str(&open.join("\n"));
        }
        out
    }
}
