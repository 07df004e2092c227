//! OPS-1: the schemas of the values whose JSON is a string (or a list) checked by a
//! parser, written by hand: utoipa's derive would describe the Rust type (`FixedHex`'s
//! byte array), not what crosses the wire. Each says what its parser takes — never less,
//! so a value the server accepts is never "outside the schema".

use std::borrow::Cow;

use utoipa::__dev::ComposeSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::ToSchema;

use crate::audit::{ActionFilter, OutcomeWord};
use crate::passcode::{CardPasscode, CARD_PASSCODE_MAX, CARD_PASSCODE_MIN};
use crate::passcodes::{AccountPasscode, ACCOUNT_PASSCODE_MAX, ACCOUNT_PASSCODE_MIN};
use crate::ra::{Reason, ReportId, UserUuid};
use crate::recovery::{FamilyName, OneTimePasscode, TypedCode, FAMILY_NAME_MAX_CHARS};
use crate::values::{
    BoundedHex, BoundedVec, FixedHex, SecurityAnswer, UnlockCode, SECURITY_ANSWER_MAX_CHARS,
};

/// A string schema: its description, and what the parser holds it to.
#[derive(Default)]
struct Text {
    description: &'static str,
    pattern: Option<String>,
    min: Option<usize>,
    max: Option<usize>,
    secret: bool,
}

impl Text {
    fn schema(self) -> RefOr<Schema> {
        let mut text = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(self.description))
            .pattern(self.pattern)
            .min_length(self.min)
            .max_length(self.max);
        if self.secret {
            text = text.format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)));
        }
        text.into()
    }
}

macro_rules! text_schema {
    ($($ty:ty => $name:literal, $text:expr;)*) => {$(
        impl ComposeSchema for $ty {
            fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
                $text.schema()
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    )*};
}

fn pattern(pattern: &str) -> Option<String> {
    Some(pattern.to_owned())
}

text_schema! {
    UnlockCode => "UnlockCode", Text {
        description: "A 6-digit code (surrounding spaces ignored).",
        pattern: pattern(r"^\s*[0-9]{6}\s*$"),
        secret: true,
        ..Text::default()
    };
    SecurityAnswer => "SecurityAnswer", Text {
        description: "An answer to a security question.",
        max: Some(SECURITY_ANSWER_MAX_CHARS),
        secret: true,
        ..Text::default()
    };
    UserUuid => "UserUuid", Text {
        description: "A User's Unique Identifier: 12 digits.",
        pattern: pattern(r"^\s*[0-9]{12}\s*$"),
        ..Text::default()
    };
    Reason => "Reason", Text {
        description: "Why an RA acted: 3 to 500 characters, no control characters but \
                      line breaks.",
        max: Some(crate::ra::REASON_MAX_CHARS + 64),
        ..Text::default()
    };
    ReportId => "ReportId", Text {
        description: "A report's id: 64 lowercase hex characters.",
        pattern: pattern("^[0-9a-f]{64}$"),
        ..Text::default()
    };
    FamilyName => "FamilyName", Text {
        description: "A family name as on the user's record (case and accents aside).",
        max: Some(FAMILY_NAME_MAX_CHARS + 64),
        ..Text::default()
    };
    OneTimePasscode => "OneTimePasscode", Text {
        description: "A 12-character One Time Passcode; any case, spaces and dashes ignored.",
        pattern: pattern(r"^[A-Za-z0-9 \t-]+$"),
        secret: true,
        ..Text::default()
    };
    TypedCode => "TypedCode", Text {
        description: "A code as typed: 6 digits, or a 12-character One Time Passcode.",
        secret: true,
        ..Text::default()
    };
    CardPasscode => "CardPasscode", Text {
        description: "A card passcode: standard keyboard characters.",
        pattern: pattern("^[ -~]*$"),
        min: Some(CARD_PASSCODE_MIN),
        max: Some(CARD_PASSCODE_MAX),
        secret: true,
    };
    AccountPasscode => "AccountPasscode", Text {
        description: "An Account Recovery or Verification Passcode: standard keyboard \
                      characters.",
        pattern: pattern("^[ -~]*$"),
        min: Some(ACCOUNT_PASSCODE_MIN),
        max: Some(ACCOUNT_PASSCODE_MAX),
        secret: true,
    };
    ActionFilter => "ActionFilter", Text {
        description: "An audit action (`unlock.start`), or an area ending in a dot (`unlock.`).",
        pattern: pattern(r"^\s*[a-z_]+\.[a-z_.]*\s*$"),
        ..Text::default()
    };
    OutcomeWord => "OutcomeWord", Text {
        description: "An audit outcome: `ok` or an error code.",
        pattern: pattern("^[a-z_]+$"),
        ..Text::default()
    };
}

/// Every server-made id: `bytes` bytes as lowercase hex.
pub(crate) fn row_id_schema(bytes: usize) -> RefOr<Schema> {
    Text {
        description: "A server-made id: lowercase hex characters.",
        pattern: Some(format!("^[0-9a-f]{{{}}}$", bytes * 2)),
        ..Text::default()
    }
    .schema()
}

impl<const N: usize> ComposeSchema for FixedHex<N> {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        Text {
            description: "Bytes as hex.",
            pattern: Some(format!("^[0-9a-fA-F]{{{}}}$", N * 2)),
            ..Text::default()
        }
        .schema()
    }
}

impl<const N: usize> ToSchema for FixedHex<N> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Hex{N}Bytes"))
    }
}

impl<const MAX: usize, const MIN: usize> ComposeSchema for BoundedHex<MAX, MIN> {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        Text {
            description: "Bytes as hex.",
            pattern: pattern("^([0-9a-fA-F]{2})*$"),
            min: Some(MIN * 2),
            max: Some(MAX * 2),
            ..Text::default()
        }
        .schema()
    }
}

impl<const MAX: usize, const MIN: usize> ToSchema for BoundedHex<MAX, MIN> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("HexUpTo{MAX}Bytes"))
    }
}

impl<T: ToSchema, const MAX: usize, const MIN: usize> ComposeSchema for BoundedVec<T, MAX, MIN> {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(T::schema())
            .min_items(Some(MIN))
            .max_items(Some(MAX))
            .into()
    }
}

impl<T: ToSchema, const MAX: usize, const MIN: usize> ToSchema for BoundedVec<T, MAX, MIN> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}List{MIN}To{MAX}", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}
