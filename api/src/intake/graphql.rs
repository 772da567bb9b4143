//! Directive intake through the API, for the document system (admin):
//! `importDirective(input: {text | docxBase64, dryRun})` answers the draft as data (tasks,
//! assignments, deadlines, doubts) and as the seed file a clerk edits; `publishDirectiveDraft
//! (input: {yaml})` writes an edited draft in one transaction, as `chidao seed` would load it.
//! The names are resolved against the agencies in the database (the directory as it is now).

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use entity::{agency, agency_group, agency_group_member, agency_succession, directive};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};

use super::{Draft, TaskDraft};
use crate::auth::scope::public;
use crate::auth::{Caller, Permission};
use crate::directives::{Directive, DirectiveKind};
use crate::error::{ApiError, ApiResult};
use crate::events::{EventKind, OtherEvent};
use crate::graphql::scalars::{Date, DocumentText};
use crate::graphql::write::{Write, audit, snap};
use crate::seed::format::{AgenciesFile, AgencySeed, DirectiveFile, GroupSeed};
use crate::state::State;

/// The longest text read (characters); the request body limit (`CHIDAO_MAX_BODY_BYTES`) is
/// usually the tighter bound.
const MAX_TEXT: usize = 1_000_000;

/// Input of `importDirective`: the document as text or as a `.docx`.
#[derive(InputObject)]
pub struct ImportDirectiveInput {
    /// The directive's text (UTF-8), as the seed documents are.
    pub text: Option<DocumentText>,
    /// The directive as a `.docx` file (the document system's export), base64.
    pub docx_base64: Option<DocumentText>,
    /// True (the default): answer the draft, write nothing. False: also publish it, which is
    /// refused while the draft has doubts (edit it and use `publishDirectiveDraft`).
    pub dry_run: Option<bool>,
}

/// How the document names an agency it was read as.
#[derive(SimpleObject)]
pub struct WrittenAs {
    /// The agency's code.
    pub code: String,
    /// The document's words for it.
    pub words: String,
}

/// A task as the reader understood it.
#[derive(SimpleObject)]
#[graphql(name = "TaskDraft")]
pub struct TaskDraftView {
    /// Code within the directive, e.g. `II.1.1-2.3`.
    pub code: String,
    /// Section, e.g. `II.1.1`.
    pub section: String,
    /// The section's heading.
    pub section_title: Option<String>,
    /// Item marker, e.g. `(3)`.
    pub item: Option<String>,
    /// A draft title (the task's opening words).
    pub title: String,
    /// The task's words as written.
    pub text: String,
    /// For an item or sub-bullet: its bullet's opening words, where its agencies are named.
    pub lead_in: Option<String>,
    /// Deadline words as written, or null for an ongoing duty.
    pub deadline: Option<String>,
    /// The due date those words give.
    pub due_on: Option<Date>,
    /// Whether the text asks for a report to the UBND.
    pub requires_report: bool,
    /// Lead agencies: codes, `@` and a code for a group.
    pub leads: Vec<String>,
    /// Coordinating agencies, likewise.
    pub coordinators: Vec<String>,
    /// How the document names the agencies it was read as.
    pub written_as: Vec<WrittenAs>,
    /// What the clerk should check (the draft's `# KIỂM TRA:` comments).
    pub doubts: Vec<String>,
}

impl From<&TaskDraft> for TaskDraftView {
    fn from(t: &TaskDraft) -> Self {
        TaskDraftView {
            code: t.code.clone(),
            section: t.section.clone(),
            section_title: t.section_title.clone(),
            item: t.item.clone(),
            title: t.title.clone(),
            text: t.text.clone(),
            lead_in: t.lead_in.clone(),
            deadline: t.deadline.clone(),
            due_on: t.due_on.map(Date),
            requires_report: t.requires_report,
            leads: t.leads.clone(),
            coordinators: t.coordinators.clone(),
            written_as: t
                .written_as
                .iter()
                .map(|(code, words)| WrittenAs {
                    code: code.clone(),
                    words: words.clone(),
                })
                .collect(),
            doubts: t.doubts.clone(),
        }
    }
}

/// A directive as the reader understood it.
#[derive(SimpleObject)]
#[graphql(name = "DirectiveDraft")]
pub struct DirectiveDraftView {
    /// A code in the seeds' convention (`ct-10-2024`).
    pub code: String,
    /// Number as printed, if the text has it.
    pub number: Option<String>,
    /// Kind of document.
    pub kind: DirectiveKind,
    /// Title (trích yếu), from the text.
    pub title: String,
    /// Date of issue, if the text has it.
    pub issued_on: Option<Date>,
    /// Signer.
    pub signer: Option<String>,
    /// Signer's title.
    pub signer_title: Option<String>,
    /// The tasks, in document order.
    pub tasks: Vec<TaskDraftView>,
    /// Doubts about the document as a whole.
    pub doubts: Vec<String>,
    /// How many tasks carry doubts.
    pub tasks_with_doubts: i32,
    /// The draft in the seed format, doubts as `# KIỂM TRA:` comments: edit it, then
    /// `publishDirectiveDraft` (or `chidao seed`).
    pub yaml: String,
}

impl DirectiveDraftView {
    fn new(d: &Draft) -> Self {
        DirectiveDraftView {
            code: d.directive.code.clone(),
            number: d.directive.number.clone(),
            kind: d.directive.kind.into(),
            title: d.directive.title.clone(),
            issued_on: d.directive.issued_on.map(Date),
            signer: d.directive.signer.clone(),
            signer_title: d.directive.signer_title.clone(),
            tasks: d.tasks.iter().map(TaskDraftView::from).collect(),
            doubts: d.doubts.clone(),
            tasks_with_doubts: d.tasks.iter().filter(|t| !t.doubts.is_empty()).count() as i32,
            yaml: super::yaml::write(d, "importDirective"),
        }
    }
}

/// Result of `importDirective`.
#[derive(SimpleObject)]
pub struct ImportDirectivePayload {
    /// The draft.
    pub draft: DirectiveDraftView,
    /// With `dryRun: false`: the directive written.
    pub directive: Option<Directive>,
}

/// Input of `publishDirectiveDraft`.
#[derive(InputObject)]
pub struct PublishDirectiveDraftInput {
    /// The reviewed draft in the seed format (`importDirective`'s `yaml`, edited).
    pub yaml: DocumentText,
}

/// Result of `publishDirectiveDraft`.
#[derive(SimpleObject)]
pub struct PublishDirectiveDraftPayload {
    /// The directive written.
    pub directive: Directive,
    /// How many tasks it has.
    pub task_count: i32,
}

/// The intake mutations of the root.
#[derive(Default)]
pub struct IntakeMutation;

/// The intake mutations of the root.
#[Object]
impl IntakeMutation {
    /// Reads a directive's text or `.docx` into a draft of tasks, assignments and deadlines
    /// with the reader's doubts (admin). Writes nothing unless `dryRun: false`.
    async fn import_directive(
        &self,
        ctx: &Context<'_>,
        input: ImportDirectiveInput,
    ) -> Result<ImportDirectivePayload> {
        Ok(import(ctx, input).await?)
    }

    /// Writes a reviewed draft (the seed format) in one transaction: the directive, its tasks
    /// and assignments (admin). A directive code that exists is refused.
    async fn publish_directive_draft(
        &self,
        ctx: &Context<'_>,
        input: PublishDirectiveDraftInput,
    ) -> Result<PublishDirectiveDraftPayload> {
        Ok(publish_yaml(ctx, &input.yaml.0).await?)
    }
}

/// The agency directory of the database, in the seed file's shape (the reader's names).
async fn directory(state: &State) -> ApiResult<AgenciesFile> {
    let agencies = public::<agency::Entity>().all(&state.reads).await?;
    let successions = public::<agency_succession::Entity>().all(&state.reads).await?;
    let groups = public::<agency_group::Entity>().all(&state.reads).await?;
    let members = public::<agency_group_member::Entity>().all(&state.reads).await?;
    let codes: std::collections::HashMap<i32, &str> =
        agencies.iter().map(|a| (a.id, a.code.as_str())).collect();
    let code_of = |id: i32| codes.get(&id).map(|c| (*c).to_owned());
    Ok(AgenciesFile {
        agencies: agencies
            .iter()
            .map(|a| AgencySeed {
                code: a.code.clone(),
                name: a.name.clone(),
                short_name: a.short_name.clone(),
                kind: a.kind,
                parent: None,
                valid_from: a.valid_from,
                valid_to: a.valid_to,
                successors: successions
                    .iter()
                    .filter(|s| s.predecessor_id == a.id)
                    .filter_map(|s| code_of(s.successor_id))
                    .collect(),
                split: Vec::new(),
                successor_group: None,
            })
            .collect(),
        groups: groups
            .iter()
            .map(|g| GroupSeed {
                code: g.code.clone(),
                name: g.name.clone(),
                note: g.note.clone(),
                members: members
                    .iter()
                    .filter(|m| m.group_id == g.id)
                    .filter_map(|m| code_of(m.agency_id))
                    .collect(),
            })
            .collect(),
    })
}

async fn import(ctx: &Context<'_>, input: ImportDirectiveInput) -> ApiResult<ImportDirectivePayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    let text = match (input.text, input.docx_base64) {
        (Some(DocumentText(t)), None) => t,
        (None, Some(DocumentText(b))) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| ApiError::bad_input("input.docxBase64", "Không phải base64 hợp lệ"))?;
            super::docx::text_of(&bytes)
                .map_err(|e| ApiError::bad_input("input.docxBase64", e.to_string()))?
        }
        _ => {
            return Err(ApiError::bad_input(
                "input",
                "Gửi đúng một trong hai: text (nội dung văn bản) hoặc docxBase64 (tệp .docx)",
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(ApiError::bad_input("input.text", "Văn bản trống"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::bad_input(
            "input.text",
            format!("Văn bản dài quá {MAX_TEXT} ký tự"),
        ));
    }
    let names = directory(State::of(ctx)).await?;
    // A directive's reading is pure CPU (about 0.1 s for 50 tasks): off the async workers.
    let draft = tokio::task::spawn_blocking(move || super::read(&text, &names))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let view = DirectiveDraftView::new(&draft);
    let directive = if input.dry_run == Some(false) {
        let open = view.tasks_with_doubts as usize + draft.doubts.len();
        if open > 0 {
            return Err(ApiError::bad_input(
                "input.dryRun",
                format!(
                    "Bản nháp còn {open} điểm cần kiểm tra (# KIỂM TRA): sửa bản nháp rồi dùng publishDirectiveDraft"
                ),
            ));
        }
        Some(publish_yaml(ctx, &view.yaml).await?.directive)
    } else {
        None
    };
    Ok(ImportDirectivePayload {
        draft: view,
        directive,
    })
}

/// The limits `createDirective` and `createTask` apply (and the columns hold), per field of the
/// draft: a draft beyond them is refused before anything is written.
fn check_sizes(file: &DirectiveFile) -> ApiResult<()> {
    use crate::graphql::input::{code, opt_text, text};
    let d = &file.directive;
    code("input.yaml: directive.code", &d.code)?;
    opt_text("input.yaml: directive.number", d.number.as_deref(), 60)?;
    text("input.yaml: directive.title", &d.title, 1000)?;
    text("input.yaml: directive.issuer", &d.issuer, 200)?;
    opt_text("input.yaml: directive.signer", d.signer.as_deref(), 200)?;
    opt_text(
        "input.yaml: directive.signer_title",
        d.signer_title.as_deref(),
        128,
    )?;
    if file.tasks.len() > 2000 {
        return Err(ApiError::bad_input(
            "input.yaml",
            "Bản nháp có quá 2.000 nhiệm vụ",
        ));
    }
    for (i, t) in file.tasks.iter().enumerate() {
        let f = |name: &str| format!("input.yaml: tasks[{i}].{name}");
        text(&f("code"), &t.code, 64)?;
        text(&f("section"), &t.section, 32)?;
        opt_text(&f("item"), t.item.as_deref(), 16)?;
        opt_text(&f("section_title"), t.section_title.as_deref(), 1000)?;
        text(&f("title"), &t.title, 1000)?;
        text(&f("text"), &t.text, 20_000)?;
        opt_text(&f("deadline"), t.deadline.as_deref(), 500)?;
    }
    Ok(())
}

async fn publish_yaml(ctx: &Context<'_>, yaml: &str) -> ApiResult<PublishDirectiveDraftPayload> {
    let caller = Caller::of(ctx);
    caller.principal.role.require(Permission::Administer)?;
    if yaml.chars().count() > MAX_TEXT {
        return Err(ApiError::bad_input(
            "input.yaml",
            format!("Bản nháp dài quá {MAX_TEXT} ký tự"),
        ));
    }
    let file: DirectiveFile = serde_norway::from_str(yaml)
        .map_err(|e| ApiError::bad_input("input.yaml", format!("Bản nháp không đúng định dạng: {e}")))?;
    check_sizes(&file)?;
    let w = Write::begin(ctx).await?;
    let mut same = sea_orm::Condition::any().add(directive::Column::Code.eq(&file.directive.code));
    if let Some(n) = &file.directive.number {
        same = same.add(directive::Column::Number.eq(n));
    }
    let taken = caller
        .scope
        .find::<directive::Entity>()
        .filter(same)
        .count(&w.txn)
        .await?;
    if taken > 0 {
        return Err(ApiError::Conflict(format!(
            "Đã có văn bản mã '{}'{}: đặt mã khác trong bản nháp",
            file.directive.code,
            file.directive
                .number
                .as_deref()
                .map(|n| format!(" hoặc số hiệu '{n}'"))
                .unwrap_or_default()
        )));
    }
    let (id, tasks) = crate::seed::load_one_directive(&w.txn, &file)
        .await
        .map_err(|e| match e {
            crate::seed::SeedError::Db(db) => ApiError::from(db),
            other => ApiError::bad_input("input.yaml", other.to_string()),
        })?;
    w.publish_other(OtherEvent::DirectiveCreated { directive_id: id })
        .await?;
    let mut ids: Vec<i32> = tasks.values().copied().collect();
    ids.sort_unstable();
    for t in &ids {
        w.publish(EventKind::TaskCreated, *t, None).await?;
    }
    let m = caller
        .scope
        .find_by_id::<directive::Entity>(id)
        .one(&w.txn)
        .await?
        .ok_or_else(|| ApiError::not_found("văn bản"))?;
    audit(
        &w,
        ctx,
        "publishDirectiveDraft",
        "directive",
        Some(id),
        None,
        snap(&serde_json::json!({ "directive": &m, "tasks": ids.len() })),
    )
    .await?;
    w.commit().await?;
    Ok(PublishDirectiveDraftPayload {
        directive: Directive(Arc::new(m)),
        task_count: ids.len() as i32,
    })
}
