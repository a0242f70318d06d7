//! Identifiers. Each is a prefixed, time-ordered string (`ses_…`, `msg_…`),
//! so ids sort by creation time and say what they name.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The prefix every generated id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new, unique, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// Names one session (a primary conversation or a sub-agent's).
    SessionId,
    "ses_"
);
id_type!(
    /// Names one stored message.
    MessageId,
    "msg_"
);
id_type!(
    /// Names one delegated task.
    TaskId,
    "task_"
);
id_type!(
    /// Names one shell command run by a session (foreground or background).
    ShellId,
    "sh_"
);
id_type!(
    /// Names one stored notice (a task or shell ended).
    NoticeId,
    "ntc_"
);
id_type!(
    /// Names one permission request.
    PermissionId,
    "perm_"
);
id_type!(
    /// Names one tool call. Providers supply their own ids; baton generates
    /// one only when a provider does not.
    CallId,
    "call_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_prefixed_unique_and_ordered() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert!(a.as_str().starts_with("ses_"));
        assert_ne!(a, b);
        assert!(a < b, "v7 ids sort by creation time");
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = MessageId::from("msg_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"msg_1\"");
    }
}
