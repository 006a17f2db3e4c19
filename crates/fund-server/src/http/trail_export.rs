//! The operators' trail as CSV, for the auditor's spreadsheet.
//!
//! Every text in the trail may have been typed by a stranger (a name tried at sign-in), so
//! every cell is quoted and a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
//! tab, carriage return first) starts with an apostrophe instead (OWASP's advice against
//! CSV injection).

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use tillfund_core::protocol::TrailRecordBody;

use super::extract::ApiQuery;
use super::operators::{OperatorCall, TrailParams, trail_record_body};
use super::{ApiError, AppState, ErrorBody};
use crate::service::{Caller, RequestSource, ServiceError, TRAIL_PAGE_MAX, TrailQuery};

/// Records one export holds at most; a longer period is exported in parts (by time).
pub const EXPORT_RECORDS_MAX: usize = 20_000;

const HEADER: [&str; 10] = [
    "sequence",
    "at_utc",
    "operator_id",
    "operator_name",
    "source",
    "action",
    "subject",
    "detail",
    "outcome",
    "hash",
];

/// The trail as CSV, oldest of the page last like the JSON (approvers and administrators).
#[utoipa::path(
    get, path = "/v1/operator/trail.csv", tag = "operator",
    params(TrailParams),
    responses(
        (status = 200, description = "The records, newest first, as CSV", content_type = "text/csv", body = String),
        (status = 400, description = "query_invalid", body = ErrorBody),
        (status = 401, description = "operator_session_invalid", body = ErrorBody),
        (status = 403, description = "operator_forbidden", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn trail_csv(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<TrailParams>,
) -> Result<Response, ApiError> {
    let wanted =
        params.limit.map_or(EXPORT_RECORDS_MAX, |limit| (limit as usize).min(EXPORT_RECORDS_MAX));
    let query = params.query(TRAIL_PAGE_MAX)?;
    Ok(export(&state, &call.caller(), &call.source, query, wanted).await?)
}

/// The trail's records matching `query` (its limit is the page size), newest first, at
/// most `wanted`, as a CSV download: the API's export and the console's.
pub(super) async fn export(
    state: &AppState,
    caller: &Caller,
    source: &RequestSource,
    mut query: TrailQuery,
    wanted: usize,
) -> Result<Response, ServiceError> {
    let mut records = Vec::new();
    while records.len() < wanted {
        let page = state.service().operator_trail(caller, source, query.clone()).await?;
        let full = page.len() == query.limit as usize;
        query.before_sequence = page.last().map(|record| record.sequence);
        records.extend(page.into_iter().map(trail_record_body));
        if !full {
            break;
        }
    }
    records.truncate(wanted);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"operator-trail.csv\""),
        ],
        to_csv(&records),
    )
        .into_response())
}

/// The records as CSV (RFC 4180, CRLF line ends), every cell quoted and defused.
pub fn to_csv(records: &[TrailRecordBody]) -> String {
    let mut csv = String::new();
    push_row(&mut csv, HEADER.iter().map(|field| field.to_string()));
    for record in records {
        let at = jiff::Timestamp::from_millisecond(record.at_ms)
            .map(|at| at.to_string())
            .unwrap_or_else(|_| record.at_ms.to_string());
        push_row(
            &mut csv,
            [
                record.sequence.to_string(),
                at,
                record.operator_id.map(|id| id.to_string()).unwrap_or_default(),
                record.operator_name.clone(),
                record.source.clone(),
                record.action.as_str().to_owned(),
                record.subject.clone(),
                record.detail.clone(),
                record.outcome.clone(),
                record.hash.clone(),
            ]
            .into_iter(),
        );
    }
    csv
}

fn push_row(csv: &mut String, cells: impl Iterator<Item = String>) {
    for (index, cell) in cells.enumerate() {
        if index > 0 {
            csv.push(',');
        }
        csv.push('"');
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            csv.push('\'');
        }
        csv.push_str(&cell.replace('"', "\"\""));
        csv.push('"');
    }
    csv.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillfund_core::protocol::OperatorAction;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let record = TrailRecordBody {
            sequence: 7,
            at_ms: 1_764_000_000_000,
            operator_id: None,
            operator_name: "=HYPERLINK(\"http://evil\")".into(),
            source: "10.0.0.1".into(),
            action: OperatorAction::SignIn,
            subject: "operator:x, \"y\"\nz".into(),
            detail: "-2+3".into(),
            outcome: "operator_sign_in_failed".into(),
            hash: "ab".into(),
        };
        let csv = to_csv(&[record]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "\"sequence\",\"at_utc\",\"operator_id\",\"operator_name\",\"source\",\"action\",\
             \"subject\",\"detail\",\"outcome\",\"hash\""
        );
        let row = lines.next().unwrap();
        assert!(row.starts_with("\"7\",\"2025-11-24T16:00:00Z\",\"\","), "{row}");
        assert!(row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{row}");
        assert!(row.contains("\"operator:x, \"\"y\"\"\nz\""), "{row}");
        assert!(row.contains("\"'-2+3\""), "{row}");
        assert!(csv.ends_with("\"ab\"\r\n"));
    }
}
