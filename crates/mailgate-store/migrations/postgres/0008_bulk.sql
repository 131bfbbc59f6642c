-- Bulk and list mail (Precedence: bulk or list, List-Id, List-Unsubscribe): flagged, shown
-- with the message. Rows stored before this column were read as auto-replies or as mail a
-- person wrote; they stay unflagged.
ALTER TABLE ticket_messages ADD COLUMN bulk BOOLEAN NOT NULL DEFAULT FALSE;
