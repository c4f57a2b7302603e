// Drafts: every edit is written to disk (debounced); Accepts are written by Rust before they
// answer; a close or quit writes at once. A crash, a kill or a closed window loses nothing.
import { api, codeOf, words } from "./api";
import { store, syncText, type Tab } from "./store";
import { renderMessages, tabProblem } from "./messages";

export const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();
export function persistDraft(t: Tab, now = false): Promise<void> {
  clearTimeout(draftTimers.get(t.id));
  const write = () => {
    draftTimers.delete(t.id);
    if (t.id === store.activeId) syncText();
    return api.saveDraft(t.id, t.text).then(
      () => {
        if (store.draftWarning) (store.draftWarning = null), renderMessages();
      },
      (e) => {
        if (codeOf(e) === "draft_not_saved") store.draftWarning = words(e);
        else tabProblem(t, e);
        renderMessages();
      },
    );
  };
  if (now) return write();
  draftTimers.set(t.id, setTimeout(() => void write(), 250));
  return Promise.resolve();
}
