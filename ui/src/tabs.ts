// Tabs: the tab bar, opening, activating, closing and reloading a resource.
import { api, type TabView } from "./api";
import { resetText } from "./editor";
import * as model from "./model";
import { $, store, active, noteSavedDoc, syncText, type Tab } from "./store";
import { draftTimers, persistDraft } from "./drafts";
import { renderMessages, tabProblem } from "./messages";
import { renderRecent, showConnection } from "./connections";
import { closeConflictView, openConflictView, showConflictView } from "./conflict";
import { refreshSafety } from "./safety";
import { placeOf, rememberRecent, renderWorkspace } from "./workspace";
import { showHistory } from "./history";

export function renderTabs() {
  syncText();
  const bar = $("tabs");
  bar.replaceChildren(
    ...store.tabs.map((t) => {
      const st = model.status(t);
      const el = document.createElement("div");
      el.className = `tab s-${st}${t.id === store.activeId ? " active" : ""}`;
      el.dataset.testid = "tab";
      el.dataset.tabId = t.id;
      el.dataset.status = st;
      el.dataset.flags = model.flags(t).join(" ");
      el.title = t.url;
      const name = document.createElement("span");
      name.textContent = model.title(t.url);
      const status = document.createElement("span");
      status.className = "st";
      status.dataset.testid = "tab-status";
      status.textContent = model.describe(t);
      el.append(name);
      // Two tabs of the same name on different connections (staging and production): each
      // says which connection it is on.
      if (store.tabs.some((o) => o.id !== t.id && o.connectionId !== t.connectionId && model.title(o.url) === model.title(t.url))) {
        const conn = document.createElement("span");
        conn.className = "conn";
        conn.dataset.testid = "tab-connection";
        conn.textContent = store.connections.find((c) => c.id === t.connectionId)?.name ?? t.connectionId;
        el.append(conn);
      }
      el.append(status);
      if (model.sameResource(store.tabs, t.id).length) {
        const dup = document.createElement("span");
        dup.className = "dup";
        dup.dataset.testid = "tab-duplicate";
        dup.textContent = "2×";
        dup.title = "This resource is also open in another tab";
        el.append(dup);
      }
      const close = document.createElement("button");
      close.textContent = "×";
      close.dataset.testid = "tab-close";
      close.title = "Close";
      close.addEventListener("click", (e) => (e.stopPropagation(), void closeTab(t.id)));
      el.append(close);
      el.addEventListener("click", () => activate(t.id));
      return el;
    }),
  );
  // The active tab is always in view in the bar (however many tabs are open).
  bar.querySelector<HTMLElement>(".tab.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
  const t = active();
  $("workspace").hidden = !t;
  $("empty").hidden = !!t;
  if (store.editor) store.editor.contentDOM.contentEditable = t ? "true" : "false";
  renderMessages();
  if (!t) return;
  $("tab-url").textContent = t.url;
  $("tab-url").title = t.url;
  // Words for people in the header; the validators one click away.
  $("version-words").textContent =
    t.round !== "none"
      ? "Merging with the server's newer version"
      : t.stale
        ? "A newer version is on the server"
        : t.validator
          ? "Editing the version you loaded"
          : "Editing the version you loaded (the server gave no validator)";
  $("tab-validator").textContent =
    t.round !== "none" ? `${t.validator ?? "(none)"} → resubmits with ${t.roundValidator ?? "(none)"}` : (t.validator ?? "(none)");
  $("dup-note").hidden = model.sameResource(store.tabs, t.id).length === 0;
  $("resubmit").hidden = t.round === "none";
  $("save").hidden = t.round !== "none";
  $("warnings").replaceChildren(...t.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  const items = $("items");
  items.hidden = t.items.length === 0;
  $("items-count").textContent = `${t.items.length} item${t.items.length === 1 ? "" : "s"} in this collection`;
  $("items-list").replaceChildren(
    ...t.items.map((id) => {
      const a = document.createElement("a");
      a.textContent = id;
      a.dataset.testid = "collection-item";
      a.addEventListener("click", () => void openResource(`${t.url}/${encodeURIComponent(id)}`, t.connectionId));
      return a;
    }),
  );
  void renderWorkspace();
}

export function activate(id: string) {
  // Edits of the tab being left that typing had not read in yet: read in, and drafted now (the
  // pending flush would be replaced by the next tab's).
  const leaving = active();
  if (leaving && store.pending) {
    syncText();
    void persistDraft(leaving);
  }
  // A tab in the background keeps its texts as strings only.
  if (leaving && leaving.id !== id) leaving.savedDoc = undefined;
  store.activeId = id;
  const t = active()!;
  store.windowError = null;
  store.windowNotice = null;
  // The header shows the tab's own connection.
  $<HTMLSelectElement>("connection").value = t.connectionId;
  showConnection();
  $("request-preview").hidden = true;
  store.settingText = true;
  if (store.editor) resetText(store.editor, t.text);
  store.settingText = false;
  noteSavedDoc(t);
  // A round that ended while the tab was in the background is shown now.
  if (t.round === "conflict" && !t.conflict && t.roundView) openConflictView(t, t.roundView, t.roundStatuses ?? null);
  else showConflictView(t);
  renderTabs();
  void refreshSafety();
  // History lists the active tab's versions: it follows the tab (Compare and Restore act on it).
  if (!$("history").hidden) void showHistory(true);
}

export async function openResource(target: string, connectionId?: string) {
  store.windowError = null;
  const conn = connectionId ?? $<HTMLSelectElement>("connection").value;
  try {
    const v: TabView = await api.openTab(conn, target);
    const t: Tab = {
      id: v.id, url: v.url, savedText: v.text, text: v.text, validator: v.validator, saving: false, round: "none",
      error: null, stale: false, connectionId: v.connection_id, warnings: v.warnings, items: v.collection_items, conflict: null, notice: null,
    };
    store.tabs.push(t);
    rememberRecent(placeOf(v.connection_id, v.url));
    if (!store.recent.includes(target)) {
      store.recent.unshift(target);
      renderRecent();
    }
    store.demoUrl = (await api.listConnections()).demo_url;
    activate(t.id);
  } catch (e) {
    tabProblem(null, e);
  }
}

export async function closeTab(id: string) {
  syncText();
  const t = store.tabs.find((x) => x.id === id);
  if (!t) return;
  // Whatever its status (stale, failed, merged, in conflict): unsaved work asks first.
  if (model.hasUnsavedWork(t) && !confirm(`"${model.title(t.url)}" has unsaved work (${model.describe(t)}). Close it and discard it?`)) {
    return;
  }
  clearTimeout(draftTimers.get(id));
  await api.closeTab(id);
  closeConflictView(t);
  store.tabs = store.tabs.filter((x) => x.id !== id);
  if (store.activeId === id) store.activeId = store.tabs.length ? store.tabs[store.tabs.length - 1].id : null;
  if (store.activeId) activate(store.activeId);
  else {
    store.settingText = true;
    if (store.editor) resetText(store.editor, "");
    store.settingText = false;
    showConflictView(null);
    $("history").hidden = true;
    renderTabs();
  }
}

export async function reload() {
  syncText();
  const t = active();
  if (!t) return;
  if (model.hasUnsavedWork(t) && !confirm("Reload the server's version and discard your unsaved edits in this tab?")) return;
  try {
    const v = await api.reloadTab(t.id);
    Object.assign(t, {
      savedText: v.text, text: v.text, validator: v.validator, round: "none", error: null, stale: false, warnings: v.warnings,
      items: v.collection_items, conflict: null, notice: null, roundView: null, overwritten: null,
    });
    activate(t.id);
  } catch (e) {
    tabProblem(t, e);
    renderTabs();
  }
}
