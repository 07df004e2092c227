-- CARD-3: the secure channel an attempt opened to its card, kept between the page's round
-- trips as JSON (host challenge; then the card's answer and the sealed script). Nothing in
-- it is secret; the session is rebuilt from it and the card's sealed static keys.
ALTER TABLE unlock_attempts ADD COLUMN channel_state TEXT;
-- An attempt is resumed by its flow cookie after a page reload.
CREATE INDEX unlock_attempts_by_flow ON unlock_attempts (flow_secret_hash);
