-- A digest of an incoming message's content (SHA-256 of its raw From, Date and Subject
-- values and its body), hex. A message is a duplicate only when an earlier incoming one has
-- the same Message-ID and the same digest; rows stored before this column have none, and
-- count as the same content (an upgrade never imports a message twice).
ALTER TABLE ticket_messages ADD COLUMN content_digest TEXT;
