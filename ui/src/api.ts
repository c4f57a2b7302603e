// The bridge to Rust. Every document crosses as text; all HTTP happens in Rust (reqwest).
// Types mirror the Rust structs of src-tauri/src/commands (see bindings/ for the engine's).

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
const invoke: Invoke = (cmd, args) => (window as any).__TAURI__.core.invoke(cmd, args);

export type WriteMethod = "put" | "merge_patch" | "json_patch";

export interface ConnectionView {
  id: string;
  name: string;
  base_url: string;
  auth: string;
  method: WriteMethod;
  auto_resubmit: boolean;
  is_demo: boolean;
  trusts_custom_cert: boolean;
}

export interface Connections {
  connections: ConnectionView[];
  default_id: string;
  demo_url: string | null;
}

export type AuthInput =
  | { type: "none" }
  | { type: "bearer"; token: string }
  | { type: "basic"; user: string; password: string }
  | { type: "header"; name: string; value: string };

export interface ConnectionInput {
  id: string | null;
  name: string;
  base_url: string;
  auth: AuthInput;
  method: WriteMethod;
  auto_resubmit: boolean;
  trusted_cert_pem: string | null;
}

export interface TabView {
  id: string;
  connection_id: string;
  url: string;
  text: string;
  validator: string | null;
  warnings: string[];
  collection_items: string[];
}

export interface Problem {
  kind: string;
  message: string;
}

export interface ConflictInfo {
  pointer: string;
  kind: string;
  array_hunk: boolean;
  base: string | null;
  mine: string | null;
  theirs: string | null;
}

export interface Stats {
  from_mine: number;
  from_theirs: number;
  same_both: number;
  conflicts: number;
}

export interface SaveView {
  kind: "saved" | "merged" | "conflicts" | "failed" | "invalid";
  message: string;
  outcome_kind: string | null;
  text: string | null;
  validator: string | null;
  base_text: string | null;
  mine_text: string | null;
  theirs_text: string | null;
  conflicts: ConflictInfo[];
  stats: Stats | null;
  positional_arrays: string[];
  rounds: number;
}

export interface RequestPreview {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}

export interface JsonProblem {
  message: string;
  line: number;
  column: number;
}

export const api = {
  listConnections: () => invoke<Connections>("list_connections"),
  saveConnection: (input: ConnectionInput) => invoke<ConnectionView>("save_connection", { input }),
  openTab: (connectionId: string, target: string) => invoke<TabView>("open_tab", { connectionId, target }),
  reloadTab: (tabId: string) => invoke<TabView>("reload_tab", { tabId }),
  closeTab: (tabId: string) => invoke<void>("close_tab", { tabId }),
  saveTab: (tabId: string, text: string, resubmit: boolean) => invoke<SaveView>("save_tab", { tabId, text, resubmit }),
  resolveConflict: (tabId: string, resultText: string, index: number, choice: string) =>
    invoke<string>("resolve_conflict", { tabId, resultText, index, choice }),
  previewRequest: (tabId: string, text: string, resubmit: boolean) => invoke<RequestPreview>("preview_request", { tabId, text, resubmit }),
  checkJson: (text: string) => invoke<JsonProblem | null>("check_json", { text }),
  locatePointer: (text: string, pointer: string) => invoke<[number, number] | null>("locate_pointer", { text, pointer }),
  demoAnotherAdmin: (path: string, patch: string | null) => invoke<string>("demo_another_admin", { path, patch }),
};

/// A thrown Problem or string, in words.
export function words(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as Problem).message);
  return String(e);
}
