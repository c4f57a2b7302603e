// Drafts: every edit is written to disk (debounced); Accepts are written by Rust before they
// answer; a close or quit writes at once. A crash, a kill or a closed window loses nothing.
import { api, codeOf, words } from "./api";
import type { Text } from "@codemirror/state";
import { store, syncText, type Tab } from "./store";
import { checkedBy } from "./editor";
import { renderMessages, tabProblem } from "./messages";

export const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** Draft writes in a row Rust kept back per tab (its round changed while they were on their
 * way): written again a moment later; said once it goes on. */
const waits = new Map<string, number>();

/** What a draft write's answer does to the window: a failed write's warning stays up until one
 * works. */
function written(t: Tab, w: Promise<unknown>): Promise<void> {
  return w.then(
    () => {
      waits.delete(t.id);
      if (store.draftWarning) (store.draftWarning = null), renderMessages();
    },
    (e) => {
      if (codeOf(e) === "draft_waits") {
        // The window shows the round Rust holds in a moment (its answer is on its way).
        const n = (waits.get(t.id) ?? 0) + 1;
        waits.set(t.id, n);
        if (n >= 5) {
          store.draftWarning = "Your latest edits in one tab are not on disk yet: the server's newer version is being merged into that tab's round. They are in the window, and written as soon as it shows the merge.";
          renderMessages();
        }
        if (!draftTimers.has(t.id) && store.tabs.includes(t)) draftTimers.set(t.id, setTimeout(() => void persistDraft(t, true), 1000));
        return;
      }
      if (codeOf(e) === "draft_not_saved") store.draftWarning = words(e);
      else tabProblem(t, e);
      renderMessages();
    },
  );
}

export function persistDraft(t: Tab, now = false): Promise<void> {
  clearTimeout(draftTimers.get(t.id));
  const write = () => {
    draftTimers.delete(t.id);
    let doc: Text | undefined;
    if (t.id === store.activeId && store.editor) {
      syncText();
      doc = store.editor.state.doc;
    }
    // Which round the window shows with this text (none: the edit before any), and the version
    // it stands on: a draft is kept only with the round and the version it belongs to.
    const answer = api.saveDraft(t.id, t.text, t.round ? t.round.view.key : null, t.validator);
    // The answer carries the JSON check of this very text: the lint waits for it.
    if (doc && doc.length === t.text.length) checkedBy(doc, answer);
    return written(t, answer);
  };
  if (now) return write();
  draftTimers.set(t.id, setTimeout(() => void write(), 250));
  return Promise.resolve();
}

/** The draft of a round's answer, once it is shown: while the editor still holds `shown` (the
 * Result as Rust sent it), Rust writes its own copy and nothing crosses the bridge (at size, the
 * text's copy and its JSON cost the window about as much as showing the round); after any edit
 * the text is sent as always. */
export function persistRoundDraft(t: Tab, shown: Text | undefined): Promise<void> {
  const unchanged = !!shown && t.id === store.activeId && store.editor?.state.doc === shown;
  if (!unchanged || draftTimers.has(t.id) || !t.round) return persistDraft(t, true);
  return written(t, api.saveRoundDraft(t.id, t.round.view.key));
}
