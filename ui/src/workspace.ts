// The workspace drawer: the resources one works with — open tabs with their state (and whether
// their server refuses stale writes), the items of open collections, pinned resources, recent
// ones — searchable; a click opens or activates one, on the connection it was opened on. Pins
// and recent resources are kept in the window's localStorage (connection ids and paths or URLs
// only).
import { api } from "./api";
import * as model from "./model";
import { $, store } from "./store";
import { renderMessages } from "./messages";
import { intents } from "./intents";

const PINS = "ifmatch.pinned";
const RECENT = "ifmatch.recent";

/** A resource remembered with the connection it was opened on: pinned and recent resources
 * open there, never on whichever connection the header has selected. `target` is the path
 * under the connection's base URL (so the built-in demo's entries follow its port from run to
 * run), or the full URL when it lies elsewhere. An entry without a connection (pins kept before
 * this) opens on the selected one. */
export interface Place {
  connectionId: string | null;
  target: string;
}

function readPlaces(key: string): Place[] {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? "[]");
    if (!Array.isArray(v)) return [];
    return v.flatMap((x): Place[] => {
      if (typeof x === "string") return [{ connectionId: null, target: x }];
      if (x && typeof x.target === "string") return [{ connectionId: typeof x.connectionId === "string" ? x.connectionId : null, target: x.target }];
      return [];
    });
  } catch {
    return [];
  }
}

const same = (a: Place, b: Place) => a.connectionId === b.connectionId && a.target === b.target;

function pins(): Place[] {
  return readPlaces(PINS);
}

function setPins(p: Place[]) {
  localStorage.setItem(PINS, JSON.stringify(p));
}

/** The place of a resource opened at `url` on `connectionId`. */
export function placeOf(connectionId: string, url: string): Place {
  const conn = store.connections.find((c) => c.id === connectionId);
  // The built-in demo's view carries no base URL: it is wherever the demo runs now.
  const base = (conn?.is_demo ? store.demoUrl : conn?.base_url)?.replace(/\/+$/, "");
  const target = base && url.startsWith(`${base}/`) ? url.slice(base.length) : url;
  return { connectionId, target };
}

/** Puts a resource first among the recent ones (at most 30). */
export function rememberRecent(place: Place) {
  const r = readPlaces(RECENT).filter((x) => !same(x, place));
  localStorage.setItem(RECENT, JSON.stringify([place, ...r].slice(0, 30)));
}

/** The connection's name, for the label (none for an entry kept without one). */
function connectionName(p: Place): string {
  if (!p.connectionId) return "";
  return store.connections.find((c) => c.id === p.connectionId)?.name ?? "a connection that was removed";
}

/** Opens a remembered resource on its own connection. */
function openPlace(p: Place) {
  if (p.connectionId && !store.connections.some((c) => c.id === p.connectionId)) {
    store.windowError = `${p.target} was opened on a connection that no longer exists; choose a connection and open it from there.`;
    renderMessages();
    return;
  }
  void intents.openResource(p.target, p.connectionId ?? undefined);
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

function pinButton(place: Place): HTMLButtonElement {
  const pinned = pins().some((x) => same(x, place));
  const b = Object.assign(document.createElement("button"), {
    className: "quiet pin",
    textContent: pinned ? "Unpin" : "Pin",
    title: pinned ? "Remove from the pinned resources" : "Keep at the top",
  });
  b.dataset.testid = "ws-pin";
  b.addEventListener("click", () => {
    const p = pins();
    setPins(pinned ? p.filter((x) => !same(x, place)) : [place, ...p]);
    void renderWorkspace();
  });
  return b;
}

/** A pinned or recent resource: its path, its connection beside it. */
function placeItem(p: Place, testid: string): HTMLLIElement {
  const conn = Object.assign(document.createElement("span"), { className: "conn", textContent: connectionName(p) });
  conn.dataset.testid = "ws-connection";
  const li = item(p.target, testid, () => openPlace(p), [conn, pinButton(p)]);
  li.dataset.connection = p.connectionId ?? "";
  return li;
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
      const li = item(`${model.title(t.url)} — ${t.url}`, "ws-tab", () => intents.activate(t.id), [state, server]);
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
      const li = item(`${model.title(t.url)} › ${id}`, "ws-item", () => void intents.openResource(url, t.connectionId), [
        pinButton(placeOf(t.connectionId, url)),
      ]);
      li.title = url;
      return [li];
    }),
  );
  $("ws-items").replaceChildren(...items.slice(0, 200));
  $("ws-items-head").hidden = items.length === 0;
  const p = pins();
  const found = (x: Place) => matches(`${x.target} ${connectionName(x)}`);
  $("ws-pinned").replaceChildren(...p.filter(found).map((x) => placeItem(x, "ws-pinned-item")));
  $("ws-recent").replaceChildren(
    ...readPlaces(RECENT)
      .filter((x) => !p.some((y) => same(x, y)) && found(x))
      .slice(0, 30)
      .map((x) => placeItem(x, "ws-recent-item")),
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
