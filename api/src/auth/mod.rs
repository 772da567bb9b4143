//! Who is asking (`Principal`, from a token: `jwt`, with the identity provider's keys from
//! `jwks` and the secret rule of `secret`; `caller`), what their role may do (the one table,
//! [`Role::may`]), and which rows they may see (`scope`: the scoped finder, the only way to
//! read a scoped table).

pub mod caller;
pub mod directory;
pub mod jwks;
pub mod jwt;
pub mod scope;
pub mod secret;

pub use caller::Caller;
pub use scope::{Public, Rows, Scope, Scoped};

use crate::error::{ApiError, ApiResult};

/// A caller's role (JWT `role`).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Văn phòng UBND tỉnh: everything.
    Admin,
    /// The monitoring office: reads all, reviews reports, grants extensions.
    Monitor,
    /// Staff of one agency: its own assignments only.
    Agency,
    /// The e-government portal: public fields.
    Viewer,
    /// BI tools: indicators and aggregates.
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Monitor => "monitor",
            Role::Agency => "agency",
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "monitor" => Role::Monitor,
            "agency" => Role::Agency,
            "viewer" => Role::Viewer,
            "analyst" => Role::Analyst,
            _ => return None,
        })
    }

    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Monitor,
        Role::Agency,
        Role::Viewer,
        Role::Analyst,
    ];

    /// The one table of what each role may do. Field guards ([`crate::graphql::Needs`]),
    /// mutations, lists and `node(id)` all ask it through [`Role::require`]; which *rows* a
    /// role sees is the other half, in [`Scope`].
    pub fn may(self, p: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match p {
            P::ReadRows => !matches!(self, R::Analyst),
            P::ReadInternal => matches!(self, R::Admin | R::Monitor | R::Agency),
            P::ReadAudit | P::Administer => self == R::Admin,
            P::Report => self == R::Agency,
            P::Review | P::Extend | P::FollowUp => matches!(self, R::Admin | R::Monitor),
            P::RecordValues => matches!(self, R::Admin | R::Monitor | R::Agency),
        }
    }

    /// `Ok` when the role may; otherwise FORBIDDEN, saying what the role may not do.
    pub fn require(self, p: Permission) -> ApiResult<()> {
        if self.may(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "Vai trò {} không được {}",
                self.as_str(),
                p.describe()
            )))
        }
    }
}

/// Something a role may or may not do (see [`Role::may`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read rows of tasks, assignments, deadline extensions and progress reports (everyone but
    /// the analyst, who reads indicators and aggregates).
    ReadRows,
    /// Read internal notes: obstacles, proposals, review comments, who granted an extension.
    ReadInternal,
    /// Read the audit log.
    ReadAudit,
    /// Post and edit progress reports on its own assignments.
    Report,
    /// Accept or return submitted reports.
    Review,
    /// Keep deadlines: grant extensions, record a milestone as reached.
    Extend,
    /// Record indicator values (an agency only for the indicators it is responsible for: a
    /// row rule, checked by the scoped finder).
    RecordValues,
    /// Create and change directives and tasks; reorganise agencies.
    Administer,
    /// Follow up across the province: work nobody holds (orphaned assignments).
    FollowUp,
}

impl Permission {
    /// What is refused, as the end of "Vai trò X không được …".
    fn describe(self) -> &'static str {
        match self {
            Permission::ReadRows => {
                "xem nhiệm vụ, phân công và báo cáo (vai trò này chỉ đọc chỉ tiêu và số liệu tổng hợp)"
            }
            Permission::ReadInternal => "xem nội dung nội bộ (khó khăn, kiến nghị, ý kiến duyệt)",
            Permission::ReadAudit => "xem nhật ký thay đổi",
            Permission::Report => "gửi hoặc sửa báo cáo tiến độ (chỉ cơ quan được giao)",
            Permission::Review => "duyệt báo cáo tiến độ",
            Permission::Extend => "gia hạn nhiệm vụ hoặc ghi nhận đạt mốc thời hạn",
            Permission::RecordValues => {
                "ghi số liệu chỉ tiêu (chỉ văn phòng theo dõi hoặc cơ quan phụ trách chỉ tiêu)"
            }
            Permission::Administer => "tạo hoặc sửa văn bản, nhiệm vụ, cơ quan",
            Permission::FollowUp => {
                "theo dõi, đôn đốc toàn tỉnh (chỉ văn phòng UBND tỉnh và cơ quan theo dõi)"
            }
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    /// The agency of an `agency` token.
    pub agency_id: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_its_rights_and_no_more() {
        use Permission as P;
        let table = [
            (
                Role::Admin,
                vec![
                    P::ReadRows,
                    P::ReadInternal,
                    P::ReadAudit,
                    P::Review,
                    P::Extend,
                    P::RecordValues,
                    P::Administer,
                    P::FollowUp,
                ],
            ),
            (
                Role::Monitor,
                vec![
                    P::ReadRows,
                    P::ReadInternal,
                    P::Review,
                    P::Extend,
                    P::RecordValues,
                    P::FollowUp,
                ],
            ),
            (
                Role::Agency,
                vec![P::ReadRows, P::ReadInternal, P::Report, P::RecordValues],
            ),
            (Role::Viewer, vec![P::ReadRows]),
            (Role::Analyst, vec![]),
        ];
        let all = [
            P::ReadRows,
            P::ReadInternal,
            P::ReadAudit,
            P::Report,
            P::Review,
            P::Extend,
            P::RecordValues,
            P::Administer,
            P::FollowUp,
        ];
        for (role, allowed) in table {
            for p in all {
                assert_eq!(role.may(p), allowed.contains(&p), "{role:?} {p:?}");
                assert_eq!(role.require(p).is_ok(), allowed.contains(&p), "{role:?} {p:?}");
            }
        }
        let Err(ApiError::Forbidden(m)) = Role::Analyst.require(P::ReadRows) else {
            panic!("forbidden")
        };
        assert!(m.contains("analyst") && m.contains("chỉ tiêu"), "{m}");
    }
}
