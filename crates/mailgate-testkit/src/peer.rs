//! The benchmarks' peers nobody here wrote: Python scripts under `scripts/bench/` (smtplib,
//! imaplib) run against the test stack, signed in as a user with a token minted for it. Each
//! prints its figures as one JSON object.

use crate::world;

/// Runs `scripts/bench/{script}` against the stack's `port` as `user`, with `args` after the
/// common ones; its JSON answer. Panics when python3 is missing or the script fails.
pub fn run_python(script: &str, port: u16, user: &str, args: &[&str]) -> serde_json::Value {
    let w = world();
    let path = format!(
        "{}/../../scripts/bench/{script}",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("python3")
        // -B: no __pycache__ in the checkout.
        .args(["-B", &path])
        .args(["--port", &port.to_string()])
        .args(["--cafile", &w.stack.ca_pem.display().to_string()])
        .args(["--user", user, "--token", &w.mint_token(user)])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 {path} (scripts/install-test-deps.sh installs python3): {e}")
        });
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
