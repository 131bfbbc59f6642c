//! What one step of a worker answers: every worker's `run_once` returns an [`Outcome`], which
//! its loop and its tests read.

/// What one step of a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It handled this many items (messages claimed, tokens renewed, watchers started or
    /// stopped).
    DidWork(usize),
    /// There was nothing to do.
    Idle,
}

impl Outcome {
    /// `DidWork(n)`, or `Idle` when `n` is 0.
    pub fn of(n: usize) -> Self {
        match n {
            0 => Self::Idle,
            n => Self::DidWork(n),
        }
    }
}
