//! The "this wasn't me" link every notice email carries (RA-4):
//! `{public_origin}/not-me#TOKEN`, the token in the fragment (in no server log, no
//! Referer), only its SHA-256 kept. Made here for every flow that sends a notice; used
//! by the `not_me` flow.

use api_types::ra::UserUuid;

use crate::secrets::FlowSecret;
use crate::store::not_me::NotMeLink;

use super::Write;

/// How long a notice's link can be used.
pub(crate) const LINK_TTL: i64 = 30 * 24 * 3600;

/// A notice's link, drawn by a step's loader (the token is random) for its `decide` to
/// use — or not: a refusal sends no notice and writes no link.
pub(crate) struct NotMeDraw<'a> {
    pub(crate) public_origin: &'a str,
    pub(crate) token: FlowSecret,
}

impl NotMeDraw<'_> {
    /// The link for a notice to `user_uuid`: the write that keeps its hash, and the URL.
    pub(crate) fn link(self, user_uuid: &UserUuid, notice: &str, now: i64) -> (Write, String) {
        not_me_link(self.public_origin, user_uuid, notice, self.token, now)
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        NotMeDraw {
            public_origin: "https://ss.example",
            token: FlowSecret::from_bytes([8; 32]),
        }
    }
}

impl crate::AppState {
    /// A fresh link for a step that may send a notice.
    pub(crate) fn not_me_draw(&self) -> NotMeDraw<'_> {
        NotMeDraw {
            public_origin: &self.settings.public_origin,
            token: FlowSecret::generate(),
        }
    }
}

/// A new link in a notice to `user_uuid`: the write that keeps its hash, and the URL.
fn not_me_link(
    public_origin: &str,
    user_uuid: &UserUuid,
    notice: &str,
    token: FlowSecret,
    now: i64,
) -> (Write, String) {
    let link = NotMeLink {
        token_hash: token.hash(),
        user_uuid: user_uuid.clone(),
        notice: notice.to_owned(),
        created_at: now,
        expires_at: now + LINK_TTL,
        reported_at: None,
        reviewed_at: None,
    };
    let url = format!(
        "{}/not-me#{}",
        public_origin.trim_end_matches('/'),
        token.cookie_value()
    );
    (Write::NotMeLink(link), url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_the_link_carries_its_token_only_in_the_fragment_and_keeps_only_its_hash() {
        let token = FlowSecret::from_bytes([5; 32]);
        let value = token.cookie_value();
        let hash = token.hash();
        let john = crate::fixtures::john_uuid();
        let (write, url) = not_me_link("https://ss.example/", &john, "unlock", token, 100);
        assert_eq!(url, format!("https://ss.example/not-me#{value}"));
        assert!(matches!(write, Write::NotMeLink(link)
            if link.token_hash == hash && link.expires_at == 100 + LINK_TTL
                && link.notice == "unlock"));
    }
}
