//! The investigation agent.
