//! Shared test support lives in api/helpers.rs.
