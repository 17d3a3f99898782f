//! The embedded search backend: SPL over the local evidence store.
