//! Writing reports to disk.
