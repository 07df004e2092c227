//! The made-up values the examples share.

// The cards' GUIDs (from their CHUIDs): John Rigby's, then Jane Doe's.
pub(super) const JOHN_CARD: &str = "fc51582dc1c65f0f2533d98b381b90af";
pub(super) const JANE_CARD: &str = "eea7171f8b19f17864f43aa4d1cfbdd6";

// DER ECDSA P-256 signatures: by a card's 9E key (CARD-6), and by its 9A key once its
// passcode was verified (AUTH-1).
pub(super) const SIGNATURE_9E: &str = concat!(
    "304502202ad6a22f7d0c62931d2e8a6edd383dc6dd6b900b94d4455f8a52e14a87b372fa022100c0b89b7ba5",
    "cace9d7f11877fc72d5b743c544fd62fca33656ee5b95738010efe",
);
pub(super) const SIGNATURE_9A: &str = concat!(
    "304502203f42e5a89a101877e55616c5df47d78575c9d31cc13a29b53cc74ecebc51acb4022100fe94fc91e1",
    "2a5d101a32ec95921f1820c6c3351d20890fd96c8d9393a2f19c43",
);

// The unlock's secure channel (CARD-3): INITIALIZE UPDATE (key version 30, the host
// challenge), the card's answer (diversification data, key information, its challenge, its
// cryptogram, the sequence counter, 9000), then the sealed script at level 33: EXTERNAL
// AUTHENTICATE, RESET RETRY COUNTER and the PUK's CHANGE REFERENCE DATA, encrypted and
// MACed.
pub(super) const UNLOCK_OPENING: &str = "8050300008a231c47c253e67b900";
pub(super) const UNLOCK_OPENED: &str =
    "0000512b9a4698b65609300370171199fac0ef3400176817e8dd0ec77d00002a9000";
pub(super) const UNLOCK_EXTERNAL_AUTHENTICATE: &str = "848233001043f614cabda48463bb315532b5bc0a55";
pub(super) const UNLOCK_RESET_RETRY_COUNTER: &str =
    "842c0080287c91c6991e07642c790fe3bc54a16653c97c2fef20937161cdaa1281fb8e76c05f71a2abda141b47";
pub(super) const UNLOCK_CHANGE_PUK: &str =
    "84240081282c03ab8e5fde0d1741b1596a795c5e71d0379714cb317ef5246aec1225dfa845cfa7d689c00465d6";

// The unlock's grants (BRG-5): base64url JSON claims and a P-256 signature, to relay the
// opening, to relay the sealed script, and to change the one-time PIN to the new passcode.
pub(super) const UNLOCK_OPEN_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJmYzUxNTgyZGMxYzY1",
    "ZjBmMjUzM2Q5OGIzODFiOTBhZiIsImF0dGVtcHQiOiJjOTE4ODY5ZTk5NDAxY2E4Y2FmZDcxODkwN2Q4ZWY5OSIs",
    "Im9wZXJhdGlvbiI6Im9wZW5fY2hhbm5lbCIsImFwZHVzX3NoYTI1NiI6IjJmZDdlYzc3YzE3N2YwMTY1ZTNjMjJk",
    "YWRjNzFlYWY2Y2JjNGViNjY1MmUwOWUzOTliMGY4OWViZWQxZjBmZWQiLCJpc3N1ZWRfYXQiOjE3OTU0Mzc5MDAs",
    "ImV4cGlyZXNfYXQiOjE3OTU0MzgwMjAsIm5vbmNlIjoiOGUzOGY0M2FhZTU5MGU2YzBlNmIxNDk0MTY0ZjNhODUi",
    "fQ",
);
pub(super) const UNLOCK_OPEN_SIGNATURE: &str =
    "D8kshC7ZZPQoJ5wsMtOv0ZKA7yiO5ZFDHbc7489xVwN8kNq3hDCfu6iQIxH1MroUj08dLtp8FkiyGlkXp9zzbg";
pub(super) const UNLOCK_SCRIPT_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJmYzUxNTgyZGMxYzY1",
    "ZjBmMjUzM2Q5OGIzODFiOTBhZiIsImF0dGVtcHQiOiJjOTE4ODY5ZTk5NDAxY2E4Y2FmZDcxODkwN2Q4ZWY5OSIs",
    "Im9wZXJhdGlvbiI6InNlYWxlZF9zY3JpcHQiLCJhcGR1c19zaGEyNTYiOiI1NDg0MjkyMWU0NzU0ZTdlYzU5MWY2",
    "MjU4YTdhYzI2ZWY4NWI2ZWUzMWU4ODkzMjFkMmQ4MDRhNTRhNDJiYzU0IiwiaXNzdWVkX2F0IjoxNzk1NDM3OTAw",
    "LCJleHBpcmVzX2F0IjoxNzk1NDM4MDIwLCJub25jZSI6ImUzNWUzYzhiNDhiZDU3NzVhOTc5MGQ0ZTNiNTU3MDM2",
    "In0",
);
pub(super) const UNLOCK_SCRIPT_SIGNATURE: &str =
    "GAQZX5MfbE5VgsXycCOdTl_HKc7BiO4Ya2OJUFqYuBRvU9onn-GTbhLUbnQYm4VdhihO25xTM4B3BDUTUuzP-g";
pub(super) const UNLOCK_PIN_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJmYzUxNTgyZGMxYzY1",
    "ZjBmMjUzM2Q5OGIzODFiOTBhZiIsImF0dGVtcHQiOiJjOTE4ODY5ZTk5NDAxY2E4Y2FmZDcxODkwN2Q4ZWY5OSIs",
    "Im9wZXJhdGlvbiI6ImNoYW5nZV9waW4iLCJpc3N1ZWRfYXQiOjE3OTU0Mzc5MDAsImV4cGlyZXNfYXQiOjE3OTU0",
    "MzgwMjAsIm5vbmNlIjoiODI2MDMyMmQzOGE2ZjM5YWY2NGQ4YzcyYzEyMjgyZTUifQ",
);
pub(super) const UNLOCK_PIN_SIGNATURE: &str =
    "gz-jUsnSlQVnFO1t1aqA49VW9HAVnnVeLBBeUgEyY-F39WsQ22Sf5J9IqJ_swBWE7G6mohJ099AfQvHVVKYu6A";

// A renewal's channel (CERT-3): its opening and the card's answer; EXTERNAL AUTHENTICATE
// and GENERATE ASYMMETRIC KEY PAIR for 9A and 9E, sealed; the card's sealed answers (each
// new public key, encrypted, and the R-MAC); PUT DATA of each new certificate, sealed
// (shortened: a real certificate takes chained commands).
pub(super) const RENEWAL_OPENING: &str = "8050300008bd4be16c09e7bdfc00";
pub(super) const RENEWAL_OPENED: &str =
    "00004ac27840e7f3d979300370ed3ea8da6585d98a1bae71177f57b4c80000319000";
pub(super) const RENEWAL_EXTERNAL_AUTHENTICATE: &str = "8482330010ecd6c9133a26260d2bc1ae14318f7401";
pub(super) const GENERATE_9A: &str = "8447009a184ab29157a7b5579e8443b8f42b458d418a9842ae2b07cee400";
pub(super) const GENERATE_9E: &str = "8447009e18082079a4af8145b91caf13c1f20559fa37551b82b02953ab00";
pub(super) const NEW_KEY_9A: &str = concat!(
    "5c34281dbed9627a77cfd2ffbd3e1497fd4706f1288e96a0c0ff470069774c874c22ffe66c8d1837756321c8",
    "ce6ae22dba6d07ff1366d0f550f8c3d3ab2411e046063fda51428142d5c3e295849bb77c52bb903292c3bd9c",
    "9000",
);
pub(super) const NEW_KEY_9E: &str = concat!(
    "97835fa47a5e9f88e806ff157c18bb1f473c6a1ab2a28cc1cc0632c079ed6627f27d2eb271f366119fd5a400",
    "7d77f7e6e97360112929b07dc183bfae9b62189e23d8bb4de8801bfd399efe4aef7e62276fb3f8a9aa74a827",
    "9000",
);
pub(super) const PUT_CERTIFICATE_9A: &str = concat!(
    "84db3fff389abf8d6b6df3aa4f68c273dea94be20749f235dfd71a6abcc053fcbbc14dcfbbde378ecbf7b2e1",
    "21cc894b795a3d1e425feee9ac8cba9d48",
);
pub(super) const PUT_CERTIFICATE_9E: &str = concat!(
    "84db3fff38d9aa8f355457dc0816b8c4a534a98ee9352c272da5347859cdc21da76f89ae6d27c03e34cbf607",
    "5a64c276b4aebc8a1a854fe742cfcbb89d",
);

// The renewal's grants: to relay its opening, its key generation and its certificates.
pub(super) const RENEWAL_OPEN_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJlZWE3MTcxZjhiMTlm",
    "MTc4NjRmNDNhYTRkMWNmYmRkNiIsImF0dGVtcHQiOiJhYWNlNWZkZjlkNmIwOWNlNzIxNmZlMjQ3MjMwMWVhYSIs",
    "Im9wZXJhdGlvbiI6Im9wZW5fY2hhbm5lbCIsImFwZHVzX3NoYTI1NiI6IjI3MmI2M2Q5NjViMjdmZjBlMjM0ODMz",
    "ZjlhMzM1MTg5ZTU0NDE2MWZjZjlkYmNmY2RlMzViNTZjYzUwMTcxNDciLCJpc3N1ZWRfYXQiOjE3OTU0Mzc5MDAs",
    "ImV4cGlyZXNfYXQiOjE3OTU0MzgwMjAsIm5vbmNlIjoiMDMwY2E2MGYxN2Q3YmNkYTBmZjQyYzU3MGQwODU1ZmIi",
    "fQ",
);
pub(super) const RENEWAL_OPEN_SIGNATURE: &str =
    "5vHSvg41yrj8UsQ0lXRFkugqwUOaGO6zkEaPcjKaWwUeg_B-mkZA_OwFfPpUbXOW_fX5AybvtKpRcBzjebIw7g";
pub(super) const RENEWAL_KEYS_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJlZWE3MTcxZjhiMTlm",
    "MTc4NjRmNDNhYTRkMWNmYmRkNiIsImF0dGVtcHQiOiJhYWNlNWZkZjlkNmIwOWNlNzIxNmZlMjQ3MjMwMWVhYSIs",
    "Im9wZXJhdGlvbiI6InNlYWxlZF9zY3JpcHQiLCJhcGR1c19zaGEyNTYiOiJmZTI2OTBkN2NmMTJlOGYxODYzNzIw",
    "MmIyNjQ3ZWNmZjFlYmFkMDI5NDFhZmIzYTFlY2VkNTZlMDM3MTdlMGM2IiwiaXNzdWVkX2F0IjoxNzk1NDM3OTAw",
    "LCJleHBpcmVzX2F0IjoxNzk1NDM4MDIwLCJub25jZSI6ImM0NTFkZGVmY2JjZTEwZDhiYTkxYjllNmQ3ZmFkZWFj",
    "In0",
);
pub(super) const RENEWAL_KEYS_SIGNATURE: &str =
    "_CT0g5c6lsNjblnON8VS36cleAeK-JuhmlQG7YeZ_gJiWuPOMQOgGM7Glw7NjnYGxz774F-k_XbScWUXC6DGdQ";
pub(super) const RENEWAL_CERTIFICATES_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJlZWE3MTcxZjhiMTlm",
    "MTc4NjRmNDNhYTRkMWNmYmRkNiIsImF0dGVtcHQiOiJhYWNlNWZkZjlkNmIwOWNlNzIxNmZlMjQ3MjMwMWVhYSIs",
    "Im9wZXJhdGlvbiI6InNlYWxlZF9zY3JpcHQiLCJhcGR1c19zaGEyNTYiOiI4NjExN2E5MzU0ODM3M2ExMDljMjQ1",
    "MzYyNmQ2OWI3ODI0ODNlZjY1M2IxMGNjZDlkMWFmYjZjYTdhZThjZTQ4IiwiaXNzdWVkX2F0IjoxNzk1NDM3OTAw",
    "LCJleHBpcmVzX2F0IjoxNzk1NDM4MDIwLCJub25jZSI6ImE5OGVmNjE0M2IwMzI1MjRjOTkwZGNiZTZhNWMwZWUw",
    "In0",
);
pub(super) const RENEWAL_CERTIFICATES_SIGNATURE: &str =
    "DF36DNZzL8DITh3qplLO-fOeiZ5vCqwhS8jPJWymMR8umxWDdhLinKFomFumsq7AuRyBFSINnHTt6fD0CTVuwg";

// PASS-2: the grant to change the passcode on the card.
pub(super) const PASSCODES_PIN_CLAIMS: &str = concat!(
    "eyJ2IjoxLCJvcmlnaW4iOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJjYXJkX2d1aWQiOiJlZWE3MTcxZjhiMTlm",
    "MTc4NjRmNDNhYTRkMWNmYmRkNiIsImF0dGVtcHQiOiIwZmM5ZWQ3ODY3Zjg2NTdmY2RhYjg1OWM4YjBiYTJhOSIs",
    "Im9wZXJhdGlvbiI6ImNoYW5nZV9waW4iLCJpc3N1ZWRfYXQiOjE3OTU0Mzc5MDAsImV4cGlyZXNfYXQiOjE3OTU0",
    "MzgwMjAsIm5vbmNlIjoiOTRmZWRhNmE3YjBkNWUwZGFkNWJhNzI2MDZlMGYyMDYifQ",
);
pub(super) const PASSCODES_PIN_SIGNATURE: &str =
    "Zl8AiZgS4Aiqug7xcVQIRL18Dy9L7xjGJPAcqQ_NTSxtycvuroyhaW9NZq_lbWO35knZHthl6kZtSa17HTOOcg";

// ALL-4: the default `ra_help`.
pub(super) const RA_HELP: &str = concat!(
    "Contact your Registration Authority (RA) team on 0121 000 4050, or visit the IT walk-in ",
    "centres at City or Sandwell.",
);
