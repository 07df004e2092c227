//! OPS-1: the OpenAPI 3.1 document of the whole API, built from the endpoints' own
//! declarations ([`Endpoint`]): each operation's path, method, path parameter, query or
//! body, success status, answer and refusals come from the one line that also builds the
//! router, the page's calls and the tests' — so the document cannot describe an API that
//! is not there. Every refusal is an [`ApiError`] whose `code` is an [`ErrorCode`]; each
//! operation lists, by status, the codes it can be refused with ([`Endpoint::refusals`]),
//! and the API tests fail on any other. Each operation carries an example request and
//! answer ([`crate::examples`]), checked here to read as the endpoint's types.

use std::collections::BTreeMap;

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, Schema, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, Header, Info, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use serde_json::Value;

use crate::endpoint::{Endpoint, Method};
use crate::{examples, ApiError, ErrorCode};

/// The document being built: one operation per endpoint added.
#[derive(Default)]
pub struct ApiDocument {
    paths: BTreeMap<String, Vec<(HttpMethod, Operation)>>,
    schemas: BTreeMap<String, RefOr<Schema>>,
    /// Names two different schemas were given: each would describe the other's values.
    clashes: Vec<String>,
    /// Endpoints whose example is missing or does not read as their type.
    bad_examples: Vec<String>,
}

/// What a non-JSON endpoint answers, by its declared name.
fn media_type(endpoint: &str) -> &'static str {
    match endpoint {
        "CaCertificate" => "application/x-pem-file",
        "Crl" => "application/pkix-crl",
        "AuditCsv" => "text/csv",
        _ => "text/plain",
    }
}

impl ApiDocument {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many operations the document holds.
    pub fn operations(&self) -> usize {
        self.paths.values().map(Vec::len).sum()
    }

    /// Registers `T`'s schema and everything it refers to; a reference to it.
    fn schema_of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        self.register(T::name().into_owned(), T::schema());
        self.referred_to_by::<T>();
        Ref::from_schema_name(T::name()).into()
    }

    /// Registers what `T`'s schema refers to (a query's field types).
    fn referred_to_by<T: ToSchema>(&mut self) {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.register(name, schema);
        }
    }

    fn register(&mut self, name: String, schema: RefOr<Schema>) {
        match self.schemas.get(&name) {
            Some(known) if *known != schema => self.clashes.push(name),
            Some(_) => {}
            None => {
                self.schemas.insert(name, schema);
            }
        }
    }

    /// Schema names given to two different types (none, or the document misleads).
    pub fn clashes(&self) -> &[String] {
        &self.clashes
    }

    /// Examples that are missing or would be refused as their endpoint's request or not
    /// read as its answer (none, or the document teaches a call that fails).
    pub fn bad_examples(&self) -> &[String] {
        &self.bad_examples
    }

    /// `E`'s example request and answer (`None` where it takes or answers nothing), each
    /// checked by reading it as the type it claims to be.
    fn examples_of<E>(&mut self) -> (Option<Value>, Option<Value>)
    where
        E: Endpoint,
        E::Response: ToSchema,
    {
        let request = examples::request(E::NAME);
        if serde_json::from_value::<E::Request>(request.clone().unwrap_or(Value::Null)).is_err() {
            self.bad_examples.push(format!("{} request", E::NAME));
        }
        let response = examples::response(E::NAME);
        let not_json = E::Response::name() == "NotJson";
        let readable = match &response {
            Some(answer) => serde_json::from_value::<E::Response>(answer.clone()).is_ok(),
            None => not_json,
        };
        if !readable {
            self.bad_examples.push(format!("{} response", E::NAME));
        }
        (request, response)
    }

    /// Adds endpoint `E` as one operation.
    pub fn add<E>(&mut self)
    where
        E: Endpoint,
        E::Params: ToSchema,
        E::Request: ToSchema,
        E::Response: ToSchema,
    {
        let docs: Vec<String> = E::DOCS.iter().map(|line| doc_text(line)).collect();
        let summary = docs.first().cloned().unwrap_or_default();
        let tag = E::ROUTE
            .trim_start_matches(crate::endpoint::API_PREFIX)
            .split('/')
            .next()
            .unwrap_or("api");
        let mut operation = OperationBuilder::new()
            .operation_id(Some(E::NAME))
            .summary(Some(summary))
            .description(Some(docs.join("\n")))
            .tag(tag);
        if let Some(name) = path_parameter(E::ROUTE) {
            let schema = E::Params::schema();
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(schema)),
            );
        }
        let (request_example, response_example) = self.examples_of::<E>();
        let method = match E::METHOD {
            Method::Get => {
                self.referred_to_by::<E::Request>();
                for (name, schema, required) in query_parameters(E::Request::schema()) {
                    let example = request_example
                        .as_ref()
                        .and_then(|fields| fields.get(&name))
                        .cloned();
                    operation = operation.parameter(
                        ParameterBuilder::new()
                            .name(name)
                            .parameter_in(ParameterIn::Query)
                            .required(required)
                            .schema(Some(schema))
                            .example(example),
                    );
                }
                HttpMethod::Get
            }
            Method::Post => {
                let body = self.schema_of::<E::Request>();
                operation = operation.request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(body))
                                .example(request_example)
                                .build(),
                        )
                        .required(Some(Required::True))
                        .build(),
                ));
                HttpMethod::Post
            }
        };
        let answer = if E::Response::name() == "NotJson" {
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        } else {
            ContentBuilder::new()
                .schema(Some(self.schema_of::<E::Response>()))
                .example(response_example)
                .build()
        };
        let media = if E::Response::name() == "NotJson" {
            media_type(E::NAME)
        } else {
            "application/json"
        };
        operation = operation.response(
            E::SUCCESS.to_string(),
            ResponseBuilder::new()
                .description("Done.")
                .content(media, answer),
        );
        for (status, response) in self.refusals(&E::refusals()) {
            operation = operation.response(status, response);
        }
        self.paths
            .entry(E::ROUTE.to_owned())
            .or_default()
            .push((method, operation.build()));
    }

    /// One response per status `codes` have, each naming the codes it carries and
    /// holding its body's `code` to them.
    fn refusals(&mut self, codes: &[ErrorCode]) -> Vec<(String, utoipa::openapi::Response)> {
        let error = self.schema_of::<ApiError>();
        let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
        for code in codes {
            by_status.entry(code.http_status()).or_default().push(*code);
        }
        by_status
            .into_iter()
            .map(|(status, codes)| {
                let names: Vec<&str> = codes.iter().map(|code| code.as_str()).collect();
                let body = AllOfBuilder::new().item(error.clone()).item(
                    ObjectBuilder::new()
                        .property(
                            "code",
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(names.clone())),
                        )
                        .required("code"),
                );
                let example = codes.first().and_then(|code| {
                    serde_json::to_value(ApiError::new(*code, code.as_str().replace('_', " "))).ok()
                });
                let mut response = ResponseBuilder::new()
                    .description(format!("Refused: `code` is one of {}.", names.join(", ")))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(body))
                            .example(example)
                            .build(),
                    );
                if status == 429 {
                    response = response.header(
                        "Retry-After",
                        Header::new(ObjectBuilder::new().schema_type(Type::Integer)),
                    );
                }
                (status.to_string(), response.build())
            })
            .collect()
    }

    /// A path outside `/api/` that answers a GET with `T` (or text): the probes.
    pub fn add_get<T: ToSchema>(&mut self, path: &str, id: &str, summary: &str) {
        let answer = self.schema_of::<T>();
        let operation = OperationBuilder::new()
            .operation_id(Some(id))
            .summary(Some(summary))
            .tag("operations")
            .response(
                "200",
                ResponseBuilder::new().description("Ready.").content(
                    "application/json",
                    ContentBuilder::new().schema(Some(answer.clone())).build(),
                ),
            )
            .response(
                "503",
                ResponseBuilder::new()
                    .description("Not ready: the checks say why.")
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(answer)).build(),
                    ),
            )
            .build();
        self.paths
            .entry(path.to_owned())
            .or_default()
            .push((HttpMethod::Get, operation));
    }

    /// The whole document.
    pub fn build(self, title: &str, version: &str) -> OpenApi {
        let mut paths = PathsBuilder::new();
        for (path, operations) in self.paths {
            for (method, operation) in operations {
                paths = paths.path(path.clone(), PathItem::new(method, operation));
            }
        }
        let mut components = ComponentsBuilder::new();
        for (name, schema) in self.schemas {
            components = components.schema(name, schema);
        }
        OpenApiBuilder::new()
            .info(Info::new(title, version))
            .paths(paths)
            .components(Some(components.build()))
            .build()
    }
}

/// `doc = r" UNL-1: the card …"` as `stringify!` gives it (a raw string, or an escaped
/// one): the text.
fn doc_text(line: &str) -> String {
    let value = line
        .trim()
        .strip_prefix("doc")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix('='))
        .map(str::trim)
        .unwrap_or(line);
    let quoted = |text: &str| {
        let text = text.strip_prefix('"').unwrap_or(text);
        text.strip_suffix('"').unwrap_or(text).to_owned()
    };
    let text = match value.strip_prefix('r') {
        Some(raw) => quoted(raw.trim_matches('#')),
        None => quoted(value).replace("\\\"", "\"").replace("\\'", "'"),
    };
    text.trim().to_owned()
}

/// The name in a route's `{…}`, if it has one.
fn path_parameter(route: &str) -> Option<&str> {
    let start = route.find('{')? + 1;
    let end = route[start..].find('}')? + start;
    Some(&route[start..end])
}

/// A GET's request, a flat object, as query parameters: each property, and whether it
/// must be there.
fn query_parameters(request: RefOr<Schema>) -> Vec<(String, RefOr<Schema>, Required)> {
    let RefOr::T(Schema::Object(object)) = request else {
        return Vec::new();
    };
    object
        .properties
        .into_iter()
        .map(|(name, schema)| {
            let required = if object.required.contains(&name) {
                Required::True
            } else {
                Required::False
            };
            (name, schema, required)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_1_a_doc_comment_reads_as_its_text() {
        assert_eq!(
            doc_text(r#"doc = " UNL-1: the card names itself; \"quoted\"""#),
            r#"UNL-1: the card names itself; "quoted""#
        );
        assert_eq!(
            doc_text(r##"doc = r#" CARD-3: "resumed""#"##),
            r#"CARD-3: "resumed""#
        );
        assert_eq!(doc_text(r#"doc = r" UNL-1: starts.""#), "UNL-1: starts.");
    }

    crate::endpoints! {
        /// A made-up endpoint with no example.
        Unexampled = POST "/api/unexampled", crate::unlock::StartRequest
            => crate::unlock::StartResponse, refuses [UnknownCard, RateLimited];
    }

    #[test]
    fn ops_1_an_endpoint_without_an_example_is_named() {
        let mut document = ApiDocument::new();
        document.add::<crate::unlock::Start>();
        assert!(document.bad_examples().is_empty());
        document.add::<Unexampled>();
        assert_eq!(
            document.bad_examples(),
            ["Unexampled request", "Unexampled response"]
        );
    }

    #[test]
    fn ops_1_an_operation_lists_only_its_own_refusals() {
        let mut document = ApiDocument::new();
        document.add::<Unexampled>();
        let json = serde_json::to_value(document.build("t", "0")).unwrap();
        let responses = &json["paths"]["/api/unexampled"]["post"]["responses"];
        let statuses: Vec<&str> = responses
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // 200 and the refusals of any POST, plus its own: 404 and 429; never 401.
        assert_eq!(
            statuses,
            ["200", "400", "403", "404", "413", "415", "429", "500"]
        );
        let codes = &responses["404"]["content"]["application/json"]["schema"]["allOf"][1]
            ["properties"]["code"]["enum"];
        assert_eq!(codes, &serde_json::json!(["unknown_card"]));
        let codes = &responses["400"]["content"]["application/json"]["schema"]["allOf"][1]
            ["properties"]["code"]["enum"];
        assert_eq!(codes, &serde_json::json!(["bad_request"]));
    }

    #[test]
    fn ops_1_a_route_names_its_path_parameter() {
        assert_eq!(path_parameter("/api/unlock/{id}/code"), Some("id"));
        assert_eq!(path_parameter("/api/config"), None);
    }
}
