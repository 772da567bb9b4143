//! SeaORM entities of chidao: one module per table, the stored shape and nothing else.
//!
//! The API's types are chosen separately (see `api/`); nothing here derives GraphQL.

pub mod agency;
pub mod agency_group;
pub mod agency_group_member;
pub mod agency_succession;
pub mod assignment;
pub mod assignment_transfer;
pub mod audit_log;
pub mod deadline_extension;
pub mod directive;
pub mod enums;
pub mod indicator;
pub mod indicator_value;
pub mod progress_report;
pub mod reporting_regime;
pub mod reporting_waiver;
pub mod task;
pub mod task_addressee;
pub mod task_milestone;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;

pub mod prelude {
    pub use super::agency::Entity as Agency;
    pub use super::agency_group::Entity as AgencyGroup;
    pub use super::agency_group_member::Entity as AgencyGroupMember;
    pub use super::agency_succession::Entity as AgencySuccession;
    pub use super::assignment::Entity as Assignment;
    pub use super::assignment_transfer::Entity as AssignmentTransfer;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::deadline_extension::Entity as DeadlineExtension;
    pub use super::directive::Entity as Directive;
    pub use super::indicator::Entity as Indicator;
    pub use super::indicator_value::Entity as IndicatorValue;
    pub use super::progress_report::Entity as ProgressReport;
    pub use super::reporting_regime::Entity as ReportingRegime;
    pub use super::reporting_waiver::Entity as ReportingWaiver;
    pub use super::task::Entity as Task;
    pub use super::task_addressee::Entity as TaskAddressee;
    pub use super::task_milestone::Entity as TaskMilestone;
}
