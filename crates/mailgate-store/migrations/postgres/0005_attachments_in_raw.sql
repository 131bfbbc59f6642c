-- An attachment whose bytes can be read back from its message's raw bytes is not stored a
-- second time: only where they stand is kept (content is then empty), and reading it decodes
-- them from the raw message.
ALTER TABLE attachments ADD COLUMN raw_offset BIGINT;
ALTER TABLE attachments ADD COLUMN raw_length BIGINT;
-- identity or base64.
ALTER TABLE attachments ADD COLUMN raw_encoding TEXT;
