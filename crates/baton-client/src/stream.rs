//! The event stream as clients see it.

use crate::ClientError;
use baton_protocol::Event;
use baton_protocol::api::Resync;
use futures::Stream;
use std::pin::Pin;

/// One item of an event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// The next event.
    Event(Event),
    /// Events were lost here (too old to replay, or read too slowly):
    /// reload what you show.
    Resync(Resync),
}

/// Events in `seq` order. An `Err` item ends the stream.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamItem, ClientError>> + Send>>;
