-- Where a reply goes and what a message answers, as JSON arrays of strings: the Reply-To
-- addresses (addr-spec), and the Message-IDs (without `<>`) of In-Reply-To and References
-- (oldest first). Rows stored before these columns read as `[]`.
ALTER TABLE ticket_messages ADD COLUMN reply_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ticket_messages ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '[]';
-- `references` is an SQL keyword.
ALTER TABLE ticket_messages ADD COLUMN reference_ids TEXT NOT NULL DEFAULT '[]';
