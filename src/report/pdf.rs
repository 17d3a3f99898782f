//! PDF rendering of a report.
