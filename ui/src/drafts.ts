// Drafts: every edit is written to disk (debounced); Accepts are written by Rust before they
// answer; a close or quit writes at once. A crash, a kill or a closed window loses nothing.
import { api, codeOf, words } from "./api";
import type { Text } from "@codemirror/state";
import { store, syncText, type Tab } from "./store";
import { checkedBy } from "./editor";
import { renderMessages, tabProblem } from "./messages";

export const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** What a draft write's answer does to the window: a failed write's warning stays up until one
 * works. */
function written(t: Tab, w: Promise<unknown>): Promise<void> {
  return w.then(
    () => {
      if (store.draftWarning) (store.draftWarning = null), renderMessages();
    },
    (e) => {
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
    // Which round the window shows with this text (none: the edit before any): a draft is kept
    // only with the round it belongs to.
    const answer = api.saveDraft(t.id, t.text, t.round ? t.round.view.key : null);
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
  if (!unchanged || draftTimers.has(t.id)) return persistDraft(t, true);
  return written(t, api.saveRoundDraft(t.id));
}
