// The exact request a save would send now (secrets masked), from Rust's own plan.
import { api, codeOf, words } from "./api";
import { $, store, active } from "./store";
import { tabError, tabProblem } from "./messages";

export async function preview() {
  const t = active();
  if (!t || !store.editor) return;
  const pre = $("request-preview");
  if (!pre.hidden) {
    pre.hidden = true;
    return;
  }
  try {
    const p = await api.previewRequest(t.id, store.editor.state.doc.toString(), !!t.round);
    pre.textContent = `${p.method} ${p.url}\n${p.headers.map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${p.body}`;
    pre.hidden = false;
  } catch (e) {
    // Invalid JSON has nothing to preview: the editor already marks where.
    if (codeOf(e) === "invalid_json") tabError(t, `Nothing to preview: ${words(e)}`);
    else tabProblem(t, e);
  }
}
