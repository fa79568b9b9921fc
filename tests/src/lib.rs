//! Workspace integration test support.
