//! The one error type of the service: each variant knows its stable `extensions.code`,
//! and internal detail goes to the log (with the request id), never to the client.

use async_graphql::ErrorExtensions;

///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type
/// into an error without extensions, and that path must not exist for this type. `?` in a
/// resolver goes through `From<ApiError>` below, which always sets the code.
#[derive(Debug)]
pub enum ApiError {
    /// The request is malformed or a value is out of range. `field` is the input path.
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    Unauthenticated(String),
    Forbidden(String),
    /// Absent, or outside what the caller may see: the two are indistinguishable on purpose.
    NotFound(String),
    Conflict(String),
    TooComplex(String),
    /// Over the rate limit; try again after this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    /// Anything unexpected. The message shown is generic; the source is logged.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::TooComplex(_) => "TOO_COMPLEX",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client sees (Vietnamese; never internal detail).
    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput { message, .. } => message.clone(),
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooComplex(m) => m.clone(),
            ApiError::RateLimited { retry_after_secs } => {
                format!("Quá nhiều yêu cầu; thử lại sau {retry_after_secs} giây")
            }
            ApiError::Internal(_) => "Lỗi hệ thống, vui lòng thử lại sau".to_owned(),
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadUserInput {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("Không tìm thấy {what}"))
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(err))
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        // A unique index is the last word when two writers race past a check: that is a
        // conflict the client can act on, not an internal error.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::Conflict("Dữ liệu trùng với một bản ghi vừa được tạo; hãy tải lại".into());
        }
        ApiError::internal(err)
    }
}

impl ApiError {
    /// Logs the source of an internal error (nothing of it reaches the client).
    fn log(&self) {
        if let ApiError::Internal(source) = self {
            tracing::error!(error = %source, "internal error");
        }
    }

    /// The error as one entry of a GraphQL `errors` list, for the HTTP paths that answer
    /// before or outside GraphQL execution (tokens, exports, limits, rate limits): the same
    /// `message` and `extensions` a resolver's error carries.
    pub fn to_json(&self) -> serde_json::Value {
        self.log();
        let mut ext = serde_json::Map::new();
        ext.insert("code".into(), self.code().into());
        match self {
            ApiError::BadUserInput { field: Some(f), .. } => {
                ext.insert("field".into(), f.as_str().into());
            }
            ApiError::RateLimited { retry_after_secs } => {
                ext.insert("retryAfterSeconds".into(), (*retry_after_secs).into());
            }
            _ => {}
        }
        serde_json::json!({ "message": self.message(), "extensions": ext })
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                ApiError::BadUserInput { field: Some(f), .. } => ext.set("field", f.as_str()),
                ApiError::RateLimited { retry_after_secs } => ext.set("retryAfterSeconds", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}
