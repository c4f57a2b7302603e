//! End-to-end tests of the real built app (target/debug/ifmatch-desktop) through WebDriver:
//! tauri-driver + WebKitWebDriver, under a virtual display (scripts/test runs them under
//! xvfb-run). Against the app's built-in demo server and against Apache httpd mod_dav.
//! Each test saves a screenshot under tests/output/.
//!
//! (a) two tabs on one resource edit different fields: the second merges, the server has both;
//! (b) both edit the same fields: conflict view, one "mine", one edited, resubmit, exact result;
//! (c) a third writer while the conflict view is open: the resubmit meets it, the next round
//!     keeps the resolutions; (d) invalid JSON cannot be saved and the message says where.
//!
//! One test binary (so the app, tauri-driver and servers set-up is shared and the tests run one
//! at a time), its tests by scenario in tests/e2e/, their shared steps in tests/e2e/support.rs.

#[path = "e2e/support.rs"]
mod support;

#[path = "e2e/bench.rs"]
mod bench;
#[path = "e2e/bench_live.rs"]
mod bench_live;
#[path = "e2e/connections.rs"]
mod connections;
#[path = "e2e/drafts.rs"]
mod drafts;
#[path = "e2e/hostile.rs"]
mod hostile;
#[path = "e2e/live.rs"]
mod live;
#[path = "e2e/live_hostile.rs"]
mod live_hostile;
#[path = "e2e/live_hostile2.rs"]
mod live_hostile2;
#[path = "e2e/merge_view.rs"]
mod merge_view;
#[path = "e2e/review_history.rs"]
mod review_history;
#[path = "e2e/saving.rs"]
mod saving;
#[path = "e2e/window.rs"]
mod window;
