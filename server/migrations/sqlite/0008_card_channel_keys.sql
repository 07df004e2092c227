-- CARD-3: each card's SCP03 static keys (K-ENC, K-MAC, K-DEK), sealed with the KEK like
-- its PUK, and their key version; the server opens the secure channel with them.
ALTER TABLE cards ADD COLUMN scp03_keys_enc BLOB;
ALTER TABLE cards ADD COLUMN scp03_key_version INTEGER;
