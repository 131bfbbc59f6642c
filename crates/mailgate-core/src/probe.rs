//! Test Connection reports: each step in order, with the fix for the one that fails.

use mailgate_domain::troubleshoot::Diagnosis;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// `credential`, `connect`, `authenticate`, then `select` (IMAP), `stat` (POP3) or
    /// `profile` (Gmail API).
    pub step: &'static str,
    pub ok: bool,
    pub detail: String,
    pub millis: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<Step>,
}

pub(crate) struct Steps(pub Vec<Step>);

impl Steps {
    pub fn pass(&mut self, step: &'static str, started: Instant, detail: String) {
        self.0.push(Step {
            step,
            ok: true,
            detail,
            millis: started.elapsed().as_millis(),
            diagnosis: None,
        });
    }

    pub fn fail(
        mut self,
        step: &'static str,
        started: Instant,
        diagnosis: Diagnosis,
    ) -> TestReport {
        self.0.push(Step {
            step,
            ok: false,
            detail: diagnosis.message.clone(),
            millis: started.elapsed().as_millis(),
            diagnosis: Some(diagnosis),
        });
        TestReport {
            ok: false,
            steps: self.0,
        }
    }
}

impl Steps {
    /// Every step passed.
    pub fn done(self) -> TestReport {
        TestReport {
            ok: true,
            steps: self.0,
        }
    }
}
