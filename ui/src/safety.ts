// Whether the active tab's server refuses stale writes: a badge in the toolbar, and "Check
// server", which runs the server check in Rust and shows its report with the evidence.
import { api, words } from "./api";
import { $, active } from "./store";
import type { SafetyView } from "./api";

function show(s: SafetyView) {
  const badge = $("server-safety");
  badge.textContent = s.words;
  badge.dataset.verdict = s.verdict;
}

/** Refreshes the badge for the active tab (no request: what the last check found). */
export async function refreshSafety() {
  const t = active();
  if (!t) return;
  try {
    const s = await api.serverSafety(t.id);
    if (active()?.id === t.id) show(s);
  } catch {
    /* the tab closed meanwhile */
  }
}

/** Runs the check now and shows the report. */
export async function checkServer() {
  const t = active();
  if (!t) return;
  const button = $<HTMLButtonElement>("check-server");
  button.disabled = true;
  $("server-safety").textContent = "Checking the server…";
  try {
    const s = await api.checkServer(t.id);
    show(s);
    $("check-report").textContent = s.report ?? s.words;
    $<HTMLDialogElement>("check-dialog").showModal();
  } catch (e) {
    $("server-safety").textContent = `The check failed: ${words(e)}`;
  } finally {
    button.disabled = false;
  }
}
