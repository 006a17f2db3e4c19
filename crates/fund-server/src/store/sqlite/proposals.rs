//! Proposals on SQLite, in the ledger's file.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tillfund_core::ProposalId;
use tillfund_core::protocol::ProposalStatus;

use super::{SqliteStore, corrupt, parse, parse_optional};
use crate::operators::Actor;
use crate::store::StoreError;
use crate::store::proposal_store::{
    Decision, ProposalRecord, ProposalStore, status_from_text, status_text,
};

const COLUMNS: &str = "id, change, note, proposer_id, proposer_name, proposed_at_ms, \
    expires_at_ms, status, decider_id, decider_name, decided_at_ms, decision_note, outcome, \
    changes";

fn proposal_row(row: &SqliteRow) -> Result<ProposalRecord, StoreError> {
    let decider_id: Option<String> = row.try_get("decider_id")?;
    let decider_name: Option<String> = row.try_get("decider_name")?;
    Ok(ProposalRecord {
        id: parse(&row.try_get::<String, _>("id")?)?,
        change: serde_json::from_str(&row.try_get::<String, _>("change")?).map_err(corrupt)?,
        note: row.try_get("note")?,
        proposer: Actor {
            operator_id: Some(parse(&row.try_get::<String, _>("proposer_id")?)?),
            name: row.try_get("proposer_name")?,
        },
        proposed_at_ms: row.try_get("proposed_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        status: status_from_text(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
        decider: match decider_name {
            Some(name) => Some(Actor { operator_id: parse_optional(decider_id)?, name }),
            None => None,
        },
        decided_at_ms: row.try_get("decided_at_ms")?,
        decision_note: row.try_get("decision_note")?,
        outcome: row.try_get("outcome")?,
        changes: serde_json::from_str(&row.try_get::<String, _>("changes")?).map_err(corrupt)?,
    })
}

fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

impl ProposalStore for SqliteStore {
    async fn add_proposal(&self, proposal: &ProposalRecord) -> Result<(), StoreError> {
        let proposer_id = proposal.proposer.operator_id.ok_or_else(|| corrupt("no proposer"))?;
        sqlx::query(&format!(
            "INSERT INTO proposals (kind, {COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(proposal.change.kind())
        .bind(proposal.id.to_string())
        .bind(json(&proposal.change)?)
        .bind(&proposal.note)
        .bind(proposer_id.to_string())
        .bind(&proposal.proposer.name)
        .bind(proposal.proposed_at_ms)
        .bind(proposal.expires_at_ms)
        .bind(status_text(proposal.status))
        .bind(
            proposal.decider.as_ref().and_then(|actor| actor.operator_id).map(|id| id.to_string()),
        )
        .bind(proposal.decider.as_ref().map(|actor| actor.name.clone()))
        .bind(proposal.decided_at_ms)
        .bind(&proposal.decision_note)
        .bind(&proposal.outcome)
        .bind(json(&proposal.changes)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn proposal(&self, id: ProposalId) -> Result<Option<ProposalRecord>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM proposals WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(proposal_row)
            .transpose()
    }

    async fn proposals(
        &self,
        status: Option<ProposalStatus>,
        limit: u32,
    ) -> Result<Vec<ProposalRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM proposals WHERE (?1 IS NULL OR status = ?1) \
             ORDER BY proposed_at_ms DESC, id DESC LIMIT ?2"
        ))
        .bind(status.map(status_text))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(proposal_row)
        .collect()
    }

    async fn decide_proposal(
        &self,
        id: ProposalId,
        decision: Decision<'_>,
    ) -> Result<bool, StoreError> {
        let decider_id = decision.decider.operator_id.map(|id| id.to_string());
        let decided = sqlx::query(
            "UPDATE proposals SET status = ?2, decider_id = ?3, decider_name = ?4, \
               decided_at_ms = ?5, decision_note = ?6, changes = ?7 \
             WHERE id = ?1 AND status = 'pending' AND expires_at_ms > ?5 \
               AND (?2 <> 'approved' OR ?3 IS NULL OR proposer_id <> ?3)",
        )
        .bind(id.to_string())
        .bind(status_text(decision.to))
        .bind(decider_id)
        .bind(&decision.decider.name)
        .bind(decision.now_ms)
        .bind(decision.note)
        .bind(json(&decision.changes)?)
        .execute(&self.pool)
        .await?;
        Ok(decided.rows_affected() == 1)
    }

    async fn finish_proposal(
        &self,
        id: ProposalId,
        to: ProposalStatus,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        let finished = sqlx::query(
            "UPDATE proposals SET status = ?2, outcome = ?3 WHERE id = ?1 AND status = 'approved'",
        )
        .bind(id.to_string())
        .bind(status_text(to))
        .bind(outcome)
        .execute(&self.pool)
        .await?;
        Ok(finished.rows_affected() == 1)
    }
}
