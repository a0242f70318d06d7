//! What changes around a session while it lives (its delegated tasks, the
//! date, the git status) is told by appending a message at the end of the
//! conversation, never by rewriting the system prompt or an earlier
//! message. Every model call then extends the previous one exactly, and
//! the provider's prompt cache holds.

use super::SessionActor;
use crate::error::EngineError;
use baton_protocol::{ContextTopic, Message, Part, Role};
use std::path::Path;

/// What the model is told when none of its delegated tasks is active.
const NO_TASKS: &str = "<running-tasks>\nNone of the tasks you delegated is running now.\n\
                        </running-tasks>";

impl SessionActor {
    /// Tells the model which of its delegated tasks have not ended, if that
    /// changed since it was last told (a session that never delegated is
    /// told nothing).
    pub(super) async fn restate_tasks(&mut self) -> Result<(), EngineError> {
        let lines = self.tasks.active_tasks_lines(&self.record.id);
        let text = tasks_text(&lines);
        let told = last_told(&self.history, ContextTopic::Tasks).unwrap_or(NO_TASKS);
        if told == text {
            return Ok(());
        }
        self.append_context(ContextTopic::Tasks, text).await
    }

    /// Tells the model the date and the git branch and status, if they
    /// changed since it was last told (or since the system prompt said
    /// them).
    pub(super) async fn restate_environment(&mut self) -> Result<(), EngineError> {
        let facts = crate::prompt::changing_facts(
            Path::new(&self.record.cwd),
            chrono::Local::now().date_naive(),
        );
        let told = last_told(&self.history, ContextTopic::Environment).unwrap_or(&self.system);
        if told.contains(&facts) {
            return Ok(());
        }
        let text = format!(
            "The environment changed since it was last described:\n<environment>\n{facts}\
             </environment>"
        );
        self.append_context(ContextTopic::Environment, text).await
    }

    /// Stores and announces a note from the engine to the model.
    pub(super) async fn append_context(
        &mut self,
        topic: ContextTopic,
        text: String,
    ) -> Result<(), EngineError> {
        let message = Message::new(
            self.record.id.clone(),
            Role::User,
            vec![Part::Context { topic, text }],
        );
        self.store_message(message).await
    }
}

/// The list of active tasks as the model reads it.
fn tasks_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return NO_TASKS.to_owned();
    }
    format!(
        "<running-tasks>\nThese tasks you delegated have not ended yet. Each one's result \
         arrives as a notice when it ends: do not poll them and do not redo their work.\n{}\n\
         </running-tasks>",
        lines.join("\n")
    )
}

/// The text of the latest context part on `topic`, if any (since the last
/// compaction: what came before it is no longer what the model reads).
fn last_told(history: &[Message], topic: ContextTopic) -> Option<&str> {
    for message in history.iter().rev() {
        for part in message.parts.iter().rev() {
            match part {
                Part::Context { topic: t, text } if *t == topic => return Some(text),
                Part::Compaction(_) => return None,
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::SessionId;

    fn context(topic: ContextTopic, text: &str) -> Message {
        Message::new(
            SessionId::from("s"),
            Role::User,
            vec![Part::Context {
                topic,
                text: text.into(),
            }],
        )
    }

    #[test]
    fn the_latest_note_on_a_topic_is_what_was_told() {
        let history = vec![
            context(ContextTopic::Tasks, "one"),
            context(ContextTopic::Environment, "env"),
            context(ContextTopic::Tasks, "two"),
        ];
        assert_eq!(last_told(&history, ContextTopic::Tasks), Some("two"));
        assert_eq!(last_told(&history, ContextTopic::Environment), Some("env"));
        assert_eq!(last_told(&history, ContextTopic::Note), None);
    }

    #[test]
    fn an_empty_list_reads_as_none_running() {
        assert_eq!(tasks_text(&[]), NO_TASKS);
        let text = tasks_text(&["- t1 \"x\" (general, running)".into()]);
        assert!(text.contains("t1"), "{text}");
        assert!(text.contains("do not poll"), "{text}");
    }
}
