// The bridge to Rust. Every document crosses as text; all HTTP happens in Rust (reqwest).

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
/** How many times the window has called each command: to see that a document does not cross
 * the bridge more often than needed (`ifmatchLastSave.checkCalls`, read by the window tests). */
const calls: Record<string, number> = {};
export const callsOf = (cmd: string): number => calls[cmd] ?? 0;
const invoke: Invoke = (cmd, args) => {
  calls[cmd] = (calls[cmd] ?? 0) + 1;
  return (window as any).__TAURI__.core.invoke(cmd, args);
};

// Generated from the Rust definitions (ts-rs); a test fails when they are stale.
import type { Connections } from "./bindings/Connections";
import type { ConnectionInput } from "./bindings/ConnectionInput";
import type { ConnectionView } from "./bindings/ConnectionView";
import type { JsonProblem } from "./bindings/JsonProblem";
import type { Problem } from "./bindings/Problem";
import type { ProblemCode } from "./bindings/ProblemCode";
import type { RequestPreview } from "./bindings/RequestPreview";
import type { SaveView } from "./bindings/SaveView";
import type { RoundView } from "./bindings/RoundView";
import type { StaleCheck } from "./bindings/StaleCheck";
import type { TabView } from "./bindings/TabView";
import type { RestoredTab } from "./bindings/RestoredTab";
import type { RestoredDrafts } from "./bindings/RestoredDrafts";
import type { TrailEntry } from "./bindings/TrailEntry";
import type { Backend } from "./bindings/Backend";
import type { Accepted } from "./bindings/Accepted";
import type { Choice } from "./bindings/Choice";
import type { ConflictStatus } from "./bindings/ConflictStatus";
import type { ConnectionTest } from "./bindings/ConnectionTest";
import type { SafetyView } from "./bindings/SafetyView";
import type { CurlImport } from "./bindings/CurlImport";
import type { ReviewView } from "./bindings/ReviewView";
import type { HistoryEntry } from "./bindings/HistoryEntry";
import type { LiveCollision } from "./bindings/LiveCollision";
import type { LiveSignal } from "./bindings/LiveSignal";
import type { LiveStatusView } from "./bindings/LiveStatusView";
import type { LiveUpdate } from "./bindings/LiveUpdate";
export type { LiveCollision, LiveSignal, LiveStatusView, LiveUpdate };
export type { ConflictInfo } from "./bindings/ConflictInfo";
export type { Accepted, Choice, ConflictStatus, ConnectionTest, ProblemCode, RoundView, SafetyView };
export type { WriteMethod } from "./bindings/WriteMethod";
export type { Backend, Connections, ConnectionInput, ConnectionView, JsonProblem, Problem, RequestPreview, RestoredTab, SaveView, StaleCheck, TabView, TrailEntry };

export const api = {
  listConnections: () => invoke<Connections>("list_connections"),
  saveConnection: (input: ConnectionInput) => invoke<ConnectionView>("save_connection", { input }),
  openTab: (connectionId: string, target: string) => invoke<TabView>("open_tab", { connectionId, target }),
  reloadTab: (tabId: string) => invoke<TabView>("reload_tab", { tabId }),
  closeTab: (tabId: string) => invoke<void>("close_tab", { tabId }),
  cancelSave: (tabId: string) => invoke<boolean>("cancel_save", { tabId }),
  historyList: (tabId: string) => invoke<HistoryEntry[]>("history_list", { tabId }),
  historyText: (tabId: string, file: string) => invoke<string>("history_text", { tabId, file }),
  historyCompare: (tabId: string, file: string, text: string) => invoke<ReviewView>("history_compare", { tabId, file, text }),
  reviewWrite: (tabId: string, text: string, resubmit: boolean) => invoke<ReviewView>("review_write", { tabId, text, resubmit }),
  reapplySaved: (tabId: string) => invoke<SaveView>("reapply_saved", { tabId }),
  checkServer: (tabId: string) => invoke<SafetyView>("check_server", { tabId }),
  serverSafety: (tabId: string) => invoke<SafetyView>("server_safety", { tabId }),
  saveTab: (tabId: string, text: string, resubmit: boolean) => invoke<SaveView>("save_tab", { tabId, text, resubmit }),
  resolveConflict: (tabId: string, resultText: string, index: number, choice: Choice) =>
    invoke<Accepted>("resolve_conflict", { tabId, resultText, index, choice }),
  resolveAll: (tabId: string, resultText: string, choice: Choice) => invoke<Accepted>("resolve_all", { tabId, resultText, choice }),
  conflictStatus: (tabId: string, text: string) => invoke<ConflictStatus[]>("conflict_status", { tabId, text }),
  parseCurl: (command: string) => invoke<CurlImport>("parse_curl", { command }),
  testConnection: (input: ConnectionInput) => invoke<ConnectionTest>("test_connection", { input }),
  previewRequest: (tabId: string, text: string, resubmit: boolean) => invoke<RequestPreview>("preview_request", { tabId, text, resubmit }),
  deleteConnection: (id: string) => invoke<void>("delete_connection", { id }),
  setWeakSecretStorage: (optIn: boolean) => invoke<Backend>("set_weak_secret_storage", { optIn }),
  quitApp: () => invoke<void>("quit_app"),
  /** Writes the tab's draft; answers Rust's JSON check of the same text. */
  forgetRound: (tabId: string, key: string) => invoke<void>("forget_round", { tabId, key }),
  saveDraft: (tabId: string, text: string, round: string | null, on: string | null) => invoke<JsonProblem | null>("save_draft", { tabId, text, round, on }),
  /** The draft of a round just shown, its text being the Result Rust gave (nothing sent). */
  saveRoundDraft: (tabId: string, key: string) => invoke<void>("save_round_draft", { tabId, key }),
  restoreDrafts: () => invoke<RestoredDrafts>("restore_drafts"),
  tabTrail: (tabId: string) => invoke<TrailEntry[]>("tab_trail", { tabId }),
  exportTrail: (tabId: string) => invoke<string>("export_trail", { tabId }),
  checkStale: (tabId: string) => invoke<StaleCheck>("check_stale", { tabId }),
  liveUpdate: (tabId: string, text: string | null, openRound: boolean) => invoke<LiveUpdate>("live_update", { tabId, text, openRound }),
  liveStatus: (tabId: string) => invoke<LiveStatusView>("live_status", { tabId }),
  liveWindow: (focused: boolean, hidden: boolean) => invoke<void>("live_window", { focused, hidden }),
  liveSettle: (tabId: string) => invoke<boolean>("live_settle", { tabId }),
  liveRewind: (tabId: string, text: string) => invoke<void>("live_rewind", { tabId, text }),
  carryChange: (base: string, mine: string, theirs: string) => invoke<string | null>("carry_change", { base, mine, theirs }),
  checkJson: (text: string) => invoke<JsonProblem | null>("check_json", { text }),
  locatePointer: (text: string, pointer: string) => invoke<[number, number] | null>("locate_pointer", { text, pointer }),
  arrayElements: (texts: (string | null)[]) => invoke<(string[] | null)[]>("array_elements", { texts }),
  demoAnotherAdmin: (path: string, patch: string | null) => invoke<string>("demo_another_admin", { path, patch }),
};

const isProblem = (e: unknown): e is Problem => !!e && typeof e === "object" && "message" in e && "code" in e;

/// A thrown Problem or string, in words.
export function words(e: unknown): string {
  return isProblem(e) ? e.message : String(e);
}

/// What the window can offer for a thrown Problem ("other" for anything else).
export function codeOf(e: unknown): ProblemCode {
  return isProblem(e) ? e.code : "other";
}
