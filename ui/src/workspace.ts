// The workspace drawer: the resources one works with — open tabs with their state (and whether
// their server refuses stale writes), the items of open collections, pinned resources, recent
// ones — searchable; a click opens or activates one. Pins are kept in the window's localStorage (paths and URLs only).
import { api } from "./api";
import * as model from "./model";
import { $, store } from "./store";
import { activate, openResource } from "./tabs";

const PINS = "ifmatch.pinned";

function pins(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(PINS) ?? "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function setPins(p: string[]) {
  localStorage.setItem(PINS, JSON.stringify(p));
}

function matches(text: string): boolean {
  const q = $<HTMLInputElement>("ws-search").value.toLowerCase().split(/\s+/).filter(Boolean);
  return q.every((w) => text.toLowerCase().includes(w));
}

function item(label: string, testid: string, onOpen: () => void, extra?: HTMLElement[]): HTMLLIElement {
  const li = document.createElement("li");
  li.dataset.testid = testid;
  const a = Object.assign(document.createElement("a"), { href: "#", textContent: label });
  a.addEventListener("click", (e) => (e.preventDefault(), onOpen()));
  li.append(a, ...(extra ?? []));
  return li;
}

function pinButton(target: string): HTMLButtonElement {
  const pinned = pins().includes(target);
  const b = Object.assign(document.createElement("button"), {
    className: "quiet pin",
    textContent: pinned ? "Unpin" : "Pin",
    title: pinned ? "Remove from the pinned resources" : "Keep at the top",
  });
  b.dataset.testid = "ws-pin";
  b.addEventListener("click", () => {
    const p = pins();
    setPins(pinned ? p.filter((x) => x !== target) : [target, ...p]);
    void renderWorkspace();
  });
  return b;
}

export async function renderWorkspace() {
  if ($("workspace-drawer").hidden) return;
  // Open tabs, each with its state and its server's verdict.
  const open = await Promise.all(
    store.tabs.map(async (t) => {
      let safety = "";
      try {
        safety = (await api.serverSafety(t.id)).verdict;
      } catch {
        /* closed meanwhile */
      }
      const state = Object.assign(document.createElement("span"), { className: "st", textContent: model.status(t) });
      const server = Object.assign(document.createElement("span"), {
        className: "safety",
        textContent: safety === "unprotected" ? "unprotected server" : "",
      });
      server.dataset.verdict = safety;
      const li = item(`${model.title(t.url)} — ${t.url}`, "ws-tab", () => activate(t.id), [state, server]);
      li.dataset.status = model.status(t);
      li.dataset.safety = safety;
      return { li, text: t.url };
    }),
  );
  $("ws-tabs").replaceChildren(...open.filter((o) => matches(o.text)).map((o) => o.li));
  // The items of every open collection (one tab a collection, each item opens in a tab).
  const seen = new Set<string>();
  const items = store.tabs.flatMap((t) =>
    t.items.flatMap((id) => {
      const url = `${t.url}/${encodeURIComponent(id)}`;
      if (seen.has(url) || !matches(`${model.title(t.url)} ${id} ${url}`)) return [];
      seen.add(url);
      const li = item(`${model.title(t.url)} › ${id}`, "ws-item", () => void openResource(url, t.connectionId), [pinButton(url)]);
      li.title = url;
      return [li];
    }),
  );
  $("ws-items").replaceChildren(...items.slice(0, 200));
  $("ws-items-head").hidden = items.length === 0;
  const p = pins();
  $("ws-pinned").replaceChildren(
    ...p.filter(matches).map((r) => item(r, "ws-pinned-item", () => void openResource(r), [pinButton(r)])),
  );
  $("ws-recent").replaceChildren(
    ...store.recent
      .filter((r) => !p.includes(r) && matches(r))
      .slice(0, 30)
      .map((r) => item(r, "ws-recent-item", () => void openResource(r), [pinButton(r)])),
  );
}

export function setupWorkspace() {
  $("ws-toggle").addEventListener("click", () => {
    $("workspace-drawer").hidden = !$("workspace-drawer").hidden;
    void renderWorkspace();
  });
  $("ws-search").addEventListener("input", () => void renderWorkspace());
  $("ws-close").addEventListener("click", () => ($("workspace-drawer").hidden = true));
}
