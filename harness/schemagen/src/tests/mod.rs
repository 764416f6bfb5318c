//! Crate-level tests over the fixture schemas below.

mod errors;
mod generation;
mod malformed;

use std::path::Path;

use crate::InputSchema;

pub(super) const ORDERS: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.com/orders.schema.json",
  "title": "Order event",
  "type": "object",
  "properties": {
    "order_id": {"type": "string", "maxLength": 40},
    "event_id": {"type": "string"},
    "status": {"type": "string", "enum": ["created", "paid", "shipped", "cancelled"]},
    "amount_cents": {"type": "integer", "minimum": 0, "maximum": 1000000000},
    "updated_at": {"type": "string", "format": "date-time"},
    "version": {"type": "integer", "minimum": 1},
    "note": {"type": ["string", "null"], "maxLength": 20},
    "discount": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
    "items": {"type": "array", "minItems": 1, "maxItems": 8, "items": {"$ref": "#/$defs/item"}},
    "customer": {
      "type": "object",
      "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "vip": {"type": "boolean"}
      },
      "required": ["id"],
      "additionalProperties": false
    }
  },
  "required": ["order_id", "event_id", "status", "amount_cents", "updated_at", "version", "items", "customer"],
  "$defs": {
    "item": {
      "type": "object",
      "properties": {
        "sku": {"type": "string", "pattern": "^SKU-[0-9]{4}$"},
        "qty": {"type": "integer", "minimum": 1, "maximum": 10}
      },
      "required": ["sku", "qty"]
    }
  }
}"##;

pub(super) const ORDERS_AVRO: &str = r#"{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "order_id", "type": "string"},
    {"name": "event_id", "type": "string"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["CREATED", "PAID", "SHIPPED"]}},
    {"name": "amount", "type": "long"},
    {"name": "ratio", "type": "double"},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "int"}},
    {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "trace", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "version", "type": "int"},
    {"name": "payload", "type": "bytes"},
    {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
      {"name": "id", "type": "long"},
      {"name": "tier", "type": "Status"},
      {"name": "code", "type": {"type": "fixed", "name": "Code", "size": 4}}
    ]}}
  ]
}"#;

pub(super) fn orders() -> InputSchema {
    InputSchema::from_json_schema(ORDERS, Path::new("orders.schema.json")).unwrap()
}

pub(super) fn orders_avro() -> InputSchema {
    InputSchema::from_avro(ORDERS_AVRO, Path::new("orders.avsc")).unwrap()
}

/// A JSON Schema with no enum, no required field and an open object.
pub(super) fn loose() -> InputSchema {
    let text =
        r#"{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}"#;
    InputSchema::from_json_schema(text, Path::new("loose.json")).unwrap()
}
