-- RA-4 / issue 22: 256 more audit chains (16 to 271), one per first byte of the actor's
-- SHA-256, each from its own genesis. Steps of cards on one chain race for its head: with
-- 16, one sign-in in seven at bench load found it moved and went round again. Chains 0 to
-- 15 keep the events written before this, and take no more.
INSERT INTO audit_chain_heads (chain, chain_seq, mac)
SELECT chain, 0, '0000000000000000000000000000000000000000000000000000000000000000'
FROM generate_series(16, 271) AS chain;
