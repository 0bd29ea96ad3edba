//! Shared check suites and workspace-wide checks for OAuth2 Lab.
