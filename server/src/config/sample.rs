//! The sample configuration an operator starts from (`deploy/smartcard-server.toml`)
//! lists every setting with its default: checked here, so it cannot fall behind.

use std::collections::BTreeSet;

use serde::de::{self, Deserialize, Visitor};

use super::Settings;

const SAMPLE: &str = include_str!("../../../deploy/smartcard-server.toml");

/// A deserializer that only asks a struct for its field names.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

#[derive(Debug)]
struct Named;

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("names taken")
    }
}

impl std::error::Error for Named {}

impl de::Error for Named {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Named
    }
}

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = Named;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Named> {
        Err(Named)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Named> {
        self.0.extend_from_slice(fields);
        Err(Named)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

fn field_names<'de, T: Deserialize<'de>>() -> BTreeSet<&'static str> {
    let mut names = Vec::new();
    let _ = T::deserialize(FieldNames(&mut names));
    names.into_iter().collect()
}

/// Each `name =` and `[table]` in the sample, commented out or not.
fn named_in_sample() -> BTreeSet<&'static str> {
    SAMPLE
        .lines()
        .map(|line| line.trim_start_matches('#').trim())
        .filter_map(|line| {
            let table = line.strip_prefix('[').and_then(|l| l.strip_suffix(']'));
            table.or_else(|| line.split_once(" = ").map(|(name, _)| name))
        })
        .filter(|name| {
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        .collect()
}

#[test]
fn ops_3_the_sample_configuration_names_every_setting() {
    let settings = field_names::<Settings>();
    assert!(settings.len() > 30, "{settings:?}");
    let named = named_in_sample();
    let missing: Vec<_> = settings.difference(&named).collect();
    assert!(missing.is_empty(), "not in the sample: {missing:?}");
    let expiry = field_names::<api_types::passcodes::PasscodeExpiry>();
    assert!(expiry.is_subset(&named));
}

#[test]
fn ops_3_the_sample_configuration_says_the_defaults() {
    let sample: Settings = toml::from_str(SAMPLE).expect("the sample parses");
    assert_eq!(format!("{sample:?}"), format!("{:?}", Settings::default()));
    let defaults = Settings::default();
    assert_eq!(sample.ra_help, defaults.ra_help);
    assert_eq!(
        sample.approved_email_domains,
        defaults.approved_email_domains
    );
    assert_eq!(sample.argon2_memory_kib, defaults.argon2_memory_kib);
    assert_eq!(sample.shutdown_grace_secs, defaults.shutdown_grace_secs);
    assert_eq!(sample.jobs_interval_secs, defaults.jobs_interval_secs);
}
