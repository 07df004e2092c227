//! What a `public_origin` may be (ALL-6): the form an `Origin` header takes, and plain
//! HTTP only on this computer.

/// ALL-6: an `http://` origin on this computer alone, where nothing travels a network.
pub(super) fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => rest,
    };
    match host {
        "localhost" | "[::1]" => true,
        _ => host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
    }
}

/// `http(s)://host[:port]` with nothing after it: the form an `Origin` header takes.
pub(super) fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
