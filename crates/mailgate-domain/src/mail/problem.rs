//! What can be wrong with a message, as reported to people in
//! [`super::ParsedMessage::problems`]; every reading step (MIME, charsets, encoded words,
//! defects) reports into these types and none of them imports another's.

/// A header section longer than this is flagged (real ones are a few KiB; DKIM and a long
/// Received chain stay far below it). It is still read, in linear time.
pub(crate) const MAX_HEADER_SECTION: usize = 256 * 1024;

/// What was malformed about a message; shown to people as [`super::ParsedMessage::problems`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    #[error("no header fields found")]
    NoHeaders,
    #[error("the MIME parser failed on this message; only the raw bytes are usable")]
    ParserFailed,
    #[error("no From header")]
    NoFrom,
    #[error("the From header has no address")]
    FromWithoutAddress,
    #[error("the From header \"{0}\" holds no address")]
    FromNotAnAddress(String),
    #[error("the From header is malformed ({0})")]
    FromMalformed(String),
    #[error(
        "the From header names {0} addresses and there is no Sender header (the first is the requester)"
    )]
    SeveralFrom(usize),
    #[error("the sender address was taken from {0}")]
    SenderTakenFrom(&'static str),
    #[error("no sender address in From, Sender, Reply-To or Return-Path")]
    NoSenderAddress,
    #[error("no Date header")]
    NoDate,
    #[error("unparseable Date header")]
    BadDate,
    #[error("{}", eight_bit(.0.as_deref()))]
    EightBitHeader(Option<String>),
    #[error("undecodable charset {0} (read as UTF-8)")]
    UnknownCharset(String),
    #[error("text of MIME part {part} is not valid {label} (read as windows-1252)")]
    NotUtf8 { part: usize, label: String },
    #[error("MIME part {0} is malformed (kept as it was sent)")]
    BadPart(usize),
    #[error("multipart boundary \"{0}\" is never closed (truncated message?)")]
    UnclosedMultipart(String),
    #[error("a multipart part has no boundary parameter")]
    NoBoundary,
    #[error(transparent)]
    EncodedWord(#[from] EncodedWordProblem),
    #[error("duplicate {0} header (the first is kept)")]
    DuplicateHeader(&'static str),
    #[error("duplicate {name} header in MIME part {part} (the last is read)")]
    DuplicatePartHeader { part: usize, name: &'static str },
    #[error("header section too large ({0} bytes, over the limit of {max})", max = MAX_HEADER_SECTION)]
    HeaderSectionTooLarge(usize),
    #[error("header line without a colon (line {0}, ignored)")]
    LineWithoutColon(usize),
    #[error("bare CR (a CR not followed by LF) in {}", where_(*.0))]
    BareCr(Option<usize>),
    #[error("invalid base64 in MIME part {part}: {defect}")]
    InvalidBase64 { part: usize, defect: Base64Defect },
    #[error("truncated quoted-printable at the end of MIME part {0}")]
    TruncatedQuotedPrintable(usize),
    #[error("invalid quoted-printable (an = not followed by two hex digits) in MIME part {0}")]
    InvalidQuotedPrintable(usize),
}

/// The header section (`None`) or a MIME part.
fn where_(part: Option<usize>) -> String {
    match part {
        None => "the header section".to_owned(),
        Some(part) => format!("MIME part {part}"),
    }
}

fn eight_bit(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("8-bit bytes in the {name} header (read as windows-1252)"),
        None => "8-bit bytes in the header section (read as windows-1252)".to_owned(),
    }
}

/// What was wrong with the encoded words of a header; part of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EncodedWordProblem {
    #[error("invalid base64 in an encoded word (the bytes that decode are kept)")]
    InvalidBase64,
    #[error("invalid quoted-printable in an encoded word (kept as written)")]
    InvalidQuotedPrintable,
    #[error("undecodable charset {0} in an encoded word (read as UTF-8 or windows-1252)")]
    UnknownCharset(String),
    #[error("an encoded word is not valid {0} (undecodable bytes replaced)")]
    Malformed(String),
}

/// What is wrong with the base64 of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base64Defect {
    /// A byte that is neither of the alphabet, `=` nor white space.
    OutsideAlphabet,
    /// `=` where it cannot be: inside the data, more than two, or not completing a group.
    Padding,
    /// The characters do not make whole groups of four (and there is no padding).
    Length,
}

impl std::fmt::Display for Base64Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Base64Defect::OutsideAlphabet => "a character outside the base64 alphabet",
            Base64Defect::Padding => "bad padding",
            Base64Defect::Length => "a length that is no multiple of 4",
        })
    }
}
