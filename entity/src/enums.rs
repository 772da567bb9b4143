//! Closed vocabularies stored as short strings, so both databases hold readable values.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of body an agency is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgencyKind {
    #[sea_orm(string_value = "PROVINCIAL_OFFICE")]
    ProvincialOffice,
    #[sea_orm(string_value = "DEPARTMENT")]
    Department,
    #[sea_orm(string_value = "BOARD")]
    Board,
    #[sea_orm(string_value = "DISTRICT")]
    District,
    #[sea_orm(string_value = "COMMUNE")]
    Commune,
    #[sea_orm(string_value = "SECTOR")]
    Sector,
    #[sea_orm(string_value = "MASS_ORGANIZATION")]
    MassOrganization,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The kind of a directing document (văn bản chỉ đạo).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DirectiveKind {
    #[sea_orm(string_value = "CHI_THI")]
    ChiThi,
    #[sea_orm(string_value = "KE_HOACH")]
    KeHoach,
    #[sea_orm(string_value = "CONG_VAN")]
    CongVan,
    #[sea_orm(string_value = "QUYET_DINH")]
    QuyetDinh,
    #[sea_orm(string_value = "NGHI_QUYET")]
    NghiQuyet,
}

/// An agency's role on a task: chủ trì (lead) or phối hợp (coordinator).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssignmentRole {
    #[sea_orm(string_value = "LEAD")]
    Lead,
    #[sea_orm(string_value = "COORDINATOR")]
    Coordinator,
}

/// Life cycle of a progress report.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportState {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "RETURNED")]
    Returned,
}

/// How a target compares: "trên" is `Gt`, "tối thiểu"/"đạt" is `Ge`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(4))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Comparator {
    #[sea_orm(string_value = "GT")]
    Gt,
    #[sea_orm(string_value = "GE")]
    Ge,
    #[sea_orm(string_value = "EQ")]
    Eq,
    #[sea_orm(string_value = "LE")]
    Le,
    #[sea_orm(string_value = "LT")]
    Lt,
}

/// Which way is better for an indicator.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    #[sea_orm(string_value = "INCREASE")]
    Increase,
    #[sea_orm(string_value = "DECREASE")]
    Decrease,
    #[sea_orm(string_value = "NEUTRAL")]
    Neutral,
}

/// Whether an indicator's values accumulate over the year (revenue) or are a level (a rate).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Measure {
    #[sea_orm(string_value = "LEVEL")]
    Level,
    #[sea_orm(string_value = "CUMULATIVE")]
    Cumulative,
}

/// Whether an indicator value is an estimate or the official figure.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValueKind {
    #[sea_orm(string_value = "ESTIMATE")]
    Estimate,
    #[sea_orm(string_value = "OFFICIAL")]
    Official,
}

/// What kind of deadline a task's words set (`api::domain::deadline` derives it from them).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeadlineKind {
    #[sea_orm(string_value = "DATE")]
    Date,
    #[sea_orm(string_value = "MONTH")]
    Month,
    #[sea_orm(string_value = "QUARTER")]
    Quarter,
    #[sea_orm(string_value = "HALF")]
    Half,
    #[sea_orm(string_value = "YEAR")]
    Year,
    #[sea_orm(string_value = "RECURRING")]
    Recurring,
    #[sea_orm(string_value = "ONGOING")]
    Ongoing,
}

/// How often a recurring task falls due.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recurrence {
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    #[sea_orm(string_value = "QUARTERLY")]
    Quarterly,
    #[sea_orm(string_value = "HALF_YEARLY")]
    HalfYearly,
    #[sea_orm(string_value = "YEARLY")]
    Yearly,
}

/// How a duty reached its holder in `assignment_transfers`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferKind {
    /// The assignment changed holder.
    #[sea_orm(string_value = "MOVED")]
    Moved,
    /// A further target got its own assignment of the same duty.
    #[sea_orm(string_value = "SHARED")]
    Shared,
    /// The new holder already held the task: the duty joined its assignment.
    #[sea_orm(string_value = "MERGED")]
    Merged,
}

/// Why a name the task addresses holds no assignment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddresseeKind {
    /// Not a state body (chủ đầu tư, doanh nghiệp, tổ chức xã hội - nghề nghiệp): nobody logs
    /// in for it.
    #[sea_orm(string_value = "NOT_A_STATE_BODY")]
    NotAStateBody,
    /// A group of state bodies whose members the records do not hold yet.
    #[sea_orm(string_value = "GROUP_WITHOUT_MEMBERS")]
    GroupWithoutMembers,
    /// Not a definite list ("các cơ quan, đơn vị có liên quan").
    #[sea_orm(string_value = "UNSPECIFIED")]
    Unspecified,
}

/// The period type of a reporting regime (a directive's reports are owed each such period).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegimePeriod {
    #[sea_orm(string_value = "MONTH")]
    Month,
    #[sea_orm(string_value = "QUARTER")]
    Quarter,
    #[sea_orm(string_value = "HALF")]
    Half,
    #[sea_orm(string_value = "YEAR")]
    Year,
}

/// When in its period a regime's report is due.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DueRule {
    /// On a day of the period's last calendar month (the 20th; a day past the month's end is
    /// its last day).
    #[sea_orm(string_value = "DAY_OF_LAST_MONTH")]
    DayOfLastMonth,
    /// A number of days after the period's data cut-off (Decree 09/2019/NĐ-CP, Art. 12: the 14th).
    #[sea_orm(string_value = "DAYS_AFTER_CUTOFF")]
    DaysAfterCutoff,
}

/// Who reports under a regime.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reporters {
    /// Every holder of an assignment, lead or coordinator.
    #[sea_orm(string_value = "ALL_HOLDERS")]
    AllHolders,
    /// The lead agencies (chủ trì) only.
    #[sea_orm(string_value = "LEADS")]
    Leads,
}
