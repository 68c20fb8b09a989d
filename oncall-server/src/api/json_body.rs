//! A JSON response written with serde straight into the response bytes.
//!
//! poem-openapi's `Json<T>` writes a response by first building a
//! `serde_json::Value` tree of it (`ToJSON`: a `BTreeMap` node and a `String`
//! per field) and then serialising that tree: for a page of 20 tickets, several
//! hundred allocations that the bytes do not need. [`JsonBody`] documents the
//! same schema as `Json<T>` (the OpenAPI document does not change) but writes
//! `T`'s own `serde::Serialize`, which must produce the bytes `ToJSON` would: the
//! tests of each such type compare the two.

use chrono::format::{Fixed, Item};
use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

/// A JSON body with `T`'s OpenAPI schema, written by `T: Serialize`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// Bytes to reserve before serialising: a guess at the body's size, so that a
/// typical page is written without growing the buffer several times.
pub trait SizeHint {
    /// About how many bytes the JSON of `self` takes.
    fn json_size_hint(&self) -> usize;
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// poem-openapi's content type for JSON responses.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Serialize + SizeHint + Send> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let mut bytes = Vec::with_capacity(self.0.json_size_hint());
        match serde_json::to_writer(&mut bytes, &self.0) {
            Ok(()) => Response::builder().content_type(CONTENT_TYPE).body(bytes),
            Err(e) => {
                tracing::error!(error = %e, "writing a JSON response");
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .content_type(CONTENT_TYPE)
                    .body(r#"{"code":"internal","message":"internal error"}"#)
            }
        }
    }
}

// `ToJSON` is required only so that the documented response is exactly the one
// `Json<T>` documents (and so that tests can compare the two encodings).
impl<T: ToJSON + Serialize + SizeHint + Send> ApiResponse for JsonBody<T> {
    fn meta() -> MetaResponses {
        <Json<T> as ApiResponse>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}

/// A UTC time written as `DateTime::to_rfc3339` writes it (how poem-openapi
/// encodes `DateTime<Utc>`: `2026-01-02T03:04:05.123456+00:00`), without
/// allocating a `String` for it.
#[derive(Debug)]
pub struct Rfc3339<'a>(pub &'a DateTime<Utc>);

impl Serialize for Rfc3339<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const ITEMS: [Item<'static>; 1] = [Item::Fixed(Fixed::RFC3339)];
        let mut buf = StackText::default();
        match self.0.format_with_items(ITEMS.iter()).write_to(&mut buf) {
            Ok(()) => s.serialize_str(buf.as_str()),
            // Longer than the buffer (it holds the longest chrono can write): the
            // allocating way.
            Err(_) => s.serialize_str(&self.0.to_rfc3339()),
        }
    }
}

/// A short text built on the stack.
#[derive(Debug)]
struct StackText {
    buf: [u8; 48],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this cannot fail.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
