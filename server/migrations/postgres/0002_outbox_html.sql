-- Mail goes out as plain text plus an HTML alternative (NHS.UK style).
ALTER TABLE outbox ADD COLUMN html_body TEXT;
