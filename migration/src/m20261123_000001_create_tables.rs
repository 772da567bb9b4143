//! The initial model: agencies and their successions and groups, directives, tasks, assignments,
//! progress reports, deadline extensions, indicators and their values, and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Code,
    Name,
    ShortName,
    Kind,
    ParentId,
    ValidFrom,
    ValidTo,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgencySuccessions {
    Table,
    Id,
    PredecessorId,
    SuccessorId,
    EffectiveOn,
    Note,
}

#[derive(DeriveIden)]
enum AgencyGroups {
    Table,
    Id,
    Code,
    Name,
    Note,
}

#[derive(DeriveIden)]
enum AgencyGroupMembers {
    Table,
    GroupId,
    AgencyId,
}

#[derive(DeriveIden)]
enum Directives {
    Table,
    Id,
    Code,
    Number,
    Kind,
    Title,
    IssuedOn,
    Issuer,
    Signer,
    SignerTitle,
    SearchTitle,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    DirectiveId,
    Code,
    Section,
    SectionTitle,
    Item,
    Ordinal,
    Title,
    FullText,
    DeadlineText,
    DeadlineKind,
    Recurrence,
    OriginalDueOn,
    DueOn,
    CompletedOn,
    RequiresReport,
    SearchTitle,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskMilestones {
    Table,
    Id,
    TaskId,
    Ordinal,
    Label,
    DeadlineText,
    DeadlineKind,
    DueOn,
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
    TaskId,
    AgencyId,
    OriginalAgencyId,
    Role,
    ViaGroupId,
    CompletedOn,
    TransferredOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
    Id,
    AssignmentId,
    AgencyId,
    Period,
    PercentComplete,
    Done,
    Summary,
    Obstacles,
    Proposals,
    State,
    Author,
    IdempotencyKey,
    Version,
    ReviewComment,
    ReviewedBy,
    ReviewedAt,
    SubmittedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeadlineExtensions {
    Table,
    Id,
    TaskId,
    PreviousDueOn,
    NewDueOn,
    Reason,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum Indicators {
    Table,
    Id,
    Code,
    Item,
    Name,
    Unit,
    Target,
    TargetText,
    Comparator,
    Direction,
    Measure,
    Year,
    ParentId,
    ResponsibleAgencyId,
    DirectiveId,
    Qualitative,
    Description,
    SourceText,
    Ordinal,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IndicatorValues {
    Table,
    Id,
    IndicatorId,
    Period,
    Value,
    Kind,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    ActorRole,
    ActorAgencyId,
    Action,
    Entity,
    EntityId,
    Before,
    After,
    RequestId,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .col(pk_auto(Agencies::Id))
                    .col(string_len_uniq(Agencies::Code, 64))
                    .col(string_len(Agencies::Name, 255))
                    .col(string_len_null(Agencies::ShortName, 128))
                    .col(string_len(Agencies::Kind, 24))
                    .col(integer_null(Agencies::ParentId))
                    .col(date_null(Agencies::ValidFrom))
                    .col(date_null(Agencies::ValidTo))
                    .col(text(Agencies::SearchText))
                    .col(timestamp_with_time_zone(Agencies::CreatedAt))
                    .col(timestamp_with_time_zone(Agencies::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_agencies_parent",
                        (Agencies::Table, Agencies::ParentId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgencySuccessions::Table)
                    .col(pk_auto(AgencySuccessions::Id))
                    .col(integer(AgencySuccessions::PredecessorId))
                    .col(integer(AgencySuccessions::SuccessorId))
                    .col(date(AgencySuccessions::EffectiveOn))
                    .col(text_null(AgencySuccessions::Note))
                    .foreign_key(&mut fk(
                        "fk_successions_predecessor",
                        (AgencySuccessions::Table, AgencySuccessions::PredecessorId),
                        (Agencies::Table, Agencies::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_successions_successor",
                        (AgencySuccessions::Table, AgencySuccessions::SuccessorId),
                        (Agencies::Table, Agencies::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgencyGroups::Table)
                    .col(pk_auto(AgencyGroups::Id))
                    .col(string_len_uniq(AgencyGroups::Code, 64))
                    .col(string_len(AgencyGroups::Name, 255))
                    .col(text_null(AgencyGroups::Note))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgencyGroupMembers::Table)
                    .col(integer(AgencyGroupMembers::GroupId))
                    .col(integer(AgencyGroupMembers::AgencyId))
                    .primary_key(
                        Index::create()
                            .col(AgencyGroupMembers::GroupId)
                            .col(AgencyGroupMembers::AgencyId),
                    )
                    .foreign_key(&mut fk(
                        "fk_group_members_group",
                        (AgencyGroupMembers::Table, AgencyGroupMembers::GroupId),
                        (AgencyGroups::Table, AgencyGroups::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_group_members_agency",
                        (AgencyGroupMembers::Table, AgencyGroupMembers::AgencyId),
                        (Agencies::Table, Agencies::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Directives::Table)
                    .col(pk_auto(Directives::Id))
                    .col(string_len_uniq(Directives::Code, 64))
                    .col(string_len_null(Directives::Number, 64).unique_key())
                    .col(string_len(Directives::Kind, 16))
                    .col(text(Directives::Title))
                    .col(date_null(Directives::IssuedOn))
                    .col(string_len(Directives::Issuer, 255))
                    .col(string_len_null(Directives::Signer, 255))
                    .col(string_len_null(Directives::SignerTitle, 128))
                    .col(text(Directives::SearchTitle))
                    .col(text(Directives::SearchText))
                    .col(timestamp_with_time_zone(Directives::CreatedAt))
                    .col(timestamp_with_time_zone(Directives::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_auto(Tasks::Id))
                    .col(integer(Tasks::DirectiveId))
                    .col(string_len(Tasks::Code, 64))
                    .col(string_len(Tasks::Section, 32))
                    .col(text_null(Tasks::SectionTitle))
                    .col(string_len_null(Tasks::Item, 16))
                    .col(integer(Tasks::Ordinal))
                    .col(text(Tasks::Title))
                    .col(text(Tasks::FullText))
                    .col(text_null(Tasks::DeadlineText))
                    .col(string_len(Tasks::DeadlineKind, 12))
                    .col(string_len_null(Tasks::Recurrence, 12))
                    .col(date_null(Tasks::OriginalDueOn))
                    .col(date_null(Tasks::DueOn))
                    .col(date_null(Tasks::CompletedOn))
                    .col(boolean(Tasks::RequiresReport))
                    .col(text(Tasks::SearchTitle))
                    .col(text(Tasks::SearchText))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_tasks_directive",
                        (Tasks::Table, Tasks::DirectiveId),
                        (Directives::Table, Directives::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaskMilestones::Table)
                    .col(pk_auto(TaskMilestones::Id))
                    .col(integer(TaskMilestones::TaskId))
                    .col(integer(TaskMilestones::Ordinal))
                    .col(text(TaskMilestones::Label))
                    .col(text_null(TaskMilestones::DeadlineText))
                    .col(string_len(TaskMilestones::DeadlineKind, 12))
                    .col(date_null(TaskMilestones::DueOn))
                    .foreign_key(&mut fk(
                        "fk_milestones_task",
                        (TaskMilestones::Table, TaskMilestones::TaskId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assignments::Table)
                    .col(pk_auto(Assignments::Id))
                    .col(integer(Assignments::TaskId))
                    .col(integer(Assignments::AgencyId))
                    .col(integer(Assignments::OriginalAgencyId))
                    .col(string_len(Assignments::Role, 12))
                    .col(integer_null(Assignments::ViaGroupId))
                    .col(date_null(Assignments::CompletedOn))
                    .col(date_null(Assignments::TransferredOn))
                    .col(timestamp_with_time_zone(Assignments::CreatedAt))
                    .col(timestamp_with_time_zone(Assignments::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_assignments_task",
                        (Assignments::Table, Assignments::TaskId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_assignments_agency",
                        (Assignments::Table, Assignments::AgencyId),
                        (Agencies::Table, Agencies::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_assignments_original_agency",
                        (Assignments::Table, Assignments::OriginalAgencyId),
                        (Agencies::Table, Agencies::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_assignments_group",
                        (Assignments::Table, Assignments::ViaGroupId),
                        (AgencyGroups::Table, AgencyGroups::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProgressReports::Table)
                    .col(pk_auto(ProgressReports::Id))
                    .col(integer(ProgressReports::AssignmentId))
                    .col(integer(ProgressReports::AgencyId))
                    .col(string_len(ProgressReports::Period, 8))
                    .col(small_integer(ProgressReports::PercentComplete))
                    .col(boolean(ProgressReports::Done))
                    .col(text(ProgressReports::Summary))
                    .col(text_null(ProgressReports::Obstacles))
                    .col(text_null(ProgressReports::Proposals))
                    .col(string_len(ProgressReports::State, 12))
                    .col(string_len(ProgressReports::Author, 255))
                    .col(string_len_null(ProgressReports::IdempotencyKey, 128))
                    .col(integer(ProgressReports::Version))
                    .col(text_null(ProgressReports::ReviewComment))
                    .col(string_len_null(ProgressReports::ReviewedBy, 255))
                    .col(timestamp_with_time_zone_null(ProgressReports::ReviewedAt))
                    .col(timestamp_with_time_zone_null(ProgressReports::SubmittedAt))
                    .col(timestamp_with_time_zone(ProgressReports::CreatedAt))
                    .col(timestamp_with_time_zone(ProgressReports::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_reports_assignment",
                        (ProgressReports::Table, ProgressReports::AssignmentId),
                        (Assignments::Table, Assignments::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_reports_agency",
                        (ProgressReports::Table, ProgressReports::AgencyId),
                        (Agencies::Table, Agencies::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DeadlineExtensions::Table)
                    .col(pk_auto(DeadlineExtensions::Id))
                    .col(integer(DeadlineExtensions::TaskId))
                    .col(date_null(DeadlineExtensions::PreviousDueOn))
                    .col(date(DeadlineExtensions::NewDueOn))
                    .col(text(DeadlineExtensions::Reason))
                    .col(string_len(DeadlineExtensions::GrantedBy, 255))
                    .col(timestamp_with_time_zone(DeadlineExtensions::GrantedAt))
                    .foreign_key(&mut fk(
                        "fk_extensions_task",
                        (DeadlineExtensions::Table, DeadlineExtensions::TaskId),
                        (Tasks::Table, Tasks::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Indicators::Table)
                    .col(pk_auto(Indicators::Id))
                    .col(string_len_uniq(Indicators::Code, 64))
                    .col(string_len_null(Indicators::Item, 16))
                    .col(text(Indicators::Name))
                    .col(string_len_null(Indicators::Unit, 64))
                    .col(string_len_null(Indicators::Target, 40))
                    .col(string_len_null(Indicators::TargetText, 64))
                    .col(string_len_null(Indicators::Comparator, 4))
                    .col(string_len(Indicators::Direction, 10))
                    .col(string_len(Indicators::Measure, 10))
                    .col(integer(Indicators::Year))
                    .col(integer_null(Indicators::ParentId))
                    .col(integer_null(Indicators::ResponsibleAgencyId))
                    .col(integer_null(Indicators::DirectiveId))
                    .col(boolean(Indicators::Qualitative))
                    .col(text_null(Indicators::Description))
                    .col(text_null(Indicators::SourceText))
                    .col(integer(Indicators::Ordinal))
                    .col(timestamp_with_time_zone(Indicators::CreatedAt))
                    .col(timestamp_with_time_zone(Indicators::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_indicators_parent",
                        (Indicators::Table, Indicators::ParentId),
                        (Indicators::Table, Indicators::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_indicators_agency",
                        (Indicators::Table, Indicators::ResponsibleAgencyId),
                        (Agencies::Table, Agencies::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_indicators_directive",
                        (Indicators::Table, Indicators::DirectiveId),
                        (Directives::Table, Directives::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IndicatorValues::Table)
                    .col(pk_auto(IndicatorValues::Id))
                    .col(integer(IndicatorValues::IndicatorId))
                    .col(string_len(IndicatorValues::Period, 8))
                    .col(string_len(IndicatorValues::Value, 40))
                    .col(string_len(IndicatorValues::Kind, 10))
                    .col(text_null(IndicatorValues::Note))
                    .col(string_len(IndicatorValues::RecordedBy, 255))
                    .col(timestamp_with_time_zone(IndicatorValues::RecordedAt))
                    .foreign_key(&mut fk(
                        "fk_values_indicator",
                        (IndicatorValues::Table, IndicatorValues::IndicatorId),
                        (Indicators::Table, Indicators::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string_len(AuditLog::Actor, 255))
                    .col(string_len(AuditLog::ActorRole, 16))
                    .col(integer_null(AuditLog::ActorAgencyId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Entity, 64))
                    .col(string_len_null(AuditLog::EntityId, 64))
                    .col(text_null(AuditLog::Before))
                    .col(text_null(AuditLog::After))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .to_owned(),
            )
            .await?;

        // Every column a filter, a join or a uniqueness rule uses.
        let indexes = [
            index("ix_agencies_kind", Agencies::Table, &["kind"], false),
            index("ix_agencies_parent", Agencies::Table, &["parent_id"], false),
            index(
                "ux_successions_pair",
                AgencySuccessions::Table,
                &["predecessor_id", "successor_id"],
                true,
            ),
            index(
                "ix_successions_successor",
                AgencySuccessions::Table,
                &["successor_id"],
                false,
            ),
            index(
                "ix_group_members_agency",
                AgencyGroupMembers::Table,
                &["agency_id"],
                false,
            ),
            index(
                "ix_directives_issued_on",
                Directives::Table,
                &["issued_on"],
                false,
            ),
            index(
                "ux_tasks_directive_code",
                Tasks::Table,
                &["directive_id", "code"],
                true,
            ),
            index(
                "ix_tasks_directive_ordinal",
                Tasks::Table,
                &["directive_id", "ordinal"],
                false,
            ),
            index("ix_tasks_due_on", Tasks::Table, &["due_on", "id"], false),
            index("ix_tasks_section", Tasks::Table, &["section"], false),
            index("ix_milestones_task", TaskMilestones::Table, &["task_id"], false),
            index(
                "ux_assignments_task_original_role",
                Assignments::Table,
                &["task_id", "original_agency_id", "role"],
                true,
            ),
            index(
                "ix_assignments_agency_role",
                Assignments::Table,
                &["agency_id", "role", "task_id"],
                false,
            ),
            index(
                "ix_assignments_original_agency",
                Assignments::Table,
                &["original_agency_id"],
                false,
            ),
            index(
                "ix_reports_assignment_period",
                ProgressReports::Table,
                &["assignment_id", "period"],
                false,
            ),
            index("ix_reports_agency", ProgressReports::Table, &["agency_id"], false),
            index("ix_reports_state", ProgressReports::Table, &["state"], false),
            index(
                "ux_reports_idempotency",
                ProgressReports::Table,
                &["agency_id", "idempotency_key"],
                true,
            ),
            index(
                "ix_extensions_task",
                DeadlineExtensions::Table,
                &["task_id"],
                false,
            ),
            index("ix_indicators_year", Indicators::Table, &["year"], false),
            index("ix_indicators_parent", Indicators::Table, &["parent_id"], false),
            index(
                "ix_indicators_agency",
                Indicators::Table,
                &["responsible_agency_id"],
                false,
            ),
            index(
                "ix_values_indicator_period",
                IndicatorValues::Table,
                &["indicator_id", "period"],
                false,
            ),
            index(
                "ix_values_recorded_at",
                IndicatorValues::Table,
                &["recorded_at"],
                false,
            ),
            index("ix_audit_at", AuditLog::Table, &["at"], false),
            index(
                "ix_audit_entity",
                AuditLog::Table,
                &["entity", "entity_id"],
                false,
            ),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            IndicatorValues::Table.into_iden(),
            Indicators::Table.into_iden(),
            DeadlineExtensions::Table.into_iden(),
            ProgressReports::Table.into_iden(),
            Assignments::Table.into_iden(),
            TaskMilestones::Table.into_iden(),
            Tasks::Table.into_iden(),
            Directives::Table.into_iden(),
            AgencyGroupMembers::Table.into_iden(),
            AgencyGroups::Table.into_iden(),
            AgencySuccessions::Table.into_iden(),
            Agencies::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
