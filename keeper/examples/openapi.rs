//! Prints the keeper's OpenAPI document (`opg_keeper::openapi::document`) as pretty JSON:
//! `scripts/openapi.sh` writes it to `docs/openapi.json`, `scripts/check-openapi.sh` checks it.
fn main() {
    let doc = opg_keeper::openapi::document();
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("the document serializes")
    );
}
