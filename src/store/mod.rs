//! The incident store.
