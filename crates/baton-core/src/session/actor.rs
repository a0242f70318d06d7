//! The actor's run loop: take what arrived in the mailbox, run a turn
//! when there is something to answer, and keep the stored conversation
//! and the announced one the same.

use super::{Inbound, SessionActor, WorkGuard};
use crate::error::EngineError;
use baton_protocol::{EventKind, Message, Part, Role, SessionStatus};
use baton_store::{InputRecord, NoticeRecord};
use std::sync::Arc;

impl SessionActor {
    pub(super) async fn run(mut self) {
        self.start_hooks().await;
        let stop = self.control.stop.clone();
        loop {
            let first = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                item = self.inbox.recv() => item,
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            while let Ok(more) = self.inbox.try_recv() {
                batch.push(more);
            }
            // Every item's unit of work ends after `session.idle` is out.
            let mut work: Vec<WorkGuard> = Vec::with_capacity(batch.len());
            let mut live = Vec::new();
            let mut notices = Vec::new();
            for item in batch {
                match item {
                    Inbound::Message {
                        number,
                        input,
                        work: unit,
                    } => {
                        work.push(unit);
                        if self.control.is_cancelled(number) {
                            // An interrupt withdrew it (taking it writes
                            // nothing, and it was handed back). Only if
                            // withdrawing failed is it still queued: then
                            // it is kept, so nothing the person typed is
                            // lost, but not answered.
                            if let Err(e) = self.take_input(input).await {
                                self.report_error(&format!("could not store a message: {e}"));
                            }
                        } else {
                            live.push((number, input));
                        }
                    }
                    Inbound::Notice { notice, work: unit } => {
                        work.push(unit);
                        notices.push(notice);
                    }
                    Inbound::Compact { work: unit } => {
                        work.push(unit);
                        self.compact_asked = true;
                    }
                }
            }
            if self.compact_asked && live.is_empty() {
                // Asked while idle: compacted now, before notices that
                // wake nobody are added.
                self.compact_now().await;
            }
            if !live.is_empty() || (!notices.is_empty() && !self.control.held()) {
                self.run_turn(live, notices, &mut work).await;
            } else if !notices.is_empty() {
                // Cancelled: the notices join the conversation for the next
                // turn, but wake nobody.
                if let Err(e) = self.deliver_notices(notices).await {
                    self.report_error(&format!("could not deliver notices: {e}"));
                }
            }
            // Announced before the count drops, so whoever waits for quiet
            // finds this event already sent.
            self.services
                .emit(&self.record.id, EventKind::SessionIdle {});
            drop(work);
        }
        self.services.files.forget_session(self.record.id.as_str());
        if let Err(e) = self.services.store.set_owner(&self.record.id, None).await {
            tracing::warn!("could not release session ownership: {e}");
        }
    }

    /// Runs a compaction someone asked for, outside a turn.
    async fn compact_now(&mut self) {
        self.compact_asked = false;
        let cancel = self.control.new_turn_token(0);
        match self.compact(super::compact::Trigger::Manual, &cancel).await {
            Ok(true) => {}
            Ok(false) => self.report_error(
                "nothing to compact: the conversation has no earlier part to summarize yet",
            ),
            Err(e) => self.report_error(&e),
        }
        self.control.set_doing("idle");
    }

    /// Takes a stored, queued message into the conversation (exactly once:
    /// one already taken, e.g. by a process that crashed after taking it,
    /// or withdrawn by an interrupt, is skipped). Returns whether it was
    /// taken now.
    pub(crate) async fn take_input(&mut self, input: InputRecord) -> Result<bool, EngineError> {
        let mut message = Message::new(
            self.record.id.clone(),
            Role::User,
            vec![Part::Text { text: input.text }],
        );
        message.id = input.id;
        if !self.services.store.take_input(&message).await? {
            return Ok(false);
        }
        if self.record.title.is_empty() {
            let title = crate::conversation::title_from(&message.text());
            // A title someone chose meanwhile stays; the actor reads it at
            // its next step boundary.
            if self
                .services
                .store
                .set_title_if_empty(&self.record.id, &title)
                .await?
            {
                self.record.title = title;
            }
        }
        self.announce(&message);
        Arc::make_mut(&mut self.history).push(message);
        Ok(true)
    }

    /// Delivers notices: one message carrying all that were not delivered
    /// yet, stored together with their delivery marks, then announced.
    pub(crate) async fn deliver_notices(
        &mut self,
        notices: Vec<NoticeRecord>,
    ) -> Result<(), EngineError> {
        if notices.is_empty() {
            return Ok(());
        }
        let Some(message) = self
            .services
            .store
            .deliver_notices(&self.record.id, &notices)
            .await?
        else {
            return Ok(());
        };
        for part in &message.parts {
            if let Part::Notice { source_id, .. } = part {
                self.services.emit(
                    &self.record.id,
                    EventKind::NotificationDelivered {
                        source_id: source_id.clone(),
                    },
                );
            }
        }
        self.announce(&message);
        Arc::make_mut(&mut self.history).push(message);
        Ok(())
    }

    /// Stores a message, then announces it and adds it to the history.
    pub(crate) async fn store_message(&mut self, message: Message) -> Result<(), EngineError> {
        self.services.store.append_message(&message).await?;
        self.announce(&message);
        Arc::make_mut(&mut self.history).push(message);
        Ok(())
    }

    fn announce(&self, message: &Message) {
        self.services.emit(
            &self.record.id,
            EventKind::MessageCompleted {
                message_id: message.id.clone(),
                role: message.role,
                text: message.text(),
            },
        );
    }

    /// Stores and announces a status change.
    pub(crate) async fn set_status(&mut self, status: SessionStatus) {
        if self.record.status == status {
            return;
        }
        match self
            .services
            .store
            .set_status(&self.record.id, status)
            .await
        {
            Ok(()) => {
                self.record.status = status;
                self.services
                    .emit(&self.record.id, EventKind::SessionStatus { status });
            }
            Err(e) => self.report_error(&format!("could not store session status: {e}")),
        }
    }

    pub(crate) fn report_error(&self, message: &str) {
        tracing::error!(session = %self.record.id, "{message}");
        self.services.emit(
            &self.record.id,
            EventKind::Error {
                message: message.to_owned(),
            },
        );
    }
}
