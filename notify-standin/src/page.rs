//! `GET /`: the texts and emails received, newest first, on a page that refreshes itself
//! every 5 seconds, as the mail catcher shows mail. Everything the service sent is
//! escaped: personalisation is the service's input and may hold markup.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;

use crate::Shared;

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Arial,sans-serif;margin:2em;color:#212b32}\
table{border-collapse:collapse;width:100%}\
td,th{border:1px solid #d8dde0;padding:.4em;text-align:left;vertical-align:top}\
td.message{white-space:pre-wrap}";

pub async fn page(State(shared): State<Shared>) -> Html<String> {
    let mut rows = String::new();
    for m in shared.messages().iter().rev() {
        let subject = m
            .subject
            .as_deref()
            .map(|s| format!("<strong>{}</strong>\n", escape(s)))
            .unwrap_or_default();
        // Writing to a String cannot fail.
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"message\">{subject}{}</td></tr>",
            escape(&crate::utc_iso(m.created_at)),
            escape(m.kind),
            escape(&m.to),
            escape(m.status),
            escape(m.reference.as_deref().unwrap_or("")),
            escape(&m.body),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"6\">Nothing received yet.</td></tr>");
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\">\
         <title>Notify stand-in — texts received</title><style>{STYLE}</style></head><body>\
         <h1>Notify stand-in — texts received</h1>\
         <p>What the service sent through GOV.UK Notify's API, newest first (SMS-2). \
         As JSON: <a href=\"/_standin/messages\">/_standin/messages</a>; \
         the contract: <a href=\"/openapi.yaml\">/openapi.yaml</a>.</p>\
         <table><thead><tr><th>Received (UTC)</th><th>Type</th><th>To</th><th>Status</th>\
         <th>Reference</th><th>Message</th></tr></thead><tbody>{rows}</tbody></table>\
         </body></html>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_2_the_page_escapes_what_it_shows() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
