// Local history: the versions of the active tab's resource the app loaded, met on the server or
// saved (kept by Rust on disk). Compare shows a version against the editor's text; Restore puts
// it in the editor as an unsaved edit — Save then writes it, conditionally, like any edit (a
// change on the server meanwhile is merged, never written over).
import { api, words } from "./api";
import { setText } from "./editor";
import { $, store, active, syncText } from "./store";
import { tabProblem } from "./messages";
import { intents } from "./intents";
import { persistDraft } from "./drafts";
import type { HistoryEntry } from "./bindings/HistoryEntry";

const KIND: Record<string, string> = {
  loaded: "loaded",
  server: "on the server (someone else's)",
  saved: "saved by you",
};

/** The tab whose versions the open History lists. */
let shownFor: string | null = null;

/** History's button: opens it on the active tab's versions, or closes it. */
export async function showHistory() {
  const box = $("history");
  if (!box.hidden || !active()) {
    box.hidden = true;
    shownFor = null;
    return;
  }
  await list(true);
}

/** Keeps an open History on the active tab (it follows the tab: Compare and Restore act on
 * it); `versions`: the tab's versions changed (a save, a reload), so they are listed again. */
export async function renderHistory(versions = false) {
  if ($("history").hidden) return;
  if (!active()) {
    $("history").hidden = true;
    shownFor = null;
    return;
  }
  if (versions || shownFor !== active()?.id) await list(false);
}

async function list(opening: boolean) {
  const t = active();
  if (!t) return;
  shownFor = t.id;
  try {
    const rows = await api.historyList(t.id);
    if (active() !== t) return;
    $("history-rows").replaceChildren(...rows.map((e) => row(e)));
    $("history-empty").hidden = rows.length > 0;
    if (opening) $("history").hidden = false;
  } catch (e) {
    tabProblem(t, e);
  }
}

function row(e: HistoryEntry): HTMLElement {
  const tr = document.createElement("tr");
  tr.dataset.testid = "history-row";
  tr.dataset.kind = e.kind;
  for (const v of [e.at.slice(0, 19).replace("T", " "), KIND[e.kind] ?? e.kind, e.validator ?? "—", `${e.bytes} bytes`]) {
    tr.append(Object.assign(document.createElement("td"), { textContent: v }));
  }
  const actions = document.createElement("td");
  const compare = Object.assign(document.createElement("button"), { className: "quiet", textContent: "Compare" });
  compare.dataset.testid = "history-compare";
  compare.addEventListener("click", () => void compareWith(e));
  const restore = Object.assign(document.createElement("button"), { className: "quiet", textContent: "Restore" });
  restore.dataset.testid = "history-restore";
  restore.addEventListener("click", () => void restoreVersion(e));
  actions.append(compare, restore);
  tr.append(actions);
  return tr;
}

async function compareWith(e: HistoryEntry) {
  const t = active();
  if (!t || !store.editor) return;
  try {
    const r = await api.historyCompare(t.id, e.file, store.editor.state.doc.toString());
    $("review-title").textContent = `The version of ${e.at.slice(0, 19).replace("T", " ")} → the editor`;
    $("review-summary").textContent = r.lines.length ? `${r.added} line(s) added since, ${r.removed} removed.` : "The same as the editor's text.";
    $("review-diff").replaceChildren(
      ...r.lines.map((l) => {
        const d = document.createElement("div");
        d.className = l.kind === "+" ? "add" : l.kind === "-" ? "del" : l.kind === "…" ? "gap" : "ctx";
        d.textContent = l.kind === "…" ? "…" : `${l.kind} ${l.text}`;
        return d;
      }),
    );
    $("review-always-row").hidden = true;
    $("review-send").hidden = true;
    // A comparison tells no sides: the resubmit review's legend (left from the last review)
    // does not belong here.
    $("review-legend").textContent = "";
    const dlg = $<HTMLDialogElement>("review-dialog");
    dlg.addEventListener("close", () => ($("review-send").hidden = false), { once: true });
    dlg.showModal();
  } catch (err) {
    tabProblem(t, err);
  }
}

async function restoreVersion(e: HistoryEntry) {
  const t = active();
  if (!t || !store.editor) return;
  try {
    const text = await api.historyText(t.id, e.file);
    syncText();
    store.settingText = true;
    setText(store.editor, text);
    store.settingText = false;
    t.text = text;
    t.notice = `Restored the version of ${e.at.slice(0, 19).replace("T", " ")} (${KIND[e.kind] ?? e.kind}) into the editor. Save writes it — conditionally: a change on the server meanwhile is merged, not written over.`;
    void persistDraft(t);
    intents.render();
  } catch (err) {
    t.error = words(err);
    intents.render();
  }
}
