//! Who is calling, and what they may do with a document.
//!
//! Identity comes from a JWT (ours, signed with HS256, or an external identity
//! provider's, RS256); permissions come from the database, per document, per
//! organisation and per user. Nothing about permissions is cached in the token, so a
//! revoked role takes effect on the next request and, through the room, on live sockets.

pub mod access;
pub mod accounts;
pub mod authorize;
pub mod directory;
pub mod extractor;
pub mod jwt;
pub mod oidc;
pub mod password;
pub mod revocation;
pub mod routes;
pub mod session;

pub use access::{Member, PrincipalKind, Role};
pub use authorize::{AccessError, Grant, authorize, authorize_archived};
pub use extractor::AuthUser;
pub use jwt::{AuthError, Identity, TokenKeys};
