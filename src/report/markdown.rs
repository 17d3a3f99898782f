//! Markdown rendering of a report.
