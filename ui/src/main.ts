// The window: connections, tabs, the editor, the save loop's outcomes and the conflict view.
// It renders state and sends intents; Rust fetches, parses, merges and writes, and says which
// conflicts the user has decided (engine::round), read off the Result's text.
import type { EditorView } from "@codemirror/view";
import {
  api, codeOf, words, type Choice, type ProblemCode, type ConflictStatus, type ConnectionInput, type ConnectionView, type RoundView, type SaveView, type TabView, type WriteMethod,
} from "./api";
import { makeEditor, selectRange, setText, showConflictMarks, showLines } from "./editor";
import * as model from "./model";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface Tab extends model.TabState {
  /** During a round: the server version's validator the resubmit will carry. */
  roundValidator?: string | null;
  /** The round waiting for the user (merged, or in conflict). */
  roundView?: RoundView | null;
  connectionId: string;
  warnings: string[];
  items: string[];
  conflict: ConflictRound | null;
  /** The tab's own message (the merge summary, "Saved."), kept until it is saved or reloaded. */
  notice: string | null;
  /** What the window can offer for the tab's error (edit the connection, reload). */
  errorCode?: ProblemCode;
}

interface ConflictRound {
  round: RoundView;
  /** Where each conflict stands in the Result, as Rust last read it. */
  statuses: ConflictStatus[];
  current: number;
  mine: EditorView;
  theirs: EditorView;
  base: EditorView;
}

let connections: ConnectionView[] = [];
let demoUrl: string | null = null;
let tabs: Tab[] = [];
let activeId: string | null = null;
let editor: EditorView | null = null;
const recent: string[] = [];
let settingText = false;
/** A message that belongs to no tab (a resource that did not open, a connection error). */
let windowError: string | null = null;
let windowNotice: string | null = null;
let windowErrorCode: ProblemCode = "other";
/** A draft that could not be written: shown until a draft write works again. */
let draftWarning: string | null = null;

const active = () => tabs.find((t) => t.id === activeId) ?? null;

// Drafts: every edit is written to disk (debounced); Accepts are written by Rust before they
// answer; a close or quit writes at once. A crash, a kill or a closed window loses nothing.
const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();
function persistDraft(t: Tab, now = false): Promise<void> {
  clearTimeout(draftTimers.get(t.id));
  const write = () => {
    draftTimers.delete(t.id);
    return api.saveDraft(t.id, t.text).then(
      () => {
        if (draftWarning) (draftWarning = null), renderMessages();
      },
      (e) => {
        if (codeOf(e) === "draft_not_saved") draftWarning = words(e);
        else tabProblem(t, e);
        renderMessages();
      },
    );
  };
  if (now) return write();
  draftTimers.set(t.id, setTimeout(() => void write(), 250));
  return Promise.resolve();
}

/** Shows the active tab's messages, else the window's; offers what the error's code allows. */
function renderMessages() {
  const t = active();
  const error = t?.error ?? windowError;
  const code = (t?.error ? t.errorCode : windowErrorCode) ?? "other";
  $("fix-connection").hidden = !error || code !== "credentials";
  $("reload-now").hidden = !t || !t.error || code !== "may_have_landed";
  $("draft-warning").textContent = draftWarning ?? "";
  $("draft-warning").hidden = !draftWarning;
  const notice = (t ? summary(t) : null) ?? windowNotice;
  $("error").textContent = error ?? "";
  $("error").hidden = !error;
  $("notice").textContent = notice ?? "";
  $("notice").hidden = !notice;
  // Conflicts that still need the user are not good news: amber, not green.
  $("notice").classList.toggle("needs-you", !!t?.conflict && model.unresolved(t.conflict.statuses) > 0);
}

/** The tab's message; during a conflict round, counted from where the conflicts stand now. */
function summary(t: Tab): string | null {
  const c = t.conflict;
  if (c) {
    const st = c.round.stats;
    const auto = st.from_mine + st.from_theirs + st.same_both;
    const left = model.unresolved(c.statuses);
    const n = c.statuses.length;
    return `The resource changed on the server: ${auto} change(s) merged automatically; ${
      left ? `${left} of ${n} conflict(s) still need you.` : `all ${n} conflict(s) decided — review the Result and resubmit.`
    }`;
  }
  return t.notice;
}

function tabError(t: Tab | null, message: string | null) {
  if (t) (t.error = message), (t.errorCode = "other");
  else (windowError = message), (windowErrorCode = "other");
  renderMessages();
}

/** A thrown Problem on the tab (or the window): its words and what can be offered for it. */
function tabProblem(t: Tab | null, e: unknown) {
  if (t) (t.error = words(e)), (t.errorCode = codeOf(e));
  else (windowError = words(e)), (windowErrorCode = codeOf(e));
  renderMessages();
}

// ---------------------------------------------------------------- connections

const METHOD_WORDS: Record<WriteMethod, string> = {
  put: "PUT",
  merge_patch: "PATCH (JSON Merge Patch)",
  json_patch: "PATCH (JSON Patch)",
};

/** A connection in words: "Staging — bearer token, PATCH (JSON Merge Patch)". */
function connectionWords(x: ConnectionView): string {
  if (x.is_demo) return `${x.name} — built in`;
  const auth = x.auth_kind === "none" ? "no credentials"
    : x.auth_kind === "bearer" ? "bearer token"
    : x.auth_kind === "basic" ? `user ${x.basic_user ?? ""}`
    : `header ${x.header_name ?? ""}`;
  return `${x.name} — ${auth}, ${METHOD_WORDS[x.method]}`;
}

async function loadConnections(selectId?: string) {
  const c = await api.listConnections();
  connections = c.connections;
  demoUrl = c.demo_url;
  $("secret-storage").textContent = c.secret_storage_words;
  $("weak-opt-in-row").hidden = c.secret_storage !== "memory_only" && c.secret_storage !== "file";
  $<HTMLInputElement>("weak-opt-in").checked = c.secret_storage === "file";
  for (const r of c.recent) if (!recent.includes(r)) recent.push(r);
  renderRecent();
  const sel = $<HTMLSelectElement>("connection");
  sel.replaceChildren(...connections.map((x) => new Option(connectionWords(x), x.id)));
  sel.value = selectId ?? c.default_id;
  showConnection();
}

function renderRecent() {
  $("recent").replaceChildren(...recent.slice(0, 30).map((r) => Object.assign(document.createElement("option"), { value: r })));
}

function showConnection() {
  const conn = connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
  if (!conn) return;
  $("connection-url").textContent = conn.is_demo ? `${demoUrl ?? "(starts on first use)"} — built-in demo server` : conn.base_url;
  if (conn.is_demo && demoUrl) $("connection-url").dataset.url = demoUrl;
  $("another-admin").hidden = !conn.is_demo;
  $("remove-connection").hidden = conn.is_demo || conn.id === "env";
  $("edit-connection").hidden = conn.is_demo || conn.id === "env";
  $("secret-missing").hidden = !conn.secret_missing;
}

function setupConnectionDialog() {
  const dlg = $<HTMLDialogElement>("connection-dialog");
  const auth = $<HTMLSelectElement>("c-auth");
  const field = (id: string) => $<HTMLInputElement>(id);
  let editing: ConnectionView | null = null;
  let tested: string | null = null; // the input the last test passed for
  const row = (id: string, shown: boolean) => {
    const label = field(id).closest("label");
    if (label) label.hidden = !shown;
  };
  const syncAuth = () => {
    const a = auth.value;
    row("c-header", a === "header");
    row("c-user", a === "basic");
    row("c-secret", a !== "none");
    $("c-secret-label").textContent = a === "bearer" ? "Token" : a === "basic" ? "Password" : "Header value";
    field("c-secret").placeholder = editing && editing.auth_kind === a ? "(unchanged: kept in the keyring)" : "";
  };
  const defaults = () => {
    field("c-name").value = "";
    field("c-url").value = "";
    auth.value = "none";
    field("c-header").value = "";
    field("c-user").value = "";
    field("c-secret").value = "";
    $<HTMLSelectElement>("c-method").value = "put";
    field("c-auto").checked = false;
    $<HTMLTextAreaElement>("c-pem").value = "";
  };
  const input = (): ConnectionInput => {
    const secret = field("c-secret").value;
    const a = auth.value;
    return {
      id: editing?.id ?? null,
      name: field("c-name").value,
      base_url: field("c-url").value,
      auth:
        a === "bearer" ? { type: "bearer", token: secret }
        : a === "basic" ? { type: "basic", user: field("c-user").value, password: secret }
        : a === "header" ? { type: "header", name: field("c-header").value, value: secret }
        : { type: "none" },
      method: $<HTMLSelectElement>("c-method").value as WriteMethod,
      auto_resubmit: field("c-auto").checked,
      trusted_cert_pem: $<HTMLTextAreaElement>("c-pem").value.trim() || null,
    };
  };
  const say = (text: string, ok: boolean) => {
    $("c-test-result").textContent = text;
    $("c-test-result").className = ok ? "hint ok" : "error";
    $("c-test-result").hidden = false;
  };
  const open = (conn: ConnectionView | null) => {
    editing = conn;
    tested = null;
    defaults();
    $("c-title").textContent = conn ? `Edit connection “${conn.name}”` : "New connection";
    $<HTMLSelectElement>("c-preset").value = "";
    $("c-preset-row").hidden = !!conn;
    if (conn) {
      field("c-name").value = conn.name;
      field("c-url").value = conn.base_url;
      auth.value = conn.auth_kind;
      field("c-user").value = conn.basic_user ?? "";
      field("c-header").value = conn.header_name ?? "";
      $<HTMLSelectElement>("c-method").value = conn.method;
      field("c-auto").checked = conn.auto_resubmit;
    }
    $("c-error").hidden = true;
    $("c-test-result").hidden = true;
    $("c-save").textContent = "Save";
    syncAuth();
    dlg.showModal();
  };
  auth.addEventListener("change", syncAuth);
  dlg.addEventListener("input", () => {
    tested = null;
    $("c-save").textContent = "Save";
  });
  $<HTMLSelectElement>("c-preset").addEventListener("change", (e) => {
    // A preset sets every field it is about; "—" puts them back to their defaults.
    defaults();
    if ((e.target as HTMLSelectElement).value === "gmail") {
      field("c-name").value = "Gmail labels";
      field("c-url").value = "https://gmail.googleapis.com/gmail/v1/users/me";
      auth.value = "bearer";
      $<HTMLSelectElement>("c-method").value = "merge_patch";
    }
    syncAuth();
  });
  $<HTMLInputElement>("weak-opt-in").addEventListener("change", async (e) => {
    const on = (e.target as HTMLInputElement).checked;
    const b = await api.setWeakSecretStorage(on);
    await loadConnections($<HTMLSelectElement>("connection").value);
    if (on && b !== "file") tabError(null, "The weaker storage could not be turned on.");
  });
  $("remove-connection").addEventListener("click", async () => {
    const id = $<HTMLSelectElement>("connection").value;
    if (!confirm("Remove this connection and its stored secret?")) return;
    try {
      await api.deleteConnection(id);
      await loadConnections();
    } catch (e) {
      tabError(null, words(e));
    }
  });
  $("new-connection").addEventListener("click", () => open(null));
  // Offered next to a 401 / 403: the connection of the tab (or the one selected).
  $("fix-connection").addEventListener("click", () => {
    // The tab's own error is about the tab's connection; a window error (a resource that did
    // not open) about the one selected.
    const t = active();
    const id = t?.error ? t.connectionId : $<HTMLSelectElement>("connection").value;
    const conn = connections.find((x) => x.id === id);
    if (conn && !conn.is_demo && conn.id !== "env") open(conn);
    else open(null);
  });
  $("edit-connection").addEventListener("click", () => {
    const conn = connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
    if (conn && !conn.is_demo) open(conn);
  });
  const test = async (): Promise<boolean> => {
    $("c-error").hidden = true;
    say("Testing: a GET of the base URL…", true);
    try {
      const r = await api.testConnection(input());
      say(r.message, r.ok);
      if (r.ok) tested = JSON.stringify(input());
      return r.ok;
    } catch (e) {
      say(words(e), false);
      return false;
    }
  };
  $("c-test").addEventListener("click", () => void test());
  $("connection-form").addEventListener("submit", async (ev) => {
    if ((ev as SubmitEvent).submitter?.getAttribute("value") === "cancel") return;
    ev.preventDefault();
    // Tested before saving: a connection that did not answer is saved only when asked again.
    const unchecked = tested !== JSON.stringify(input());
    if (unchecked && $("c-save").textContent !== "Save anyway") {
      if (!(await test())) {
        $("c-save").textContent = "Save anyway";
        return;
      }
    }
    try {
      const saved = await api.saveConnection(input());
      field("c-secret").value = "";
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
      el.dataset.flags = model.flags(t).join(" ");
      el.title = t.url;
      const name = document.createElement("span");
      name.textContent = model.title(t.url);
      const status = document.createElement("span");
      status.className = "st";
      status.dataset.testid = "tab-status";
      status.textContent = model.describe(t);
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
      close.addEventListener("click", (e) => (e.stopPropagation(), void closeTab(t.id)));
      el.append(close);
      el.addEventListener("click", () => activate(t.id));
      return el;
    }),
  );
  const t = active();
  $("workspace").hidden = !t;
  $("empty").hidden = !!t;
  if (editor) editor.contentDOM.contentEditable = t ? "true" : "false";
  renderMessages();
  if (!t) return;
  $("tab-url").textContent = t.url;
  $("tab-validator").textContent =
    t.round !== "none" ? `${t.validator ?? "(none)"} → resubmits with ${t.roundValidator ?? "(none)"}` : (t.validator ?? "(none)");
  $("dup-note").hidden = model.sameResource(tabs, t.id).length === 0;
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
}

function activate(id: string) {
  activeId = id;
  const t = active()!;
  windowError = null;
  windowNotice = null;
  // The header shows the tab's own connection.
  $<HTMLSelectElement>("connection").value = t.connectionId;
  showConnection();
  $("request-preview").hidden = true;
  settingText = true;
  if (editor) setText(editor, t.text);
  settingText = false;
  showConflictView(t);
  renderTabs();
}

async function openResource(target: string, connectionId?: string) {
  windowError = null;
  const conn = connectionId ?? $<HTMLSelectElement>("connection").value;
  try {
    const v: TabView = await api.openTab(conn, target);
    const t: Tab = {
      id: v.id, url: v.url, savedText: v.text, text: v.text, validator: v.validator, saving: false, round: "none",
      error: null, stale: false, connectionId: v.connection_id, warnings: v.warnings, items: v.collection_items, conflict: null, notice: null,
    };
    tabs.push(t);
    if (!recent.includes(target)) {
      recent.unshift(target);
      renderRecent();
    }
    demoUrl = (await api.listConnections()).demo_url;
    activate(t.id);
  } catch (e) {
    tabProblem(null, e);
  }
}

async function closeTab(id: string) {
  const t = tabs.find((x) => x.id === id);
  if (!t) return;
  // Whatever its status (stale, failed, merged, in conflict): unsaved work asks first.
  if (model.hasUnsavedWork(t) && !confirm(`"${model.title(t.url)}" has unsaved work (${model.describe(t)}). Close it and discard it?`)) {
    return;
  }
  clearTimeout(draftTimers.get(id));
  await api.closeTab(id);
  tabs = tabs.filter((x) => x.id !== id);
  if (activeId === id) activeId = tabs.length ? tabs[tabs.length - 1].id : null;
  if (activeId) activate(activeId);
  else {
    settingText = true;
    if (editor) setText(editor, "");
    settingText = false;
    showConflictView(null);
    renderTabs();
  }
}

async function reload() {
  const t = active();
  if (!t) return;
  if (model.hasUnsavedWork(t) && !confirm("Reload the server's version and discard your unsaved edits in this tab?")) return;
  try {
    const v = await api.reloadTab(t.id);
    Object.assign(t, {
      savedText: v.text, text: v.text, validator: v.validator, round: "none", error: null, stale: false, warnings: v.warnings,
      items: v.collection_items, conflict: null, notice: null, roundView: null,
    });
    activate(t.id);
  } catch (e) {
    tabProblem(t, e);
    renderTabs();
  }
}

// ---------------------------------------------------------------- saving

async function save(resubmit: boolean) {
  const t = active();
  if (!t || t.saving || !editor) return;
  const text = editor.state.doc.toString();
  const bad = await api.checkJson(text);
  if (bad) {
    t.error = `Not saved: the document is not valid JSON — ${bad.message} at line ${bad.line}, column ${bad.column}. Your text is unchanged; fix it and save again.`;
    renderTabs();
    return;
  }
  if (resubmit && t.conflict) {
    // Asked on what the Result holds right now, read again (never a stale count).
    const c = t.conflict;
    try {
      c.statuses = await api.conflictStatus(t.id, text);
    } catch (e) {
      tabProblem(t, e);
      return;
    }
    showConflictView(t);
    const q = model.finishQuestion(c.round.conflicts, c.statuses);
    if (q && !confirm(q)) return;
  }
  t.saving = true;
  t.error = null;
  t.notice = null;
  renderTabs();
  let r: SaveView;
  try {
    r = await api.saveTab(t.id, text, resubmit);
  } catch (e) {
    r = { kind: "failed", message: words(e), code: codeOf(e) };
  }
  t.saving = false;
  applySave(t, r);
}

function applySave(t: Tab, r: SaveView) {
  const isActive = t.id === activeId;
  switch (r.kind) {
    case "saved":
      t.roundView = null;
      t.savedText = r.text;
      t.text = r.text;
      t.validator = r.validator;
      t.stale = false;
      t.round = "none";
      t.conflict = null;
      t.notice = r.message;
      break;
    case "merged":
    case "conflicts": {
      const round = r.round;
      t.roundView = round;
      t.text = round.text;
      t.roundValidator = round.validator;
      t.round = r.kind === "merged" ? "merged" : "conflict";
      t.conflict = null;
      t.notice = round.message + (round.positional_arrays.length ? ` Arrays merged by position: ${round.positional_arrays.join(", ")}.` : "");
      break;
    }
    case "failed":
      t.error = r.message;
      t.errorCode = r.code;
      break;
    case "invalid":
      t.error = r.message;
      t.errorCode = "invalid_json";
  }
  if (isActive && editor) {
    settingText = true;
    setText(editor, t.text);
    settingText = false;
    if (r.kind === "conflicts") openConflictView(t, r.round, null);
    else showConflictView(t);
  }
  if (r.kind !== "saved") void persistDraft(t, true);
  renderTabs();
}

// ---------------------------------------------------------------- the conflict view

function openConflictView(t: Tab, r: RoundView, statuses: ConflictStatus[] | null) {
  for (const id of ["mine-pane", "theirs-pane", "base-pane"]) $(id).replaceChildren();
  const base = r.base_text ?? "";
  const start: ConflictStatus[] =
    statuses && statuses.length === r.conflicts.length
      ? statuses
      : r.conflicts.map((c) => ({ state: "unresolved", pointer: c.pointer, lines: null, range: null, value: c.base, neither_side: true }));
  const first = model.nextUnresolved(start, -1);
  t.conflict = {
    round: r,
    statuses: start,
    current: first === -1 ? 0 : first,
    mine: makeEditor($("mine-pane"), { doc: r.mine_text ?? "", readOnly: true, original: base }),
    theirs: makeEditor($("theirs-pane"), { doc: r.theirs_text ?? "", readOnly: true, original: base }),
    base: makeEditor($("base-pane"), { doc: base, readOnly: true }),
  };
  syncScroll([t.conflict.mine, t.conflict.theirs, t.conflict.base]);
  $("positional").hidden = r.positional_arrays.length === 0;
  $("positional").textContent = `Merged by position (no identity key such as "id"), check these: ${r.positional_arrays.join(", ")}`;
  showConflictView(t);
  void refreshStatuses(t).then(() => goTo(t.conflict?.current ?? 0));
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

/** Asks Rust where the conflicts stand in the Result now. An invalid Result keeps the last
 * answer (and cannot be resubmitted: the save checks the JSON first). */
async function refreshStatuses(t: Tab) {
  const c = t.conflict;
  if (!c || !editor) return;
  const text = t.id === activeId ? editor.state.doc.toString() : t.text;
  try {
    const s = await api.conflictStatus(t.id, text);
    if (t.conflict !== c) return;
    c.statuses = s;
  } catch {
    return;
  }
  if (t.id === activeId) showConflictView(t);
  renderTabs();
}

let statusTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleStatuses(t: Tab) {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => void refreshStatuses(t), 120);
}

function showConflictView(t: Tab | null) {
  const c = t?.conflict;
  $("conflict-view").hidden = !c;
  if (!c) {
    if (editor) showConflictMarks(editor, []);
    return;
  }
  const list = $("conflict-list");
  list.replaceChildren(
    ...c.round.conflicts.map((k, i) => {
      const s = c.statuses[i];
      const li = document.createElement("li");
      li.dataset.testid = "conflict-item";
      li.dataset.pointer = k.pointer;
      li.dataset.resolution = s.state;
      li.className = `${i === c.current ? "current" : ""} ${s.state !== "unresolved" ? "done" : ""}`;
      const head = document.createElement("div");
      const part = (tag: string, text: string, cls = "") => Object.assign(document.createElement(tag), { textContent: text, className: cls });
      head.append(
        part("span", k.label || k.pointer || "(whole document)", "label"), " ",
        part("code", k.pointer || "/"), " ",
        part("em", k.kind), " ",
        part("strong", model.stateWords(s)),
      );
      const vals = document.createElement("div");
      vals.className = "vals";
      for (const [label, v] of [["base", k.base], ["mine", k.mine], ["theirs", k.theirs]] as const) {
        const e = document.createElement("span");
        e.textContent = `${label}: ${v ?? "(absent)"}`;
        e.title = v ?? "(absent)";
        vals.append(e);
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
      add("Accept base", "accept-base", () => void accept(i, "base"));
      add("Edit", "edit-conflict", () => void editConflict(i));
      li.append(head, vals, buttons);
      li.addEventListener("click", () => void goTo(i));
      return li;
    }),
  );
  const left = model.unresolved(c.statuses);
  const n = c.statuses.length;
  $("unresolved").textContent = left ? `${left} of ${n} conflicts unresolved` : `All ${n} conflicts decided — review and resubmit`;
  $("unresolved").className = left ? "open" : "done";
  if (editor) {
    showConflictMarks(
      editor,
      c.statuses.flatMap((s, i) => (s.lines ? [{ from: s.lines[0], to: s.lines[1], resolved: s.state !== "unresolved", current: i === c.current }] : [])),
    );
  }
}

/** Scrolls every pane to conflict `i`: the Result by where Rust found it now, each side by its
 * own lines (so an element that moved on one side is still the one shown). */
async function goTo(i: number) {
  const t = active();
  const c = t?.conflict;
  if (!t || !c || i < 0 || i >= c.round.conflicts.length || !editor) return;
  c.current = i;
  showConflictView(t);
  const k = c.round.conflicts[i];
  const panes: [EditorView, [number, number] | null][] = [[c.mine, k.lines.mine], [c.theirs, k.lines.theirs], [c.base, k.lines.base]];
  for (const [view, lines] of panes) {
    const at = lines ?? (await api.locatePointer(view.state.doc.toString(), parentOf(k.pointer)));
    if (at) showLines(view, at[0], at[1]);
  }
  const s = c.statuses[i];
  if (s?.lines) showLines(editor, s.lines[0], s.lines[1]);
}

function parentOf(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf("/")));
}

async function accept(i: number, choice: Choice) {
  const t = active();
  const c = t?.conflict;
  if (!t || !c || !editor) return;
  try {
    // Rust applies it, remembers the decision and writes the draft before answering.
    const r = await api.resolveConflict(t.id, editor.state.doc.toString(), i, choice);
    settingText = true;
    setText(editor, r.text);
    settingText = false;
    t.text = r.text;
    c.statuses = r.statuses;
    t.error = null;
    const next = model.nextUnresolved(c.statuses, i);
    await goTo(next === -1 ? i : next);
    renderTabs();
  } catch (e) {
    tabProblem(t, e);
  }
}

/** Puts the cursor on the conflict's value in the Result. Decides nothing: only a change of
 * the value does. */
async function editConflict(i: number) {
  const c = active()?.conflict;
  if (!c || !editor) return;
  await goTo(i);
  const s = c.statuses[i];
  if (s?.range) selectRange(editor, s.range[0], s.range[1]);
  else editor.focus();
}

async function acceptAll(choice: "mine" | "theirs") {
  const c = active()?.conflict;
  if (!c) return;
  for (let i = 0; i < c.round.conflicts.length; i++) {
    if (c.statuses[i].state === "unresolved") await accept(i, choice);
  }
}

/** Next / previous conflict; true when the conflict view is open (the key was used). */
function navigate(dir: 1 | -1): boolean {
  const c = active()?.conflict;
  if (!c) return false;
  void goTo(model.step(c.round.conflicts.length, c.current, dir));
  return true;
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
    tabProblem(t, e);
  }
}

async function preview() {
  const t = active();
  if (!t || !editor) return;
  const pre = $("request-preview");
  if (!pre.hidden) {
    pre.hidden = true;
    return;
  }
  try {
    const p = await api.previewRequest(t.id, editor.state.doc.toString(), t.round !== "none");
    pre.textContent = `${p.method} ${p.url}\n${p.headers.map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${p.body}`;
    pre.hidden = false;
  } catch (e) {
    // Invalid JSON has nothing to preview: the editor already marks where.
    if (codeOf(e) === "invalid_json") tabError(t, `Nothing to preview: ${words(e)}`);
    else tabProblem(t, e);
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
      if (t.conflict) scheduleStatuses(t);
      void persistDraft(t);
      renderTabs();
    },
    onSave: () => void save(active()?.round !== "none"),
    onNavigate: navigate,
  });
  $("open-form").addEventListener("submit", (e) => (e.preventDefault(), void openResource($<HTMLInputElement>("target").value)));
  $("connection").addEventListener("change", () => showConnection());
  $("save").addEventListener("click", () => void save(false));
  $("resubmit").addEventListener("click", () => void save(true));
  $("reload").addEventListener("click", () => void reload());
  $("preview").addEventListener("click", () => void preview());
  $("trail-toggle").addEventListener("click", () => void showTrail());
  $("export-trail").addEventListener("click", async () => {
    const t = active();
    if (!t) return;
    try {
      t.notice = `Request trail written to ${await api.exportTrail(t.id)} — attach it to a support ticket; it holds no credentials.`;
      renderMessages();
    } catch (e) {
      tabProblem(t, e);
    }
  });
  // Closing the window with unsaved or conflicted work asks first.
  (window as any).__TAURI__?.event?.listen("close-requested", async () => {
    const open = tabs.filter(model.hasUnsavedWork);
    await Promise.all(open.map((t) => persistDraft(t, true)));
    if (open.length === 0 || confirm(`${open.length} tab(s) have unsaved or conflicted work. It is kept as a draft and comes back next time. Quit now?`)) {
      await api.quitApp();
    }
  });
  $("prev-conflict").addEventListener("click", () => void navigate(-1));
  $("next-conflict").addEventListener("click", () => void navigate(1));
  $("all-mine").addEventListener("click", () => void acceptAll("mine"));
  $("all-theirs").addEventListener("click", () => void acceptAll("theirs"));
  $<HTMLInputElement>("show-base").addEventListener("change", (e) => ($("base-col").hidden = !(e.target as HTMLInputElement).checked));
  $("another-admin").addEventListener("click", async () => {
    const t = active();
    const path = t ? t.url.replace(/^https?:\/\/[^/]+/, "") : "/settings";
    try {
      await api.demoAnotherAdmin(path, null);
      windowNotice = `Another admin changed ${path} on the demo server. Save to see the merge.`;
      if (t) t.notice = windowNotice;
      renderMessages();
    } catch (e) {
      tabProblem(t, e);
    }
  });
  // Outside the editor (the panes, the list): the same keys. Inside it, the editor's own
  // high-precedence binding already did it and stopped the event.
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || !e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    if (navigate(e.key === "ArrowDown" ? 1 : -1)) e.preventDefault();
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
    if (tabs.some(model.hasUnsavedWork)) e.preventDefault();
  });
  setupConnectionDialog();
  $("reload-now").addEventListener("click", () => void reload());
  renderTabs();
  try {
    await loadConnections();
    const restored = await api.restoreDrafts();
    for (const r of restored) {
      const v = r.tab;
      const t: Tab = {
        id: v.id, url: v.url, savedText: r.saved_text, text: v.text, validator: v.validator, saving: false,
        round: r.round ? (r.round.conflicts.length ? "conflict" : "merged") : "none", error: null, stale: false,
        connectionId: v.connection_id, warnings: v.warnings, items: [], conflict: null, roundView: r.round, roundValidator: r.round?.validator,
        notice: r.round && !r.round.conflicts.length ? r.round.message : null,
      };
      tabs.push(t);
      activate(t.id);
      if (r.round?.conflicts.length) openConflictView(t, r.round, r.statuses);
    }
    if (restored.length) {
      windowNotice = `${restored.length} tab(s) restored from drafts, with your unsaved edits.`;
      const t = active();
      if (t && !t.conflict) t.notice = windowNotice;
      renderTabs();
    }
    const conn = connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
    if (conn?.is_demo && restored.length === 0) await openResource("/settings");
  } catch (e) {
    windowError = words(e);
  }
  renderTabs();
}

void start();
