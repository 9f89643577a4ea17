//! Test-only helpers shared by the workspace's tests (issue 21): nothing
//! here is in the `diag` binary or in diag-core's API.
//!
//! - [`pcap_scenarios`]: the generated captures behind the capture rules'
//!   cases (`rules/cases/capture/`) and the analyser's tests, one function
//!   per scenario. diag-parse's own unit tests use them too (a
//!   dev-dependency cycle cargo allows: the scenarios take and return
//!   only std types, so the two builds of diag-parse never meet).
//! - [`netns`]: network namespaces and veth pairs for end-to-end tests,
//!   removed on drop.

pub mod netns;
pub mod pcap_scenarios;
