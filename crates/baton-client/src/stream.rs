//! The event stream as clients see it.

use crate::ClientError;
pub use baton_protocol::api::StreamItem;
use futures::Stream;
use std::pin::Pin;

/// Events in `seq` order. An `Err` item ends the stream.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamItem, ClientError>> + Send>>;
