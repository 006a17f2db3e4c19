//! A store's staff on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;
use tillfund_core::{MerchantId, StaffId, TerminalId};

use super::{PgStore, parse};
use crate::store::StoreError;
use crate::store::staff_store::{
    PutStaffOutcome, StaffRecord, StaffStore, StoredStaff, decide_put,
};

const COLUMNS: &str = "staff_id, name, role, pin_hash, active, sequence, changed_by, changed_at_ms";

fn staff_row(row: &PgRow) -> Result<StoredStaff, StoreError> {
    Ok(StoredStaff {
        staff_id: parse(&row.try_get::<String, _>("staff_id")?)?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        pin_hash: row.try_get("pin_hash")?,
        active: row.try_get::<i64, _>("active")? == 1,
        sequence: row.try_get("sequence")?,
        changed_by: parse(&row.try_get::<String, _>("changed_by")?)?,
        changed_at_ms: row.try_get("changed_at_ms")?,
    })
}

impl StaffStore for PgStore {
    async fn put_staff(
        &self,
        merchant_id: MerchantId,
        staff_id: StaffId,
        record: &StaffRecord,
        changed_by: TerminalId,
        limit: i64,
        now_ms: i64,
    ) -> Result<PutStaffOutcome, StoreError> {
        // One change at a time (all stores: staff change rarely): the checks and the write
        // see one state, and the next sequence is taken once.
        let mut transaction = self.pool.begin().await?;
        sqlx::query("LOCK TABLE store_staff IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *transaction)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM store_staff WHERE merchant_id = $1 ORDER BY sequence"
        ))
        .bind(merchant_id.to_string())
        .fetch_all(&mut *transaction)
        .await?;
        let members = rows.iter().map(staff_row).collect::<Result<Vec<_>, _>>()?;
        match decide_put(staff_id, record, &members, changed_by, limit) {
            Ok(Some(unchanged)) => return Ok(PutStaffOutcome::Kept(unchanged)),
            Ok(None) => {}
            Err(refused) => return Ok(refused.into()),
        }
        let sequence: i64 =
            sqlx::query_scalar("SELECT coalesce(max(sequence), 0) + 1 FROM store_staff")
                .fetch_one(&mut *transaction)
                .await?;
        sqlx::query(
            "INSERT INTO store_staff (merchant_id, staff_id, name, role, pin_hash, active, \
             sequence, changed_by, changed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (merchant_id, staff_id) DO UPDATE SET name = excluded.name, \
             role = excluded.role, pin_hash = excluded.pin_hash, active = excluded.active, \
             sequence = excluded.sequence, changed_by = excluded.changed_by, \
             changed_at_ms = excluded.changed_at_ms",
        )
        .bind(merchant_id.to_string())
        .bind(staff_id.to_string())
        .bind(&record.name)
        .bind(&record.role)
        .bind(&record.pin_hash)
        .bind(i64::from(record.active))
        .bind(sequence)
        .bind(changed_by.to_string())
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(PutStaffOutcome::Kept(StoredStaff {
            staff_id,
            name: record.name.clone(),
            role: record.role.clone(),
            pin_hash: record.pin_hash.clone(),
            active: record.active,
            sequence,
            changed_by,
            changed_at_ms: now_ms,
        }))
    }

    async fn staff_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<StoredStaff>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM store_staff WHERE merchant_id = $1 AND sequence > $2 \
             ORDER BY sequence LIMIT $3"
        ))
        .bind(merchant_id.to_string())
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_row).collect()
    }
}
