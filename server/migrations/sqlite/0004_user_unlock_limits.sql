-- UNL-4 / UNL-5 / ALL-1: limits that hold across attempts. Wrong unlock codes are
-- counted per user in a 24-hour window (0 = no window open); the questions asked are
-- fixed per user (comma-separated ids, '' = none chosen) until an unlock succeeds.
ALTER TABLE users ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN code_window_started_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN unlock_question_ids TEXT NOT NULL DEFAULT '';
