// Tabs: the tab bar and the active tab's header. Opening, activating, closing and reloading a
// tab are actions (actions.ts); a click here asks for them (intents.ts).
import * as model from "./model";
import { $, store, active, syncText } from "./store";
import { intents } from "./intents";

/** The tab the bar last scrolled into view. */
let scrolledTo: string | null = null;

/** Draws the tab bar and the active tab's header from the store. */
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
      close.addEventListener("click", (e) => (e.stopPropagation(), void intents.closeTab(t.id)));
      el.append(close);
      el.addEventListener("click", () => intents.activate(t.id));
      return el;
    }),
  );
  // The active tab is always in view in the bar (however many tabs are open): scrolled to when it
  // changes, in the next frame, so the page is laid out once with the editor's new text (a
  // layout forced here, before the editor measures, cost a 10 MB Open about a tenth).
  if (store.activeId !== scrolledTo) {
    scrolledTo = store.activeId;
    requestAnimationFrame(() =>
      bar.querySelector<HTMLElement>(".tab.active")?.scrollIntoView({ block: "nearest", inline: "nearest" }),
    );
  }
  const t = active();
  $("workspace").hidden = !t;
  $("empty").hidden = !!t;
  if (store.editor) store.editor.contentDOM.contentEditable = t ? "true" : "false";
  if (!t) return;
  $("tab-url").textContent = t.url;
  $("tab-url").title = t.url;
  // Words for people in the header; the validators one click away.
  $("version-words").textContent =
    t.round
      ? "Merging with the server's newer version"
      : t.stale
        ? "A newer version is on the server"
        : t.validator
          ? "Editing the version you loaded"
          : "Editing the version you loaded (the server gave no validator)";
  $("tab-validator").textContent =
    t.round ? `${t.validator ?? "(none)"} → resubmits with ${t.round.view.validator ?? "(none)"}` : (t.validator ?? "(none)");
  $("dup-note").hidden = model.sameResource(store.tabs, t.id).length === 0;
  $("resubmit").hidden = !t.round;
  $("save").hidden = !!t.round;
  $("warnings").replaceChildren(...t.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  const items = $("items");
  items.hidden = t.items.length === 0;
  $("items-count").textContent = `${t.items.length} item${t.items.length === 1 ? "" : "s"} in this collection`;
  $("items-list").replaceChildren(
    ...t.items.map((id) => {
      const a = document.createElement("a");
      a.textContent = id;
      a.dataset.testid = "collection-item";
      a.addEventListener("click", () => void intents.openResource(`${t.url}/${encodeURIComponent(id)}`, t.connectionId));
      return a;
    }),
  );
}
