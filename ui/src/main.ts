// The window: connections, tabs, the editor, the save loop's outcomes and the conflict view.
// It renders state and sends intents; Rust fetches, parses, merges and writes.
import type { EditorView } from "@codemirror/view";
import { api, words, type ConnectionView, type SaveView, type TabView, type WriteMethod } from "./api";
import { makeEditor, setText, showLines } from "./editor";
import * as model from "./model";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface Tab extends model.TabState {
  /** During a round: the server version's validator the resubmit will carry. */
  roundValidator?: string | null;
  /** The round's save result (kept in the draft). */
  roundView?: SaveView | null;
  connectionId: string;
  warnings: string[];
  items: string[];
  conflict: ConflictRound | null;
}

interface ConflictRound {
  save: SaveView;
  nav: model.ConflictNav;
  mine: EditorView;
  theirs: EditorView;
  base: EditorView;
}

let connections: ConnectionView[] = [];
let tabs: Tab[] = [];
let activeId: string | null = null;
let editor: EditorView | null = null;
const recent: string[] = [];
let settingText = false;

const active = () => tabs.find((t) => t.id === activeId) ?? null;

// Drafts: every edit and every resolution is written to disk (debounced), so a crash, a kill
// or a closed window loses nothing.
const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();
function persistDraft(t: Tab, now = false) {
  clearTimeout(draftTimers.get(t.id));
  const write = () => {
    draftTimers.delete(t.id);
    const round = t.conflict ? t.conflict.save : t.roundView ?? null;
    const resolutions = t.conflict ? t.conflict.nav.resolutions.slice() : [];
    api.saveDraft(t.id, t.text, round, resolutions).catch((e) => showError(words(e)));
  };
  if (now) write();
  else draftTimers.set(t.id, setTimeout(write, 250));
}

function showError(message: string | null) {
  $("error").textContent = message ?? "";
  $("error").hidden = !message;
}

function showNotice(message: string | null) {
  $("notice").textContent = message ?? "";
  $("notice").hidden = !message;
}

// ---------------------------------------------------------------- connections

async function loadConnections(selectId?: string) {
  const c = await api.listConnections();
  connections = c.connections;
  $("secret-storage").textContent = c.secret_storage_words;
  $("weak-opt-in-row").hidden = c.secret_storage !== "memory_only" && c.secret_storage !== "file";
  $<HTMLInputElement>("weak-opt-in").checked = c.secret_storage === "file";
  for (const r of c.recent) if (!recent.includes(r)) recent.push(r);
  $("recent").replaceChildren(...recent.slice(0, 30).map((r) => Object.assign(document.createElement("option"), { value: r })));
  const sel = $<HTMLSelectElement>("connection");
  sel.replaceChildren(...connections.map((x) => new Option(`${x.name}${x.is_demo ? "" : ` (${x.auth}, ${x.method})`}`, x.id)));
  sel.value = selectId ?? c.default_id;
  showConnection(c.demo_url);
}

function showConnection(demoUrl?: string | null) {
  const conn = connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
  if (!conn) return;
  $("connection-url").textContent = conn.is_demo ? `${demoUrl ?? "(starts on first use)"} — built-in demo server` : conn.base_url;
  if (conn.is_demo && demoUrl) $("connection-url").dataset.url = demoUrl;
  $("another-admin").hidden = !conn.is_demo;
  $("remove-connection").hidden = conn.is_demo || conn.id === "env";
  $("secret-missing").hidden = !conn.secret_missing;
}

function setupConnectionDialog() {
  const dlg = $<HTMLDialogElement>("connection-dialog");
  const auth = $<HTMLSelectElement>("c-auth");
  const syncAuth = () => {
    for (const el of dlg.querySelectorAll<HTMLElement>("label.auth")) el.hidden = !el.classList.contains(auth.value);
    $("c-header").parentElement!.hidden = auth.value !== "header";
  };
  auth.addEventListener("change", syncAuth);
  $<HTMLSelectElement>("c-preset").addEventListener("change", (e) => {
    if ((e.target as HTMLSelectElement).value === "gmail") {
      $<HTMLInputElement>("c-name").value = "Gmail labels";
      $<HTMLInputElement>("c-url").value = "https://gmail.googleapis.com/gmail/v1/users/me";
      auth.value = "bearer";
      $<HTMLSelectElement>("c-method").value = "merge_patch";
      syncAuth();
    }
  });
  $<HTMLInputElement>("weak-opt-in").addEventListener("change", async (e) => {
    const on = (e.target as HTMLInputElement).checked;
    const b = await api.setWeakSecretStorage(on);
    await loadConnections($<HTMLSelectElement>("connection").value);
    if (on && b !== "file") showError("The weaker storage could not be turned on.");
  });
  $("remove-connection").addEventListener("click", async () => {
    const id = $<HTMLSelectElement>("connection").value;
    if (!confirm("Remove this connection and its stored secret?")) return;
    try {
      await api.deleteConnection(id);
      await loadConnections();
    } catch (e) {
      showError(words(e));
    }
  });
  $("new-connection").addEventListener("click", () => {
    $("c-error").hidden = true;
    syncAuth();
    dlg.showModal();
  });
  $("connection-form").addEventListener("submit", async (ev) => {
    if ((ev as SubmitEvent).submitter?.getAttribute("value") === "cancel") return;
    ev.preventDefault();
    const secret = $<HTMLInputElement>("c-secret").value;
    const a = auth.value;
    try {
      const saved = await api.saveConnection({
        id: null,
        name: $<HTMLInputElement>("c-name").value,
        base_url: $<HTMLInputElement>("c-url").value,
        auth:
          a === "bearer" ? { type: "bearer", token: secret }
          : a === "basic" ? { type: "basic", user: $<HTMLInputElement>("c-user").value, password: secret }
          : a === "header" ? { type: "header", name: $<HTMLInputElement>("c-header").value, value: secret }
          : { type: "none" },
        method: $<HTMLSelectElement>("c-method").value as WriteMethod,
        auto_resubmit: $<HTMLInputElement>("c-auto").checked,
        trusted_cert_pem: $<HTMLTextAreaElement>("c-pem").value.trim() || null,
      });
      $<HTMLInputElement>("c-secret").value = "";
      dlg.close();
      await loadConnections(saved.id);
    } catch (e) {
      $("c-error").textContent = words(e);
      $("c-error").hidden = false;
    }
  });
}

// ---------------------------------------------------------------- tabs

function renderTabs() {
  const bar = $("tabs");
  bar.replaceChildren(
    ...tabs.map((t) => {
      const st = model.status(t);
      const el = document.createElement("div");
      el.className = `tab s-${st}${t.id === activeId ? " active" : ""}`;
      el.dataset.testid = "tab";
      el.dataset.tabId = t.id;
      el.dataset.status = st;
      el.title = t.url;
      const name = document.createElement("span");
      name.textContent = model.title(t.url);
      const status = document.createElement("span");
      status.className = "st";
      status.dataset.testid = "tab-status";
      status.textContent = model.STATUS_WORDS[st];
      el.append(name, status);
      if (model.sameResource(tabs, t.id).length) {
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
      close.addEventListener("click", (e) => (e.stopPropagation(), closeTab(t.id)));
      el.append(close);
      el.addEventListener("click", () => activate(t.id));
      return el;
    }),
  );
  const t = active();
  $("workspace").hidden = !t;
  if (!t) return;
  $("tab-url").textContent = t.url;
  $("tab-validator").textContent =
    t.round !== "none" ? `${t.validator ?? "(none)"} → resubmits with ${t.roundValidator ?? "(none)"}` : (t.validator ?? "(none)");
  $("dup-note").hidden = model.sameResource(tabs, t.id).length === 0;
  $("resubmit").hidden = t.round === "none";
  $("warnings").replaceChildren(...t.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  const items = $("items");
  items.hidden = t.items.length === 0;
  items.replaceChildren(
    Object.assign(document.createElement("span"), { textContent: "Items: " }),
    ...t.items.map((id) => {
      const a = document.createElement("a");
      a.textContent = id;
      a.dataset.testid = "collection-item";
      a.addEventListener("click", () => openResource(`${t.url}/${encodeURIComponent(id)}`));
      return a;
    }),
  );
}

function activate(id: string) {
  activeId = id;
  const t = active()!;
  showError(t.error);
  showNotice(null);
  $("request-preview").hidden = true;
  settingText = true;
  if (editor) setText(editor, t.text);
  settingText = false;
  showConflictView(t);
  renderTabs();
}

async function openResource(target: string) {
  showError(null);
  const conn = $<HTMLSelectElement>("connection").value;
  try {
    const v: TabView = await api.openTab(conn, target);
    const t: Tab = {
      id: v.id, url: v.url, savedText: v.text, text: v.text, validator: v.validator, saving: false, round: "none",
      error: null, stale: false, connectionId: v.connection_id, warnings: v.warnings, items: v.collection_items, conflict: null,
    };
    tabs.push(t);
    if (!recent.includes(target)) {
      recent.unshift(target);
      $("recent").replaceChildren(...recent.slice(0, 20).map((r) => Object.assign(document.createElement("option"), { value: r })));
    }
    const conns = await api.listConnections();
    showConnection(conns.demo_url);
    activate(t.id);
  } catch (e) {
    showError(words(e));
  }
}

async function closeTab(id: string) {
  const t = tabs.find((x) => x.id === id);
  if (!t) return;
  const st = model.status(t);
  if ((st === "dirty" || st === "conflict" || st === "merged") && !confirm(`"${model.title(t.url)}" has unsaved work. Close it anyway and lose it?`)) return;
  clearTimeout(draftTimers.get(id));
  await api.closeTab(id);
  tabs = tabs.filter((x) => x.id !== id);
  if (activeId === id) activeId = tabs.length ? tabs[tabs.length - 1].id : null;
  if (activeId) activate(activeId);
  else renderTabs();
}

async function reload() {
  const t = active();
  if (!t) return;
  if (model.status(t) !== "clean" && !confirm("Reload the server's version and discard your unsaved edits in this tab?")) return;
  try {
    const v = await api.reloadTab(t.id);
    Object.assign(t, { savedText: v.text, text: v.text, validator: v.validator, round: "none", error: null, stale: false, warnings: v.warnings, items: v.collection_items, conflict: null });
    activate(t.id);
  } catch (e) {
    t.error = words(e);
    showError(t.error);
    renderTabs();
  }
}

// ---------------------------------------------------------------- saving

async function save(resubmit: boolean) {
  const t = active();
  if (!t || t.saving) return;
  const text = editor!.state.doc.toString();
  const bad = await api.checkJson(text);
  if (bad) {
    t.error = `Not saved: the document is not valid JSON — ${bad.message} at line ${bad.line}, column ${bad.column}. Your text is unchanged; fix it and save again.`;
    showError(t.error);
    renderTabs();
    return;
  }
  if (resubmit && t.conflict) {
    const q = model.finishQuestion(t.conflict.nav);
    if (q && !confirm(q)) return;
  }
  t.saving = true;
  t.error = null;
  showError(null);
  showNotice(null);
  renderTabs();
  let r: SaveView;
  try {
    r = await api.saveTab(t.id, text, resubmit);
  } catch (e) {
    r = { kind: "failed", message: words(e) } as SaveView;
  }
  t.saving = false;
  applySave(t, r);
}

function applySave(t: Tab, r: SaveView) {
  const isActive = t.id === activeId;
  switch (r.kind) {
    case "saved":
      t.roundView = null;
      t.savedText = r.text!;
      t.text = r.text!;
      t.validator = r.validator;
      t.stale = false;
      t.round = "none";
      t.conflict = null;
      if (isActive) showNotice(r.message);
      break;
    case "merged":
      t.roundView = r;
      t.text = r.text!;
      t.roundValidator = r.validator;
      t.round = "merged";
      t.conflict = null;
      if (isActive) showNotice(r.message + (r.positional_arrays.length ? ` Arrays merged by position: ${r.positional_arrays.join(", ")}.` : ""));
      break;
    case "conflicts":
      t.roundView = r;
      t.text = r.text!;
      t.roundValidator = r.validator;
      t.round = "conflict";
      t.conflict = null;
      if (isActive) showNotice(r.message);
      break;
    default:
      t.error = r.message;
      if (isActive) showError(r.message);
  }
  if (isActive) {
    settingText = true;
    setText(editor!, t.text);
    settingText = false;
    if (r.kind === "conflicts") openConflictView(t, r);
    else showConflictView(t);
  }
  if (r.kind !== "saved") persistDraft(t, true);
  renderTabs();
}

// ---------------------------------------------------------------- the conflict view

function openConflictView(t: Tab, r: SaveView, resolutions?: string[]) {
  for (const id of ["mine-pane", "theirs-pane", "base-pane"]) $(id).replaceChildren();
  const base = r.base_text ?? "";
  const restored = resolutions && resolutions.length === r.conflicts.length ? (resolutions as model.Resolution[]) : null;
  const nav: model.ConflictNav = { resolutions: restored ?? r.conflicts.map(() => "unresolved" as model.Resolution), current: 0 };
  const first = model.nextUnresolved(nav, -1);
  nav.current = first === -1 ? 0 : first;
  t.conflict = {
    save: r,
    nav,
    mine: makeEditor($("mine-pane"), { doc: r.mine_text ?? "", readOnly: true, original: base }),
    theirs: makeEditor($("theirs-pane"), { doc: r.theirs_text ?? "", readOnly: true, original: base }),
    base: makeEditor($("base-pane"), { doc: base, readOnly: true }),
  };
  syncScroll([t.conflict.mine, t.conflict.theirs, t.conflict.base]);
  const opening = nav.current;
  $("positional").hidden = r.positional_arrays.length === 0;
  $("positional").textContent = `Merged by position (no identity key such as "id"), check these: ${r.positional_arrays.join(", ")}`;
  showConflictView(t);
  void goTo(opening);
}

/** Scrolling one pane scrolls the others to the same line (the texts differ only locally). */
function syncScroll(views: EditorView[]) {
  let busy = false;
  for (const v of views) {
    v.scrollDOM.addEventListener("scroll", () => {
      if (busy) return;
      busy = true;
      const line = v.state.doc.lineAt(v.lineBlockAtHeight(v.scrollDOM.scrollTop).from).number;
      for (const o of views) {
        if (o === v) continue;
        const l = o.state.doc.line(Math.min(line, o.state.doc.lines));
        o.scrollDOM.scrollTop = o.lineBlockAt(l.from).top;
      }
      requestAnimationFrame(() => (busy = false));
    });
  }
}

function showConflictView(t: Tab | null) {
  const c = t?.conflict;
  $("conflict-view").hidden = !c;
  if (!c) return;
  const list = $("conflict-list");
  list.replaceChildren(
    ...c.save.conflicts.map((k, i) => {
      const li = document.createElement("li");
      const res = c.nav.resolutions[i];
      li.dataset.testid = "conflict-item";
      li.dataset.pointer = k.pointer;
      li.dataset.resolution = res;
      li.className = `${i === c.nav.current ? "current" : ""} ${res !== "unresolved" ? "done" : ""}`;
      const head = document.createElement("div");
      head.innerHTML = `<code></code> <em></em> <strong></strong>`;
      head.querySelector("code")!.textContent = k.pointer || "(whole document)";
      head.querySelector("em")!.textContent = k.kind;
      head.querySelector("strong")!.textContent = res === "unresolved" ? "" : `→ ${res}`;
      const vals = document.createElement("div");
      vals.className = "vals";
      for (const [label, v] of [["base", k.base], ["mine", k.mine], ["theirs", k.theirs]] as const) {
        const s = document.createElement("span");
        s.textContent = `${label}: ${v ?? "(absent)"}`;
        s.title = v ?? "(absent)";
        vals.append(s);
      }
      const buttons = document.createElement("div");
      const add = (label: string, testid: string, fn: () => void) => {
        const b = document.createElement("button");
        b.textContent = label;
        b.dataset.testid = testid;
        b.className = "quiet";
        b.addEventListener("click", (e) => (e.stopPropagation(), fn()));
        buttons.append(b);
      };
      add("Accept mine", "accept-mine", () => void accept(i, "mine"));
      add("Accept theirs", "accept-theirs", () => void accept(i, "theirs"));
      if (k.array_hunk) add("Both", "accept-both", () => void accept(i, "both"));
      add("Edit", "edit-conflict", () => void editConflict(i));
      li.append(head, vals, buttons);
      li.addEventListener("click", () => void goTo(i));
      return li;
    }),
  );
  const left = model.unresolved(c.nav);
  $("unresolved").textContent = left ? `${left} of ${c.nav.resolutions.length} conflicts unresolved` : "All conflicts resolved — resubmit when ready";
}

async function goTo(i: number) {
  const t = active();
  const c = t?.conflict;
  if (!t || !c || i < 0) return;
  c.nav = { ...c.nav, current: i };
  showConflictView(t);
  const p = c.save.conflicts[i].pointer;
  // Synced: every pane scrolls to the same conflict.
  for (const view of [c.mine, c.theirs, c.base, editor!]) {
    const lines = await api.locatePointer(view.state.doc.toString(), p);
    if (lines) showLines(view, lines[0], lines[1]);
  }
}

async function accept(i: number, choice: "mine" | "theirs" | "both") {
  const t = active();
  const c = t?.conflict;
  if (!t || !c) return;
  try {
    const text = await api.resolveConflict(t.id, editor!.state.doc.toString(), i, choice);
    settingText = true;
    setText(editor!, text);
    settingText = false;
    t.text = text;
    c.nav = model.resolve(c.nav, i, choice);
    persistDraft(t, true);
    showError(null);
    await goTo(c.nav.current);
  } catch (e) {
    showError(words(e));
  }
}

async function editConflict(i: number) {
  const c = active()?.conflict;
  if (!c) return;
  c.nav = model.resolve(c.nav, i, "edited");
  await goTo(i);
  editor!.focus();
}

async function acceptAll(choice: "mine" | "theirs") {
  const c = active()?.conflict;
  if (!c) return;
  for (let i = c.save.conflicts.length - 1; i >= 0; i--) {
    if (c.nav.resolutions[i] === "unresolved") await accept(i, choice);
  }
}

async function showTrail(force = false) {
  const t = active();
  const box = $("trail");
  if (!t || (!force && !box.hidden)) {
    box.hidden = true;
    return;
  }
  try {
    const rows = await api.tabTrail(t.id);
    $("trail-rows").replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.testid = "trail-row";
        for (const v of [r.at.slice(11, 23), r.method, r.status ?? "—", r.preconditions.map(([k, v]) => `${k}: ${v}`).join(", "), r.validator ?? "", r.request_id ?? "", r.duration_ms, r.note ?? ""]) {
          tr.append(Object.assign(document.createElement("td"), { textContent: String(v) }));
        }
        return tr;
      }),
    );
    box.hidden = false;
  } catch (e) {
    showError(words(e));
  }
}

async function preview() {
  const t = active();
  if (!t) return;
  const pre = $("request-preview");
  if (!pre.hidden) {
    pre.hidden = true;
    return;
  }
  try {
    const p = await api.previewRequest(t.id, editor!.state.doc.toString(), t.round !== "none");
    pre.textContent = `${p.method} ${p.url}\n${p.headers.map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${p.body}`;
    pre.hidden = false;
  } catch (e) {
    showError(words(e));
  }
}

// ---------------------------------------------------------------- start

async function start() {
  editor = makeEditor($("editor"), {
    doc: "",
    onChange: (text) => {
      const t = active();
      if (!t || settingText) return;
      t.text = text;
      if (t.conflict) {
        const i = t.conflict.nav.current;
        if (t.conflict.nav.resolutions[i] === "unresolved") t.conflict.nav = model.resolve(t.conflict.nav, i, "edited");
        showConflictView(t);
      }
      persistDraft(t);
      renderTabs();
    },
    onSave: () => void save(active()?.round !== "none"),
  });
  $("open-form").addEventListener("submit", (e) => (e.preventDefault(), void openResource($<HTMLInputElement>("target").value)));
  $("connection").addEventListener("change", () => showConnection($("connection-url").dataset.url));
  $("save").addEventListener("click", () => void save(active()?.round !== "none"));
  $("resubmit").addEventListener("click", () => void save(true));
  $("reload").addEventListener("click", () => void reload());
  $("preview").addEventListener("click", () => void preview());
  $("trail-toggle").addEventListener("click", () => void showTrail());
  $("export-trail").addEventListener("click", async () => {
    const t = active();
    if (!t) return;
    try {
      showNotice(`Request trail written to ${await api.exportTrail(t.id)} — attach it to a support ticket; it holds no credentials.`);
    } catch (e) {
      showError(words(e));
    }
  });
  // Closing the window with unsaved or conflicted work asks first.
  (window as any).__TAURI__?.event?.listen("close-requested", async () => {
    const open = tabs.filter((t) => model.status(t) !== "clean");
    for (const t of open) persistDraft(t, true);
    if (open.length === 0 || confirm(`${open.length} tab(s) have unsaved or conflicted work. It is kept as a draft and comes back next time. Quit now?`)) {
      await api.quitApp();
    }
  });
  $("prev-conflict").addEventListener("click", () => { const c = active()?.conflict; if (c) void goTo(model.step(c.nav, -1)); });
  $("next-conflict").addEventListener("click", () => { const c = active()?.conflict; if (c) void goTo(model.step(c.nav, 1)); });
  $("all-mine").addEventListener("click", () => void acceptAll("mine"));
  $("all-theirs").addEventListener("click", () => void acceptAll("theirs"));
  $<HTMLInputElement>("show-base").addEventListener("change", (e) => ($("base-col").hidden = !(e.target as HTMLInputElement).checked));
  $("another-admin").addEventListener("click", async () => {
    const t = active();
    const path = t ? t.url.replace(/^https?:\/\/[^/]+/, "") : "/settings";
    try {
      await api.demoAnotherAdmin(path, null);
      showNotice(`Another admin changed ${path} on the demo server. Save to see the merge.`);
    } catch (e) {
      showError(words(e));
    }
  });
  document.addEventListener("keydown", (e) => {
    const c = active()?.conflict;
    if (c && e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      void goTo(model.step(c.nav, e.key === "ArrowDown" ? 1 : -1));
    }
  });
  // Is the tab's version still current? Cheap (If-None-Match), on focus and every 30 s.
  const checkStale = async () => {
    for (const t of tabs) {
      if (t.saving || t.round !== "none") continue;
      try {
        const s = await api.checkStale(t.id);
        if (s.stale !== t.stale) {
          t.stale = s.stale;
          renderTabs();
        }
      } catch {
        /* offline: the next save says what happened */
      }
    }
  };
  window.addEventListener("focus", () => void checkStale());
  setInterval(() => void checkStale(), 30_000);
  window.addEventListener("beforeunload", (e) => {
    if (tabs.some((t) => model.status(t) !== "clean")) e.preventDefault();
  });
  setupConnectionDialog();
  try {
    await loadConnections();
    const restored = await api.restoreDrafts();
    for (const r of restored) {
      const v = r.tab;
      const t: Tab = {
        id: v.id, url: v.url, savedText: r.saved_text, text: v.text, validator: v.validator, saving: false,
        round: r.round ? (r.round.kind === "conflicts" ? "conflict" : "merged") : "none", error: null, stale: false,
        connectionId: v.connection_id, warnings: v.warnings, items: [], conflict: null, roundView: r.round, roundValidator: r.round?.validator,
      };
      tabs.push(t);
      activate(t.id);
      if (r.round?.kind === "conflicts") openConflictView(t, r.round, r.resolutions);
    }
    if (restored.length) {
      showNotice(`${restored.length} tab(s) restored from drafts, with your unsaved edits.`);
      renderTabs();
    }
    const conn = connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
    if (conn?.is_demo && restored.length === 0) await openResource("/settings");
  } catch (e) {
    showError(words(e));
  }
  renderTabs();
}

void start();
