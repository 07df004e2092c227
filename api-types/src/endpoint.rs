//! Every endpoint of the server's API, declared once as a type: its method, its route
//! (the axum template), what fills the route's `{…}`, its request — the JSON body of a
//! `POST`, the query string of a `GET` — and its response. The server builds its router
//! from these declarations, the SPA calls through them (`api::call::<E>`) and so do the
//! API tests (`TestApp::call::<E>`): none of the three writes a path, a method or a body
//! type of its own, so they cannot disagree.
//!
//! An endpoint is declared in one line, under its doc comment, with
//! [`endpoints!`](crate::endpoints!), beside the types it carries (`unlock`, `auth`,
//! `register`, `ra`):
//!
//! ```
//! # use api_types::endpoints;
//! # use api_types::values::AttemptId;
//! # use api_types::unlock::{CodeRequest, CodeAccepted, PublicConfig};
//! endpoints! {
//!     /// UNL-5: the emailed code.
//!     Code = POST "/api/unlock/{id}/code" AttemptId, CodeRequest => CodeAccepted,
//!         refuses [CodeInvalid, CodeExpired, CodeTriesExhausted];
//!     /// ALL-4: the organisation's public settings.
//!     Config = GET "/api/config", () => PublicConfig, refuses [];
//! }
//! ```
//!
//! Four endpoints answer something other than JSON — the health check's `ok`, the CA
//! certificate's PEM, its revocation list and the audit trail's CSV export — and say so
//! with [`NotJson`]: they are declared like the rest (so the router serves them from here
//! too), but read as text or followed as links, never through a typed call.
//!
//! A route has at most one `{…}`; its type fills it ([`Segment`]), `()` when there is
//! none (then it is left out of the declaration). The compiler checks that the two agree:
//!
//! ```compile_fail
//! # use api_types::endpoints;
//! # use api_types::unlock::{CodeRequest, CodeAccepted};
//! endpoints! {
//!     /// No type fills `{id}`: refused at compile time.
//!     Code = POST "/api/unlock/{id}/code", CodeRequest => CodeAccepted, refuses [];
//! }
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Where every endpoint's route starts (checked when it is declared); the server answers
/// any other path under it with a JSON 404.
pub const API_PREFIX: &str = "/api/";

/// The methods the API uses: `GET` reads; `POST` changes state, and is refused unless it
/// is JSON from our own page (ALL-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One server endpoint. Declare it with [`endpoints!`](crate::endpoints!).
pub trait Endpoint {
    const METHOD: Method;
    /// The axum route, e.g. `/api/unlock/{id}/code`.
    const ROUTE: &'static str;
    /// Its declared name (`Start`), the OpenAPI operation's id (OPS-1).
    const NAME: &'static str;
    /// Its doc comment's lines, as declared (`doc = " …"`), for the OpenAPI document.
    const DOCS: &'static [&'static str];
    /// The status of a success: 200, or 201 where the step creates what it names.
    const SUCCESS: u16;
    /// The refusals particular to this endpoint; [`Endpoint::refusals`] adds those any
    /// request of its kind can meet.
    const REFUSES: &'static [ErrorCode];
    /// What fills the route's `{…}`: `()` when it has none.
    type Params: PathParams;
    /// `POST`: the JSON body. `GET`: the query string's fields (`()` for none).
    type Request: Serialize + DeserializeOwned;
    /// The JSON answer; [`NotJson`] for the few endpoints that answer something else.
    type Response: Serialize + DeserializeOwned;

    /// Every code a refusal of this endpoint can carry (OPS-1): its own, those of any
    /// request (an internal failure; a read or a change another site asked for), of any
    /// `POST` (a body that is not the endpoint's JSON, too large, or not JSON at all) and
    /// of any route with a `{…}` (a value of another shape is not found).
    fn refusals() -> Vec<ErrorCode> {
        let mut codes = vec![ErrorCode::Internal, ErrorCode::OriginNotAllowed];
        if Self::METHOD == Method::Post {
            codes.extend([
                ErrorCode::BadRequest,
                ErrorCode::PayloadTooLarge,
                ErrorCode::UnsupportedMediaType,
            ]);
        }
        if <Self::Params as PathParams>::SLOTS > 0 {
            codes.push(ErrorCode::NotFound);
        }
        for code in Self::REFUSES {
            if !codes.contains(code) {
                codes.push(*code);
            }
        }
        codes
    }

    /// The concrete path, e.g. `/api/unlock/0a0a…/code`.
    fn path(params: &Self::Params) -> String {
        params.fill(Self::ROUTE)
    }

    /// What goes on the request line: the path and, for a `GET`, the request as its
    /// query string (left out when it has no fields). A `POST`'s request is its body.
    fn target(params: &Self::Params, request: &Self::Request) -> Result<String, QueryError> {
        let path = Self::path(params);
        match Self::METHOD {
            Method::Post => Ok(path),
            Method::Get => {
                let query = serde_urlencoded::to_string(request)?;
                Ok(if query.is_empty() {
                    path
                } else {
                    format!("{path}?{query}")
                })
            }
        }
    }
}

/// A `GET`'s request did not fit a query string (a nested value). Our queries are flat
/// structs, so this is a programming error, reported rather than panicking.
#[derive(Debug, thiserror::Error)]
#[error("the request does not fit a query string: {0}")]
pub struct QueryError(#[from] serde_urlencoded::ser::Error);

/// What fills a route's `{…}`: `()` for a route without one, or one [`Segment`].
pub trait PathParams {
    /// How many `{…}` this fills: 0 or 1.
    const SLOTS: usize;
    /// `route` with its `{…}` filled in.
    fn fill(&self, route: &str) -> String;
}

impl PathParams for () {
    const SLOTS: usize = 0;
    fn fill(&self, route: &str) -> String {
        route.to_owned()
    }
}

/// A value that fills a route's one `{…}`: an attempt's or a registration's id, a user's
/// UUID, a report's id. Its text is percent-encoded where it must be, so a value can never
/// split into more segments or start a query of its own.
pub trait Segment {
    fn segment(&self) -> &str;
}

impl<T: Segment> PathParams for T {
    const SLOTS: usize = 1;
    fn fill(&self, route: &str) -> String {
        match (route.find('{'), route.find('}')) {
            (Some(open), Some(close)) if open < close => format!(
                "{}{}{}",
                &route[..open],
                percent_encode(self.segment(), b"-._~"),
                &route[close + 1..]
            ),
            _ => route.to_owned(),
        }
    }
}

/// `text` with ASCII letters, digits and the bytes in `keep` as they are, every other byte
/// of its UTF-8 as `%XX`: a path segment keeps `-._~`, a query value may keep `/` too.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether `route` starts with `prefix` (for the check in [`endpoints!`](crate::endpoints!)).
pub const fn starts_with(route: &str, prefix: &str) -> bool {
    let (route, prefix) = (route.as_bytes(), prefix.as_bytes());
    if route.len() < prefix.len() {
        return false;
    }
    let mut at = 0;
    while at < prefix.len() {
        if route[at] != prefix[at] {
            return false;
        }
        at += 1;
    }
    true
}

/// How many `{…}` a route has; the compiler compares it with [`PathParams::SLOTS`].
pub const fn slots(route: &str) -> usize {
    let bytes = route.as_bytes();
    let (mut at, mut count) = (0, 0);
    while at < bytes.len() {
        if bytes[at] == b'{' {
            count += 1;
        }
        at += 1;
    }
    count
}

/// The answer of the few endpoints that do not answer JSON — the health check's `ok`, the
/// CA certificate's PEM and revocation list, the audit trail's CSV export. They are read
/// as text or followed as links (a download), never decoded: no value of this type exists,
/// and decoding one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotJson {}

/// OPS-1: a name the document recognises; the operation says its media type instead.
#[cfg(feature = "openapi")]
impl utoipa::__dev::ComposeSchema for NotJson {
    fn compose(
        _: Vec<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    ) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for NotJson {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("NotJson")
    }
}

/// Declares endpoints, each in one line under its doc comment:
/// `Name = METHOD "route" [ParamsType], Request => Response, refuses [Code, …];` where
/// `METHOD` is `GET` or `POST`, the params type is left out when the route has no `{…}`,
/// and the codes are the endpoint's own refusals ([`Endpoint::REFUSES`]); `@201` before
/// the name when a success is `201 Created`. Each becomes a
/// unit struct implementing [`Endpoint`]; the compiler checks that the route is under
/// [`API_PREFIX`] and that its `{…}` and the params type agree.
#[macro_export]
macro_rules! endpoints {
    (@method GET) => {
        $crate::endpoint::Method::Get
    };
    (@method POST) => {
        $crate::endpoint::Method::Post
    };
    (@params) => {
        ()
    };
    (@params $params:ty) => {
        $params
    };
    (@status) => {
        200
    };
    (@status $status:literal) => {
        $status
    };
    (@one [$($doc:meta)*] $name:ident [$status:expr] $method:ident $route:literal [$params:ty] $request:ty, $response:ty [$($code:ident)*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl $crate::endpoint::Endpoint for $name {
            const METHOD: $crate::endpoint::Method = $crate::endpoints!(@method $method);
            const ROUTE: &'static str = $route;
            const NAME: &'static str = stringify!($name);
            const DOCS: &'static [&'static str] = &[$(stringify!($doc)),*];
            const SUCCESS: u16 = $status;
            const REFUSES: &'static [$crate::ErrorCode] = &[$($crate::ErrorCode::$code),*];
            type Params = $params;
            type Request = $request;
            type Response = $response;
        }

        const _: () = assert!(
            $crate::endpoint::slots($route)
                == <$params as $crate::endpoint::PathParams>::SLOTS,
            concat!("the route of ", stringify!($name), " and its path parameter disagree")
        );
        const _: () = assert!(
            $crate::endpoint::starts_with($route, $crate::endpoint::API_PREFIX),
            concat!("the route of ", stringify!($name), " is not under /api/")
        );
    };
    ($(
        $(#[$doc:meta])*
        $(@$status:literal)? $name:ident = $method:ident $route:literal $($params:ty)?, $request:ty => $response:ty,
            refuses [$($code:ident),* $(,)?];
    )+) => {
        $(
            $crate::endpoints!(
                @one [$($doc)*] $name [$crate::endpoints!(@status $($status)?)] $method $route [$crate::endpoints!(@params $($params)?)] $request, $response [$($code)*]
            );
        )+
    };
}

#[cfg(test)]
mod tests;
