//! The committed `openapi.json` is what the server serves; regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p fund-server --test openapi` after changing the API.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn committed_openapi_document_matches_the_code() {
    let generated = fund_server::http::openapi_document().to_pretty_json().unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run `UPDATE_OPENAPI=1 cargo test -p fund-server --test openapi` and commit it",
        path.display()
    );
}

#[test]
fn every_documented_operation_has_an_id_and_a_tag() {
    let document = serde_json::to_value(fund_server::http::openapi_document()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/healthz"));
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["operationId"].is_string(), "{method} {path} has no operationId");
            assert!(operation["tags"].is_array(), "{method} {path} has no tag");
        }
    }
}
