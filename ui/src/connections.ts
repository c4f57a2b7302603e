// Connections: the picker, the recent resources, the connection dialog (test, save, edit).
import { api, words, type ConnectionInput, type ConnectionView, type WriteMethod } from "./api";
import { $, store, active } from "./store";
import { tabError } from "./messages";

export const METHOD_WORDS: Record<WriteMethod, string> = {
  put: "PUT",
  merge_patch: "PATCH (JSON Merge Patch)",
  json_patch: "PATCH (JSON Patch)",
};

/** A connection in words: "Staging — bearer token, PATCH (JSON Merge Patch)". */
/** The write method a select's value names (PUT for anything else). */
function writeMethodOf(value: string): WriteMethod {
  return value === "merge_patch" || value === "json_patch" ? value : "put";
}

export function connectionWords(x: ConnectionView): string {
  if (x.is_demo) return `${x.name} — built in`;
  const auth = x.auth_kind === "none" ? "no credentials"
    : x.auth_kind === "bearer" ? "bearer token"
    : x.auth_kind === "basic" ? `user ${x.basic_user ?? ""}`
    : `header ${x.header_name ?? ""}`;
  const dialect = x.dialect === "generic" ? "" : `, ${x.dialect} dialect`;
  return `${x.name} — ${auth}, ${METHOD_WORDS[x.method]}${dialect}`;
}

export async function loadConnections(selectId?: string) {
  const c = await api.listConnections();
  store.connections = c.connections;
  store.demoUrl = c.demo_url;
  // The dialects Rust knows, for the connection dialog's "Version" choice.
  $<HTMLSelectElement>("c-dialect").replaceChildren(...c.dialects.map(([name, what]) => new Option(name === "generic" ? "ETag header (RFC 9110)" : what, name)));
  $("secret-storage").textContent = c.secret_storage_words;
  $("weak-opt-in-row").hidden = c.secret_storage !== "memory_only" && c.secret_storage !== "file";
  $<HTMLInputElement>("weak-opt-in").checked = c.secret_storage === "file";
  for (const r of c.recent) if (!store.recent.includes(r)) store.recent.push(r);
  renderRecent();
  const sel = $<HTMLSelectElement>("connection");
  sel.replaceChildren(...store.connections.map((x) => new Option(connectionWords(x), x.id)));
  sel.value = selectId ?? c.default_id;
  showConnection();
}

export function renderRecent() {
  $("recent").replaceChildren(...store.recent.slice(0, 30).map((r) => Object.assign(document.createElement("option"), { value: r })));
}

export function showConnection() {
  const conn = store.connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
  if (!conn) return;
  $("connection-url").textContent = conn.is_demo ? `${store.demoUrl ?? "(starts on first use)"} — built-in demo server` : conn.base_url;
  if (conn.is_demo && store.demoUrl) $("connection-url").dataset.url = store.demoUrl;
  $("another-admin").hidden = !conn.is_demo;
  $("remove-connection").hidden = conn.is_demo || conn.id === "env";
  $("edit-connection").hidden = conn.is_demo || conn.id === "env";
  $("secret-missing").hidden = !conn.secret_missing;
}

/** Opens the connection dialog on `conn` with the Version set to `dialect` (set up below). */
export let editConnection: (conn: ConnectionView, dialect: string) => void = () => {};

export function setupConnectionDialog() {
  const dlg = $<HTMLDialogElement>("connection-dialog");
  const auth = $<HTMLSelectElement>("c-auth");
  const field = (id: string) => $<HTMLInputElement>(id);
  let editing: ConnectionView | null = null;
  let tested: string | null = null; // the input the last test passed for
  let curlPath: string | null = null; // the resource a pasted curl command named, opened after saving
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
    $<HTMLSelectElement>("c-dialect").value = "generic";
    field("c-auto").checked = false;
    field("c-check").checked = true;
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
      method: writeMethodOf($<HTMLSelectElement>("c-method").value),
      auto_resubmit: field("c-auto").checked,
      check_server: field("c-check").checked,
      dialect: $<HTMLSelectElement>("c-dialect").value || "generic",
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
    $("c-curl-row").hidden = !!conn;
    $<HTMLTextAreaElement>("c-curl").value = "";
    $("c-curl-result").hidden = true;
    curlPath = null;
    if (conn) {
      field("c-name").value = conn.name;
      field("c-url").value = conn.base_url;
      auth.value = conn.auth_kind;
      field("c-user").value = conn.basic_user ?? "";
      field("c-header").value = conn.header_name ?? "";
      $<HTMLSelectElement>("c-method").value = conn.method;
      field("c-auto").checked = conn.auto_resubmit;
      field("c-check").checked = conn.check_server;
      $<HTMLSelectElement>("c-dialect").value = conn.dialect;
    }
    $("c-error").hidden = true;
    $("c-test-result").hidden = true;
    $("c-save").textContent = "Save";
    syncAuth();
    dlg.showModal();
  };
  editConnection = (conn, dialect) => {
    open(conn);
    $<HTMLSelectElement>("c-dialect").value = dialect;
    $<HTMLSelectElement>("c-dialect").dispatchEvent(new Event("change"));
  };
  auth.addEventListener("change", syncAuth);
  // An API's own version travels with the whole document: such a dialect writes with PUT.
  $<HTMLSelectElement>("c-dialect").addEventListener("change", (e) => {
    if ((e.target as HTMLSelectElement).value !== "generic") $<HTMLSelectElement>("c-method").value = "put";
  });
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
    const conn = store.connections.find((x) => x.id === id);
    if (conn && !conn.is_demo && conn.id !== "env") open(conn);
    else open(null);
  });
  $("edit-connection").addEventListener("click", () => {
    const conn = store.connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
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
  $("c-curl-fill").addEventListener("click", async () => {
    const result = $("c-curl-result");
    try {
      const c = await api.parseCurl($<HTMLTextAreaElement>("c-curl").value);
      field("c-name").value = c.name;
      field("c-url").value = c.base_url;
      auth.value = c.auth.type;
      field("c-user").value = c.auth.type === "basic" ? c.auth.user : "";
      field("c-header").value = c.auth.type === "header" ? c.auth.name : "";
      field("c-secret").value =
        c.auth.type === "bearer" ? c.auth.token : c.auth.type === "basic" ? c.auth.password : c.auth.type === "header" ? c.auth.value : "";
      $<HTMLSelectElement>("c-method").value = c.method;
      // The pasted command holds the secret: clear it; the form keeps it until Save (keyring).
      $<HTMLTextAreaElement>("c-curl").value = "";
      curlPath = c.path && c.path !== "/" ? c.path : null;
      syncAuth();
      tested = null;
      result.textContent = `Filled in from the command${curlPath ? `; ${curlPath} opens after saving` : ""}.${
        c.ignored.length ? ` Not taken: ${c.ignored.join("; ")}.` : ""
      }`;
      result.className = "hint ok";
    } catch (e) {
      result.textContent = words(e);
      result.className = "error";
    }
    result.hidden = false;
  });
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
      if (curlPath) {
        $<HTMLInputElement>("target").value = curlPath;
        curlPath = null;
      }
    } catch (e) {
      $("c-error").textContent = words(e);
      $("c-error").hidden = false;
    }
  });
}
