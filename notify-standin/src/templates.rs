//! The templates a stand-in service holds, from a TOML file, rendered as Notify renders
//! them: `((name))` placeholders whose names ignore case, spaces, `_` and `-`; the
//! conditional `((name??text))`, shown when the value is yes/true/show…; and every
//! placeholder needing a value (a `null` one counts as missing).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::validate::py_repr;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    #[serde(default)]
    pub template: Vec<Template>,
}

impl Templates {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut templates: Templates = toml::from_str(text).map_err(|e| e.to_string())?;
        for t in &mut templates.template {
            let id = uuid::Uuid::try_parse(&t.id)
                .map_err(|_| format!("template {:?}: id {:?} is not a UUID", t.name, t.id))?;
            // Kept in the hyphenated lowercase form Notify answers with.
            t.id = id.to_string();
            match (t.kind.as_str(), &t.subject) {
                ("sms", None) | ("email", Some(_)) => {}
                ("sms", Some(_)) => {
                    return Err(format!("template {:?}: a text has no subject", t.name))
                }
                ("email", None) => {
                    return Err(format!("template {:?}: an email needs a subject", t.name))
                }
                (other, _) => {
                    return Err(format!(
                        "template {:?}: type {other:?} is not sms or email",
                        t.name
                    ))
                }
            }
        }
        Ok(templates)
    }

    /// The template with this id, whatever its type.
    pub fn get(&self, id: &uuid::Uuid) -> Option<&Template> {
        let id = id.to_string();
        self.template.iter().find(|t| t.id == id)
    }

    /// The template with this id and type.
    pub fn find(&self, id: &str, kind: &str) -> Option<&Template> {
        let id = uuid::Uuid::try_parse(id).ok()?;
        self.get(&id).filter(|t| t.kind == kind)
    }
}

/// How Notify compares placeholder names and personalisation keys.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Each `((…))` in `text`: where it starts and ends, and what is inside.
fn placeholders(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text.get(from..).and_then(|rest| rest.find("((")) {
        let start = from + open;
        let inner_start = start + 2;
        // Notify's pattern: `((` then no brackets, at least one character, then `))`.
        let inner_len = text[inner_start..]
            .find(['(', ')'])
            .unwrap_or(text.len() - inner_start);
        let inner_end = inner_start + inner_len;
        if inner_len > 0 && text[inner_end..].starts_with("))") {
            found.push((start, inner_end + 2, &text[inner_start..inner_end]));
            from = inner_end + 2;
        } else {
            from = start + 1;
        }
    }
    found
}

/// The placeholder's name: a conditional one's is the part before `??`.
fn name(inner: &str) -> &str {
    inner.split("??").next().unwrap_or(inner)
}

/// The value for a placeholder, as Notify finds it: `null` is no value.
fn value<'a>(values: &'a Map<String, Value>, placeholder: &str) -> Option<&'a Value> {
    let wanted = key(placeholder);
    values
        .iter()
        .find(|(k, v)| key(k) == wanted && !v.is_null())
        .map(|(_, v)| v)
}

/// The text a value puts in the message (Python's `str`).
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .filter(|v| !v.is_null())
                .map(text_of)
                .filter(|s| !s.trim().is_empty())
                .collect();
            if items.is_empty() {
                String::new()
            } else {
                format!("\n\n* {}", items.join("\n* "))
            }
        }
        other => py_repr(other),
    }
}

/// Notify's `str2bool`, which decides whether a conditional placeholder shows.
fn shows(value: &Value) -> bool {
    let text = text_of(value).to_lowercase();
    matches!(
        text.as_str(),
        "yes" | "y" | "true" | "t" | "1" | "include" | "show"
    )
}

/// The placeholders of `texts` with no value, in order, each once, as written.
pub fn missing(texts: &[&str], values: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for text in texts {
        for (_, _, inner) in placeholders(text) {
            let placeholder = name(inner);
            let seen = names.iter().any(|n| key(n) == key(placeholder));
            if !seen && value(values, placeholder).is_none() {
                names.push(placeholder.to_owned());
            }
        }
    }
    names
}

/// `text` with its placeholders filled, or the names missing (Notify's refusal).
pub fn render(text: &str, values: &Map<String, Value>) -> Result<String, Vec<String>> {
    let missing = missing(&[text], values);
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut out = String::new();
    let mut copied = 0;
    for (start, end, inner) in placeholders(text) {
        out.push_str(&text[copied..start]);
        if let Some(value) = value(values, name(inner)) {
            match inner.split_once("??") {
                Some((_, conditional)) if shows(value) => out.push_str(conditional),
                Some(_) => {}
                None => out.push_str(&text_of(value)),
            }
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok(out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sms_2_placeholders_are_filled_and_every_one_is_needed() {
        let given = values(json!({"Code": "ABC", "first name": "Amala", "minutes": 10}));
        assert_eq!(
            render(
                "Your code is ((code)), ((First_Name)), for ((minutes)).",
                &given
            )
            .unwrap(),
            "Your code is ABC, Amala, for 10."
        );
        assert_eq!(
            render(
                "((code)) ((Minutes)) ((Where)) ((where))",
                &values(json!({"minutes": null}))
            )
            .unwrap_err(),
            ["code", "Minutes", "Where"]
        );
        assert_eq!(render("((a)(b)) ((", &Map::new()).unwrap(), "((a)(b)) ((");
        let flag = |v: Value| values(json!({ "urgent": v }));
        assert_eq!(
            render("Hi((urgent?? now))", &flag(json!("yes"))).unwrap(),
            "Hi now"
        );
        assert_eq!(
            render("Hi((urgent?? now))", &flag(json!("no"))).unwrap(),
            "Hi"
        );
        assert_eq!(
            render("Hi((urgent?? now))", &flag(json!(true))).unwrap(),
            "Hi now"
        );
        assert!(render("Hi((urgent?? now))", &Map::new()).is_err());
        assert_eq!(
            render("£((x))é", &values(json!({"x": "ü"}))).unwrap(),
            "£üé"
        );
    }

    #[test]
    fn sms_2_the_template_file_is_checked() {
        let file = r#"[[template]]
id = "4A3B9A10-6D1E-4C5E-9D7A-2F1B8C3E5A01"
type = "sms"
name = "x"
body = "((code))"
"#;
        let templates = Templates::parse(file).unwrap();
        let id = "4a3b9a10-6d1e-4c5e-9d7a-2f1b8c3e5a01";
        assert_eq!(templates.template[0].id, id);
        assert!(templates.find(id, "sms").is_some());
        assert!(templates.find(id, "email").is_none());
        assert!(Templates::parse(&file.replace("sms", "fax")).is_err());
        assert!(Templates::parse(&file.replace("\"sms\"", "\"email\"")).is_err());
        assert!(Templates::parse(&file.replace("4A3B9A10-", "")).is_err());
    }
}
