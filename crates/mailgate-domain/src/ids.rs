//! Identifiers: random UUIDs, parsed from text with a clear error.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identifier of a stored object (OAuth app, service account, server, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(Uuid);

impl Id {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    pub fn parse(field: &str, text: &str) -> Result<Self, crate::FieldError> {
        Uuid::parse_str(text.trim()).map(Self).map_err(|_| {
            crate::FieldError::new(field, format!("`{text}` is not an id")).with_hint(
                "ids are UUIDs as returned by the API, e.g. 0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42",
            )
        })
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Id {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}
