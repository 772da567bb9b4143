//! A receiver of webhooks an administrator registered: its URL, the events it wants, whose
//! read rights it has, its signing secret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub url: String,
    pub description: String,
    /// The event kinds it receives, as `,KIND,KIND,` (one `LIKE` finds a kind).
    pub events: String,
    /// The role whose read rights it has (`admin`, `monitor`, `viewer`, `agency`).
    pub role: String,
    /// For the `agency` role: the agency.
    pub agency_id: Option<i32>,
    /// `whsec_` and the base64 of the key.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub enabled: bool,
    pub consecutive_failures: i32,
    /// Why it was disabled (an administrator; 410 Gone).
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
