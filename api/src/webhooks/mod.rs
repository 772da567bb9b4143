//! Webhooks for the province's other systems (Standard Webhooks): endpoints an administrator
//! registers, each with the read rights of one role (and agency); a message per committed event
//! written to the outbox in the change's own transaction (`events::outbox`); workers that sign,
//! send and retry them ([`worker`]); and the deliveries and attempts for the administrator.

pub mod worker;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{agency, webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::auth::{Caller, Permission, Role};
use crate::error::{ApiError, ApiResult};
use crate::events::WebhookEventKind;
use crate::graphql::outbox::new_secret;
use crate::graphql::relay::{NodeKind, decode_id, global_id};
use crate::graphql::write::{Write, audit};
use crate::state::State;

/// Longest a URL may be.
const MAX_URL: usize = 2000;
/// Longest a description may be.
const MAX_DESCRIPTION: usize = 500;
/// Endpoints at most (each costs a row per event).
const MAX_ENDPOINTS: u64 = 100;
/// Longest grace a rotated secret keeps signing.
const MAX_GRACE_HOURS: i32 = 7 * 24;

/// A registered receiver of webhooks.
pub struct WebhookEndpoint(webhook_endpoint::Model);

/// A registered receiver of webhooks.
#[Object]
impl WebhookEndpoint {
    /// Global id.
    async fn id(&self) -> ID {
        global_id(NodeKind::WebhookEndpoint, self.0.id)
    }
    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What the endpoint is for (the receiving system).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The events it receives, by name.
    async fn events(&self) -> Vec<WebhookEventKind> {
        kinds_of(&self.0.events)
    }
    /// The role whose read rights it has: it receives an event only when a token of that role
    /// (and agency) may see the rows the event names.
    async fn role(&self) -> Role {
        Role::parse(&self.0.role).unwrap_or(Role::Viewer)
    }
    /// For the AGENCY role: the agency's code.
    async fn agency_code(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(id) = self.0.agency_id else {
            return Ok(None);
        };
        Ok(crate::agencies::load_agency(ctx, id)
            .await?
            .map(|a| a.0.code.clone()))
    }
    /// Whether deliveries are made (an administrator disabled it, or it answered 410 Gone).
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why it was disabled.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Failed attempts in a row since the last success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// Whether it reads as failing (`CHIDAO_WEBHOOK_FAILING_AFTER` failures in a row).
    async fn failing(&self, ctx: &Context<'_>) -> bool {
        self.0.consecutive_failures >= State::of(ctx).webhooks.failing_after
    }
    /// Until when the secret before the last rotation still signs.
    async fn previous_secret_until(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret.as_ref().and(self.0.previous_secret_until)
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

fn kinds_of(stored: &str) -> Vec<WebhookEventKind> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| serde_json::from_value(serde_json::Value::String(s.to_owned())).ok())
        .collect()
}

/// The stored form of an endpoint's kinds (`,A,B,`); a role that sees no task (ANALYST)
/// may ask only for the other changes.
fn stored_kinds(kinds: &[WebhookEventKind], role: Role) -> ApiResult<String> {
    if kinds.is_empty() {
        return Err(ApiError::bad_input(
            "input.events",
            "Cần chọn ít nhất một loại sự kiện",
        ));
    }
    if role == Role::Analyst
        && let Some(k) = kinds.iter().find(|k| k.is_task_event())
    {
        return Err(ApiError::bad_input(
            "input.events",
            format!(
                "Vai trò ANALYST không xem được nhiệm vụ nên không nhận sự kiện {}; chọn DIRECTIVE_CREATED, INDICATOR_VALUE_RECORDED hoặc AGENCY_REORGANISED",
                k.name()
            ),
        ));
    }
    let mut names: Vec<String> = kinds.iter().map(|k| k.name()).collect();
    names.sort();
    names.dedup();
    Ok(format!(",{},", names.join(",")))
}

/// A delivery's state.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Retries used up, or the endpoint answered 410 Gone or was disabled.
    Failed,
    /// Not sent: the endpoint's role may not see the rows the event names (now).
    Skipped,
}

impl WebhookDeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
            Self::Skipped => "SKIPPED",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "DELIVERED" => Self::Delivered,
            "FAILED" => Self::Failed,
            "SKIPPED" => Self::Skipped,
            _ => Self::Pending,
        }
    }
}

/// One message to one endpoint, with its attempts.
pub struct WebhookDelivery {
    m: webhook_delivery::Model,
    attempts: Vec<webhook_attempt::Model>,
}

/// One message to one endpoint, with its attempts.
#[Object]
impl WebhookDelivery {
    /// Global id (for `redeliverWebhook`).
    async fn id(&self) -> ID {
        global_id(NodeKind::WebhookDelivery, self.m.id)
    }
    /// The Standard Webhooks `webhook-id`, the same on every attempt.
    async fn message_id(&self) -> &str {
        &self.m.msg_id
    }
    /// The envelope's `type`.
    async fn event_type(&self) -> &str {
        &self.m.event_type
    }
    /// The JSON body as sent.
    async fn payload(&self) -> &str {
        &self.m.payload
    }
    /// Where it stands.
    async fn state(&self) -> WebhookDeliveryState {
        WebhookDeliveryState::parse(&self.m.state)
    }
    /// Attempts made (or begun).
    async fn attempt_count(&self) -> i32 {
        self.m.attempts
    }
    /// When the next attempt is due (PENDING).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.m.state == "PENDING").then_some(self.m.next_attempt_at)
    }
    /// When the change that caused it committed.
    async fn created_at(&self) -> DateTime<Utc> {
        self.m.created_at
    }
    /// When the receiver answered 2xx.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.m.delivered_at
    }
    /// Every attempt, oldest first.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.attempts.iter().cloned().map(WebhookAttempt).collect()
    }
}

/// One try at sending a delivery.
pub struct WebhookAttempt(webhook_attempt::Model);

/// One try at sending a delivery.
#[Object]
impl WebhookAttempt {
    /// When it was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The receiver's HTTP status; null when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Milliseconds from its start to the answer (or the error).
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// What went wrong (a timeout, a refused connection, an address not allowed, the status).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// Input of `createWebhookEndpoint`.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// `https://` (or `http://` on the intranet) URL on a host of `CHIDAO_WEBHOOK_ALLOW_HOSTS`.
    pub url: String,
    /// What the endpoint is for (at most 500 characters).
    pub description: String,
    /// The events it receives (at least one).
    pub events: Vec<WebhookEventKind>,
    /// Whose read rights the endpoint has.
    pub role: Role,
    /// For the AGENCY role: the agency's code.
    pub agency_code: Option<String>,
}

/// Result of `createWebhookEndpoint` and `rotateWebhookSecret`.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown this once.
    pub secret: String,
}

/// Input of `updateWebhookEndpoint`: the fields given change.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// A new URL (checked as at creation).
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// The events it receives from now on.
    pub events: Option<Vec<WebhookEventKind>>,
    /// False disables it (no deliveries are made); true enables it again and clears its
    /// failures.
    pub enabled: Option<bool>,
}

/// Result of `updateWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint as it is now.
    pub endpoint: WebhookEndpoint,
}

/// Input of `rotateWebhookSecret`.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The endpoint.
    pub id: ID,
    /// How long the old secret keeps signing beside the new one (0–168 hours; default 24).
    #[graphql(default = 24)]
    pub grace_hours: i32,
}

/// Result of `deleteWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// Whether there was an endpoint to remove.
    pub deleted: bool,
}

/// Result of `redeliverWebhook`.
#[derive(SimpleObject)]
pub struct RedeliverWebhookPayload {
    /// The delivery, PENDING again.
    pub delivery: WebhookDelivery,
}

/// The administrator's reads of webhooks.
#[derive(Default)]
pub struct WebhookQuery;

/// The administrator's reads of webhooks.
#[Object]
impl WebhookQuery {
    /// Every registered endpoint (admin).
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let caller = Caller::of(ctx);
        caller.principal.role.require(Permission::Administer)?;
        let rows = caller
            .scope
            .find::<webhook_endpoint::Entity>()
            .order_by_asc(webhook_endpoint::Column::Id)
            .limit(MAX_ENDPOINTS)
            .all(State::reads_of(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(WebhookEndpoint).collect())
    }

    /// An endpoint's deliveries, newest first, with their attempts (admin).
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
        state: Option<WebhookDeliveryState>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<WebhookDelivery>> {
        let caller = Caller::of(ctx);
        caller.principal.role.require(Permission::Administer)?;
        let id = decode_id(&endpoint_id, NodeKind::WebhookEndpoint, "endpointId")?;
        if !(1..=200).contains(&first) {
            return Err(ApiError::bad_input("first", "first phải từ 1 đến 200").into());
        }
        let reads = State::reads_of(ctx);
        let mut q = caller
            .scope
            .find::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::EndpointId.eq(id));
        if let Some(s) = state {
            q = q.filter(webhook_delivery::Column::State.eq(s.as_str()));
        }
        let rows = q
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(first as u64)
            .all(reads)
            .await
            .map_err(ApiError::from)?;
        let ids: Vec<i32> = rows.iter().map(|d| d.id).collect();
        let attempts = caller
            .scope
            .find::<webhook_attempt::Entity>()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(reads)
            .await
            .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|m| WebhookDelivery {
                attempts: attempts
                    .iter()
                    .filter(|a| a.delivery_id == m.id)
                    .cloned()
                    .collect(),
                m,
            })
            .collect())
    }
}

/// The administrator's changes to webhooks.
#[derive(Default)]
pub struct WebhookMutation;

/// The administrator's changes to webhooks.
#[Object]
impl WebhookMutation {
    /// Registers an endpoint (admin). Its URL's host must be on `CHIDAO_WEBHOOK_ALLOW_HOSTS`;
    /// the signing secret is in the answer and nowhere else afterwards.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<WebhookSecretPayload> {
        Ok(create(ctx, input).await?)
    }

    /// Changes an endpoint's URL, description, events or whether it is enabled (admin).
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpointPayload> {
        Ok(update(ctx, input).await?)
    }

    /// A new signing secret (admin); the old one keeps signing beside it for `graceHours`, so
    /// receivers can switch without losing a message.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: RotateWebhookSecretInput,
    ) -> Result<WebhookSecretPayload> {
        Ok(rotate(ctx, input).await?)
    }

    /// Removes an endpoint and its deliveries (admin).
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteWebhookEndpointPayload> {
        Ok(delete(ctx, id).await?)
    }

    /// Sends a delivery again now, whatever its state (admin); its message id stays.
    async fn redeliver_webhook(&self, ctx: &Context<'_>, delivery_id: ID) -> Result<RedeliverWebhookPayload> {
        Ok(redeliver(ctx, delivery_id).await?)
    }
}

/// The URL, checked: http(s), no credentials, a host on the allow-list.
fn checked_url(state: &State, field: &str, url: &str) -> ApiResult<String> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(ApiError::bad_input(field, format!("URL dài quá {MAX_URL} ký tự")));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| ApiError::bad_input(field, "URL không hợp lệ (cần dạng https://máy-chủ/đường-dẫn)"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(ApiError::bad_input(field, "URL phải là http:// hoặc https://"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ApiError::bad_input(
            field,
            "URL không được chứa tên đăng nhập hay mật khẩu",
        ));
    }
    let Some(host) = parsed.host_str() else {
        return Err(ApiError::bad_input(field, "URL thiếu tên máy chủ"));
    };
    if !state.webhooks.allows(host) {
        return Err(ApiError::bad_input(
            field,
            format!("Máy chủ «{host}» không có trong danh sách được phép (CHIDAO_WEBHOOK_ALLOW_HOSTS)"),
        ));
    }
    Ok(parsed.to_string())
}

fn checked_description(d: &str) -> ApiResult<String> {
    let d = d.trim();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::bad_input(
            "input.description",
            format!("Mô tả dài quá {MAX_DESCRIPTION} ký tự"),
        ));
    }
    Ok(d.to_owned())
}

/// What an endpoint is audited as: everything but its secrets.
fn snap(m: &webhook_endpoint::Model) -> Option<String> {
    Some(
        serde_json::json!({
            "url": m.url, "description": m.description, "events": m.events, "role": m.role,
            "agency_id": m.agency_id, "enabled": m.enabled,
            "secret_rotated_until": m.previous_secret_until,
        })
        .to_string(),
    )
}

async fn create(ctx: &Context<'_>, input: CreateWebhookEndpointInput) -> ApiResult<WebhookSecretPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let state = State::of(ctx);
    let url = checked_url(state, "input.url", &input.url)?;
    let description = checked_description(&input.description)?;
    let events = stored_kinds(&input.events, input.role)?;
    let agency_id = match (input.role, input.agency_code.as_deref()) {
        (Role::Agency, Some(code)) => {
            let code = crate::graphql::input::agency_code("input.agencyCode", code)?;
            let found = crate::auth::scope::public::<agency::Entity>()
                .filter(agency::Column::Code.eq(code.as_str()))
                .one(&state.reads)
                .await?
                .ok_or_else(|| ApiError::bad_input("input.agencyCode", "Không có cơ quan với mã này"))?;
            Some(found.id)
        }
        (Role::Agency, None) => {
            return Err(ApiError::bad_input(
                "input.agencyCode",
                "Endpoint vai trò AGENCY cần mã cơ quan",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                "input.agencyCode",
                "Chỉ endpoint vai trò AGENCY mới có mã cơ quan",
            ));
        }
        (_, None) => None,
    };
    let w = Write::begin(ctx).await?;
    let count = caller
        .scope
        .find::<webhook_endpoint::Entity>()
        .count(&w.txn)
        .await
        .map_err(ApiError::from)?;
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::Conflict(format!(
            "Đã có {MAX_ENDPOINTS} endpoint, mức tối đa"
        )));
    }
    let secret = new_secret();
    let now = Utc::now();
    let m = webhook_endpoint::ActiveModel {
        url: Set(url),
        description: Set(description),
        events: Set(events),
        role: Set(input.role.as_str().to_owned()),
        agency_id: Set(agency_id),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(true),
        consecutive_failures: Set(0),
        disabled_reason: Set(None),
        created_by: Set(caller.principal.subject.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&w.txn)
    .await?;
    audit(
        &w,
        ctx,
        "createWebhookEndpoint",
        "webhook_endpoint",
        Some(m.id),
        None,
        snap(&m),
    )
    .await?;
    w.commit().await?;
    Ok(WebhookSecretPayload {
        endpoint: WebhookEndpoint(m),
        secret,
    })
}

async fn locked(w: &Write<'_>, caller: &Caller, id: &ID) -> ApiResult<webhook_endpoint::Model> {
    let id = decode_id(id, NodeKind::WebhookEndpoint, "input.id")?;
    caller
        .scope
        .find_by_id::<webhook_endpoint::Entity>(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("endpoint"))
}

async fn update(ctx: &Context<'_>, input: UpdateWebhookEndpointInput) -> ApiResult<WebhookEndpointPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let state = State::of(ctx);
    let url = input
        .url
        .as_deref()
        .map(|u| checked_url(state, "input.url", u))
        .transpose()?;
    let description = input
        .description
        .as_deref()
        .map(checked_description)
        .transpose()?;
    let w = Write::begin(ctx).await?;
    let before = locked(&w, caller, &input.id).await?;
    let role = Role::parse(&before.role).unwrap_or(Role::Viewer);
    let events = input
        .events
        .as_deref()
        .map(|k| stored_kinds(k, role))
        .transpose()?;
    let mut am = before.clone().into_active_model();
    if let Some(u) = url {
        am.url = Set(u);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(e) = events {
        am.events = Set(e);
    }
    match input.enabled {
        Some(true) => {
            am.enabled = Set(true);
            am.consecutive_failures = Set(0);
            am.disabled_reason = Set(None);
        }
        Some(false) => {
            am.enabled = Set(false);
            am.disabled_reason = Set(Some(format!("tắt bởi {}", caller.principal.subject)));
        }
        None => {}
    }
    am.updated_at = Set(Utc::now());
    let after = am.update(&w.txn).await?;
    audit(
        &w,
        ctx,
        "updateWebhookEndpoint",
        "webhook_endpoint",
        Some(after.id),
        snap(&before),
        snap(&after),
    )
    .await?;
    w.commit().await?;
    Ok(WebhookEndpointPayload {
        endpoint: WebhookEndpoint(after),
    })
}

async fn rotate(ctx: &Context<'_>, input: RotateWebhookSecretInput) -> ApiResult<WebhookSecretPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    if !(0..=MAX_GRACE_HOURS).contains(&input.grace_hours) {
        return Err(ApiError::bad_input(
            "input.graceHours",
            format!("Thời gian chuyển tiếp phải từ 0 đến {MAX_GRACE_HOURS} giờ"),
        ));
    }
    let w = Write::begin(ctx).await?;
    let before = locked(&w, caller, &input.id).await?;
    let secret = new_secret();
    let now = Utc::now();
    let mut am = before.clone().into_active_model();
    am.previous_secret = Set((input.grace_hours > 0).then(|| before.secret.clone()));
    am.previous_secret_until =
        Set((input.grace_hours > 0).then(|| now + chrono::Duration::hours(input.grace_hours.into())));
    am.secret = Set(secret.clone());
    am.updated_at = Set(now);
    let after = am.update(&w.txn).await?;
    audit(
        &w,
        ctx,
        "rotateWebhookSecret",
        "webhook_endpoint",
        Some(after.id),
        snap(&before),
        snap(&after),
    )
    .await?;
    w.commit().await?;
    Ok(WebhookSecretPayload {
        endpoint: WebhookEndpoint(after),
        secret,
    })
}

async fn delete(ctx: &Context<'_>, id: ID) -> ApiResult<DeleteWebhookEndpointPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let w = Write::begin(ctx).await?;
    let before = match locked(&w, caller, &id).await {
        Ok(m) => m,
        Err(ApiError::NotFound(_)) => return Ok(DeleteWebhookEndpointPayload { deleted: false }),
        Err(e) => return Err(e),
    };
    webhook_endpoint::Entity::delete_by_id(before.id)
        .exec(&w.txn)
        .await?;
    audit(
        &w,
        ctx,
        "deleteWebhookEndpoint",
        "webhook_endpoint",
        Some(before.id),
        snap(&before),
        None,
    )
    .await?;
    w.commit().await?;
    Ok(DeleteWebhookEndpointPayload { deleted: true })
}

async fn redeliver(ctx: &Context<'_>, delivery_id: ID) -> ApiResult<RedeliverWebhookPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let id = decode_id(&delivery_id, NodeKind::WebhookDelivery, "deliveryId")?;
    let w = Write::begin(ctx).await?;
    let m = caller
        .scope
        .find_by_id::<webhook_delivery::Entity>(id)
        .lock_exclusive()
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("lần gửi webhook"))?;
    let mut am = m.into_active_model();
    am.state = Set("PENDING".to_owned());
    am.next_attempt_at = Set(Utc::now());
    am.lease_until = Set(None);
    let m = am.update(&w.txn).await?;
    audit(
        &w,
        ctx,
        "redeliverWebhook",
        "webhook_delivery",
        Some(m.id),
        None,
        None,
    )
    .await?;
    w.commit().await?;
    State::of(ctx).events.wake_outbox();
    Ok(RedeliverWebhookPayload {
        delivery: WebhookDelivery {
            m,
            attempts: Vec::new(),
        },
    })
}
