//! Sub-states: the handles one module's handlers and use cases need, taken from any
//! state that holds them.
//!
//! Handlers used to take the whole `AppState`, and `state.rs` (the composition root)
//! imports the sync core, the cluster and remiss to build it: every module whose handlers
//! took it was on one import cycle with them (issue 19). A module now declares what it
//! needs with [`sub_state!`](crate::sub_state) and its handlers take `State<ThatContext>`;
//! the context is built through axum's `FromRef` from any state that provides each of
//! its fields, so the module never names `AppState` and the router can stay generic.
//! `auth::routes::LoginContext` is the same shape, written out by hand before this macro.

/// Declares a cloneable struct of handles and a `FromRef<S>` for it from any state `S`
/// that provides each field's type through `FromRef` (axum's `#[derive(FromRef)]` on
/// `AppState` provides one per field). The fields keep the names `AppState` gives them,
/// so a handler reads `state.db` as before.
#[macro_export]
macro_rules! sub_state {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone)]
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty),*
        }

        impl<S> ::axum::extract::FromRef<S> for $name
        where
            $($ty: ::axum::extract::FromRef<S>),*
        {
            fn from_ref(state: &S) -> Self {
                Self {
                    $($field: <$ty as ::axum::extract::FromRef<S>>::from_ref(state)),*
                }
            }
        }
    };
}
