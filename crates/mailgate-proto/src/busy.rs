//! The guard the protocol clients share against reading an old answer as the answer to a new
//! command.
//!
//! A command that fails half-way (a timeout, a dropped connection, garbage, an answer over a
//! cap) leaves the rest of its answer unread, and so does a command future dropped before it
//! ended. The next command would then read that rest as its own answer. So a client marks a
//! command as running before it sends anything and clears the mark only once the answer was
//! read to its end; a mark still set makes every later call fail with
//! [`ProtoError::Unusable`]: the caller connects again.

use crate::error::ProtoError;

/// Set while a command runs; still set afterwards when the command was cut off.
#[derive(Debug)]
pub(crate) struct Busy(bool);

impl Busy {
    /// Busy from the start: a client that has not read the server's greeting yet.
    pub fn starting() -> Self {
        Self(true)
    }

    /// Ready for a command (a session handed over after a complete answer).
    pub fn ready() -> Self {
        Self(false)
    }

    /// True while a command runs, or after one was cut off.
    pub fn is_set(&self) -> bool {
        self.0
    }

    /// Marks a command as running; fails when an earlier one did not finish.
    pub fn begin(&mut self) -> Result<(), ProtoError> {
        if self.0 {
            return Err(ProtoError::Unusable);
        }
        self.0 = true;
        Ok(())
    }

    /// The command's answer was read to its end.
    pub fn end(&mut self) {
        self.0 = false;
    }

    /// Ends the command when `result` says its answer was read to the end: a success, or an
    /// error `clean` accepts (a refusal the server finished saying). Any other error leaves
    /// the mark set.
    pub fn settle<T>(
        &mut self,
        result: &Result<T, ProtoError>,
        clean: impl Fn(&ProtoError) -> bool,
    ) {
        if result.as_ref().err().is_none_or(clean) {
            self.end();
        }
    }
}
