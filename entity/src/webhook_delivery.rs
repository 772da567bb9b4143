//! One message to one webhook endpoint (the outbox): written in the transaction of the change
//! that caused it, sent and retried by the delivery workers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub endpoint_id: i32,
    /// The Standard Webhooks `webhook-id` (the same on every retry).
    pub msg_id: String,
    /// The envelope's `type` (`task.report_submitted`).
    pub event_type: String,
    /// The JSON body, exactly as sent.
    pub payload: String,
    /// `PENDING`, `DELIVERED`, `FAILED` (retries used up, or the endpoint is gone), `SKIPPED`
    /// (the endpoint may no longer see the rows).
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While a worker sends it, until when the row is its own.
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
