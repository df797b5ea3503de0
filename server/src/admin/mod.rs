//! Server-wide administration (issue 15): organisations, users and the identity
//! providers' organisation mapping, kept by an administrator (`users.is_admin`) in the
//! web app or by an operator on the command line.
//!
//! - [`changes`]: one function per change, each in the caller's transaction with its
//!   entry in the administration log, for the API and `forankra org|user` alike; the
//!   rule that the last active administrator stays one lives here.
//! - [`log`]: the administration log (`admin_log`): who changed what, and when.
//! - [`routes`]: `/api/admin/...`, administrators only (401 without a sign-in, 403 for
//!   anyone else), with `AdminContext`.
//!
//! Documents keep their own audit trail (`audit`); these changes concern no document, so
//! they are logged here instead, and traced.

pub mod changes;
pub mod log;
pub mod routes;

/// Why an administration change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Directory(#[from] crate::auth::directory::DirectoryError),
    #[error("{0} is the last active administrator: make another user an administrator first")]
    LastAdmin(String),
    #[error("no mapping of `{claim_value}` for {provider}")]
    NoSuchMapping {
        provider: String,
        claim_value: String,
    },
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
}

impl From<AdminError> for crate::error::AppError {
    fn from(error: AdminError) -> Self {
        use crate::auth::directory::DirectoryError as D;
        use crate::error::AppError;
        let message = error.to_string();
        match error {
            AdminError::Directory(D::OrgExists(_) | D::UserExists(_))
            | AdminError::LastAdmin(_) => AppError::Conflict(message),
            AdminError::Directory(D::NoSuchOrg(_) | D::NoSuchUser(_))
            | AdminError::NoSuchMapping { .. } => AppError::NotFound(message),
            AdminError::Directory(D::BadEmail(_)) => AppError::Refused {
                code: "bad_email",
                message,
            },
            AdminError::Directory(D::PasswordTooShort) => AppError::Refused {
                code: "password_too_short",
                message,
            },
            AdminError::Directory(D::Store(store)) | AdminError::Store(store) => {
                AppError::Storage(store)
            }
        }
    }
}
