//! An error and its causes as one line, the one walker of `source()` chains that the crates
//! share (each cause is printed once: errors whose message already quotes their cause do not
//! also return it as their `source()`).

/// `outer: cause: root cause`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_cause_follows_its_error_once() {
        let e = Outer(std::io::Error::other("root cause"));
        assert_eq!(error_chain(&e), "outer: root cause");
        assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
    }
}
