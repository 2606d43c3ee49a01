//! The OpenAPI 3 document of the keeper's HTTP API ([`crate::ingest`]), served at
//! `GET /openapi.json` and committed as `docs/openapi.json` (`scripts/check-openapi.sh` fails
//! when it drifts; `opg keeper openapi` prints it).
//!
//! The schemas are generated from the handlers' request and response types with schemars (the
//! same generator as the contract schemas; its OpenAPI 3.0 settings put them under
//! `#/components/schemas`); the paths are listed here beside the router. Every error answers
//! [`ErrorBody`] (`default` response), except the facilitator's verdicts, which answer
//! [`VerifyResponse`] even on `400`.
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{json, Value};

use crate::facilitator::{SettleResponse, SupportedResponse, VerifyRequest, VerifyResponse};
use crate::ingest::{EpochResponse, ErrorBody, HealthResponse, ReceiptsResponse};
use crate::store::StoredReceipt;
use opg_core::receipt::SignedReceipt;

/// A JSON body of schema `schema`.
fn body(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// A response described by `description` with a JSON body of schema `schema`.
fn response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": body(schema) })
}

/// The `$ref` (or inline schema) of `T`, registering its definitions with `gen`.
fn schema<T: JsonSchema>(gen: &mut SchemaGenerator) -> Value {
    serde_json::to_value(gen.subschema_for::<T>()).expect("a schema serializes")
}

/// The document (OpenAPI 3.0.3).
pub fn document() -> Value {
    let mut gen = SchemaSettings::openapi3().into_generator();
    let error = schema::<ErrorBody>(&mut gen);
    let default = response("Error: a message naming the problem.", error.clone());
    let receipt = schema::<SignedReceipt>(&mut gen);
    let results = schema::<ReceiptsResponse>(&mut gen);
    let stored = schema::<StoredReceipt>(&mut gen);
    let epoch = schema::<EpochResponse>(&mut gen);
    let health = schema::<HealthResponse>(&mut gen);
    let verify_req = schema::<VerifyRequest>(&mut gen);
    let verdict = schema::<VerifyResponse>(&mut gen);
    let supported = schema::<SupportedResponse>(&mut gen);
    let settle = schema::<SettleResponse>(&mut gen);
    let text = |d: &str| json!({ "description": d, "content": { "text/plain": { "schema": { "type": "string" } } } });
    let html = |d: &str| json!({ "description": d, "content": { "text/html": { "schema": { "type": "string" } } } });
    let epoch_param = json!({
        "name": "epoch", "in": "path", "required": true,
        "schema": { "type": "integer", "format": "uint64", "minimum": 0, "maximum": u64::MAX },
    });
    let paths = json!({
        "/v1/receipts": { "post": {
            "operationId": "postReceipts",
            "summary": "Submit one signed receipt or an array of them.",
            "description": "Each receipt is verified and, when valid, stored durably before the answer. 202 when at least one was stored (or already was); 422 when all were rejected; 503 + Retry-After when none was stored and some were deferred (their epoch's window is closing), or when the keeper is overloaded; 400 for a malformed body (the message names the JSON path of the bad field); 413 over the body limit; 415 without Content-Type: application/json; 429 + Retry-After over the rate limit.",
            "requestBody": { "required": true, "content": body(json!({
                "oneOf": [receipt.clone(), { "type": "array", "items": receipt, "minItems": 1 }]
            })) },
            "responses": {
                "202": response("At least one receipt stored (or already stored): per-receipt results.", results.clone()),
                "422": response("Every receipt rejected, each with its reason.", results.clone()),
                "503": response("Nothing stored: receipts deferred (per-receipt results), or the keeper is overloaded or cannot reach the chain (an error).", json!({ "oneOf": [results, error.clone()] })),
                "default": default.clone(),
            },
        } },
        "/v1/receipts/{payer}/{nonce}": { "get": {
            "operationId": "getReceipt",
            "summary": "Where a stored receipt stands.",
            "parameters": [
                { "name": "payer", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Lowercase 0x address." },
                { "name": "nonce", "in": "path", "required": true, "schema": { "type": "string" }, "description": "EIP-3009 nonce, lowercase 0x + 64 hex." },
            ],
            "responses": { "200": response("The stored receipt.", stored), "default": default.clone() },
        } },
        "/v1/epochs/{epoch}": { "get": {
            "operationId": "getEpoch",
            "summary": "The keeper's receipts and finalize record of an epoch, and the pool's report.",
            "description": "404 for an epoch that has not started.",
            "parameters": [epoch_param.clone()],
            "responses": { "200": response("The epoch.", epoch), "default": default.clone() },
        } },
        "/healthz": { "get": {
            "operationId": "healthz",
            "summary": "The chain's latest block; 503 when the chain does not answer.",
            "responses": { "200": response("The chain answers.", health), "default": default.clone() },
        } },
        "/metrics": { "get": {
            "operationId": "metrics",
            "summary": "Prometheus text (version 0.0.4).",
            "responses": { "200": text("Counters, histograms and gauges."), "default": default.clone() },
        } },
        "/openapi.json": { "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": { "200": response("OpenAPI 3.0.3.", json!({ "type": "object" })), "default": default.clone() },
        } },
        "/verify": { "post": {
            "operationId": "verify",
            "summary": "x402 facilitator /verify: the verdict on a payment, offline, at the keeper's clock.",
            "requestBody": { "required": true, "content": body(verify_req) },
            "responses": {
                "200": response("The verdict (valid or not: see isValid).", verdict.clone()),
                "400": response("The body is not JSON: an invalid verdict.", verdict),
                "default": default.clone(),
            },
        } },
        "/supported": { "get": {
            "operationId": "supported",
            "summary": "x402 facilitator /supported: the kinds for the networks the verifier config accepts.",
            "responses": { "200": response("x402 v2 SupportedResponse.", supported), "default": default.clone() },
        } },
        "/settle": { "post": {
            "operationId": "settle",
            "summary": "x402 facilitator /settle: refused (501), the keeper verifies but never settles.",
            "requestBody": { "required": false, "content": body(json!({ "type": "object" })) },
            "responses": { "501": response("Not supported.", settle), "default": default.clone() },
        } },
        "/": { "get": {
            "operationId": "transparencyIndex",
            "summary": "The transparency page (HTML).",
            "responses": { "200": html("The page."), "default": html("An error page.") },
        } },
        "/epochs/{epoch}": { "get": {
            "operationId": "transparencyEpoch",
            "summary": "The transparency page of one epoch (HTML).",
            "parameters": [epoch_param],
            "responses": { "200": html("The page."), "default": html("An error page.") },
        } },
    });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "opg keeper",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The keeper's HTTP API: receipts in, their state and the epochs' out, and x402 facilitator-compatible /verify. Errors answer {\"error\": \"...\"}.",
        },
        "paths": paths,
        "components": { "schemas": gen.take_definitions() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` resolves to a component.
    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap().clone();
        fn walk(v: &Value, schemas: &serde_json::Map<String, Value>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let name = r.strip_prefix("#/components/schemas/").unwrap();
                        assert!(schemas.contains_key(name), "{r}");
                    }
                    m.values().for_each(|x| walk(x, schemas));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, schemas)),
                _ => {}
            }
        }
        walk(&doc, &schemas);
        for name in [
            "SignedReceipt",
            "IngestResult",
            "EpochResponse",
            "ErrorBody",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
