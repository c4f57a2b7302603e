// Whether the active tab's server refuses stale writes: a badge in the toolbar, and "Check
// server", which runs the server check in Rust and shows its report with the evidence.
import { api, words } from "./api";
import { $, active, store } from "./store";
import { intents } from "./intents";
import type { SafetyView } from "./api";

function show(s: SafetyView) {
  const badge = $("server-safety");
  badge.textContent = s.words;
  // Cut short on the toolbar's line: the whole verdict on hover.
  badge.title = s.words;
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
    // The check found the document shaped like an API with a dialect: offer it, through the
    // connection dialog (the user sees and saves the change); built-in connections say how.
    const d = s.proposed_dialect;
    const conn = store.connections.find((x) => x.id === t.connectionId);
    const editable = !!conn && !conn.is_demo && conn.id !== "env";
    $("check-dialect").hidden = !d;
    $("check-dialect").textContent = !d ? ""
      : editable ? `This looks like the ${d} API: its connection can use the ${d} dialect (Version, in the connection). Tabs opened before the change keep what they loaded; reopen them.`
      : `This looks like the ${d} API: start the app with IFMATCH_DIALECT=${d} (or add a connection with Version ${d}).`;
    const use = $<HTMLButtonElement>("use-dialect");
    use.hidden = !d || !editable;
    use.textContent = `Use the ${d} dialect…`;
    use.onclick = () => {
      $<HTMLDialogElement>("check-dialog").close();
      if (conn && d) intents.editConnection(conn, d);
    };
    $<HTMLDialogElement>("check-dialog").showModal();
  } catch (e) {
    $("server-safety").textContent = `The check failed: ${words(e)}`;
  } finally {
    button.disabled = false;
  }
}
