// The window's state logic, free of the DOM so it can be unit-tested: tab status, tabs open on
// the same resource, moving through conflicts, and the question before a resubmit. It never
// decides a merge, nor whether a conflict is resolved: Rust reads that off the Result's text
// (engine::round) and the window only shows it.
import type { ConflictInfo } from "./bindings/ConflictInfo";
import type { ConflictStatus } from "./bindings/ConflictStatus";

export type TabStatus = "clean" | "dirty" | "stale" | "saving" | "merged" | "conflict" | "error";

export interface TabState {
  id: string;
  url: string;
  /** The text as loaded or last saved. */
  savedText: string;
  /** The text in the editor. */
  text: string;
  validator: string | null;
  saving: boolean;
  /** A save round waiting for the user (merged cleanly, or with conflicts), absent between
   * rounds. Whether it is merged or in conflict is read off it (`roundKind`). */
  round?: RoundState | null;
  error: string | null;
  /** The server has a newer version than the one loaded (a save will go through the merge). */
  stale: boolean;
}

/** What the window needs of a round to tell its kind (the store's `Round` holds the rest). */
export interface RoundState {
  view: { conflicts: readonly unknown[] };
}

/** A tab's round: none, merged (nothing to decide: review and resubmit), or in conflict. */
export type RoundKind = "none" | "merged" | "conflict";

export function roundKind(t: Pick<TabState, "round">): RoundKind {
  if (!t.round) return "none";
  return t.round.view.conflicts.length ? "conflict" : "merged";
}

/** The one status a tab's colour and `data-status` show (the most urgent). */
export function status(t: TabState): TabStatus {
  if (t.saving) return "saving";
  const round = roundKind(t);
  if (round !== "none") return round;
  // "Not saved" only while there is something not saved: a message about anything else (a
  // comparison that failed, a text undone back to the saved one) leaves the tab clean.
  if (t.error && hasUnsavedWork(t)) return "error";
  if (t.stale) return "stale";
  return t.text === t.savedText ? "clean" : "dirty";
}

/** Everything true of a tab at once: status words joined ("unsaved edits · newer version…"). */
export function flags(t: TabState): TabStatus[] {
  const out: TabStatus[] = [];
  const round = roundKind(t);
  if (t.saving) out.push("saving");
  if (round !== "none") out.push(round);
  if (t.error && hasUnsavedWork(t)) out.push("error");
  if (round === "none" && t.text !== t.savedText) out.push("dirty");
  if (t.stale) out.push("stale");
  return out.length ? out : ["clean"];
}

export function describe(t: TabState): string {
  return flags(t).map((f) => STATUS_WORDS[f]).join(" · ");
}

/** Closing would lose something: the text differs from what was loaded or saved, or a round
 * (merged or in conflict) waits for a resubmit. Whatever else is true (stale, failed). */
export function hasUnsavedWork(t: TabState): boolean {
  return t.text !== t.savedText || !!t.round;
}

export const STATUS_WORDS: Record<TabStatus, string> = {
  clean: "clean",
  dirty: "unsaved edits",
  stale: "newer version on the server",
  saving: "saving…",
  merged: "merged: review and resubmit",
  conflict: "in conflict",
  error: "not saved (see message)",
};

/** Ids of the other tabs showing the same resource. */
export function sameResource(tabs: TabState[], id: string): string[] {
  const me = tabs.find((t) => t.id === id);
  if (!me) return [];
  return tabs.filter((t) => t.id !== id && t.url === me.url).map((t) => t.id);
}

export function unresolved(s: ConflictStatus[]): number {
  return s.filter((x) => x.state === "unresolved").length;
}

/** The next unresolved conflict after `from` (wrapping), or -1 when all are resolved. */
export function nextUnresolved(s: ConflictStatus[], from: number): number {
  const len = s.length;
  for (let k = 1; k <= len; k++) {
    const i = (((from + k) % len) + len) % len;
    if (s[i].state === "unresolved") return i;
  }
  return -1;
}

/** Step to the next (+1) or previous (-1) conflict from `current`, wrapping. */
export function step(len: number, current: number, dir: 1 | -1): number {
  if (len === 0) return -1;
  return (current + dir + len) % len;
}

/** How a conflict's state reads in the list. */
export function stateWords(s: ConflictStatus): string {
  switch (s.state) {
    case "unresolved":
      return "";
    case "edited":
      return "→ edited in the Result";
    default:
      return `→ ${s.state}`;
  }
}

/** What a conflict is, in words for people (the raw kind and pointer are in its details). */
export function conflictWords(k: Pick<ConflictInfo, "kind" | "mine" | "theirs" | "base" | "array_hunk">): string {
  if (k.kind === "order") return "you and they reordered it differently";
  if (k.mine === null && k.theirs !== null) return k.base === null ? "they added it, you did not" : "you removed it, they changed it";
  if (k.theirs === null && k.mine !== null) return k.base === null ? "you added it, they did not" : "they removed it, you changed it";
  if (k.kind === "add/add") return k.array_hunk ? "both added elements here, different ones" : "both added it, with different values";
  if (k.kind === "type change") return "both changed it, to different kinds of value";
  return k.array_hunk ? "both changed these elements" : "both changed it";
}

/** A changed run between base and a side, as Rust sends it (0-based lines). */
export interface Hunk {
  old_start: number;
  old_len: number;
  new_start: number;
  new_len: number;
}

/** The 0-based line of base that line `line` of a side stands beside, through that side's
 * hunks against base (`back`: the other way, base's line to the side's). Lines inside a
 * changed run map into the run; lines after it are shifted by what it added or removed. */
export function alignLine(hunks: readonly Hunk[], line: number, back = false): number {
  let shift = 0;
  for (const h of hunks) {
    const [from, len, to, toLen] = back ? [h.old_start, h.old_len, h.new_start, h.new_len] : [h.new_start, h.new_len, h.old_start, h.old_len];
    if (line < from) break;
    if (line < from + len) return to + Math.min(line - from, Math.max(0, toLen - 1));
    shift = to + toLen - (from + len);
  }
  return Math.max(0, line + shift);
}

const shorten = (v: string | null) => {
  if (v === null) return "(absent)";
  return v.length > 60 ? `${v.slice(0, 57)}…` : v;
};

/** The question to ask before a resubmit, or null when every conflict is decided and holds one
 * side's value. Names each place that would get a value that is neither side's, and which.
 * `reviewed`: the review (which shows every line sent, typed ones marked) is shown or was
 * seen, so a deliberate decision (Both, a typed value, base) is not asked about a second time —
 * only conflicts nobody decided are. */
export function finishQuestion(conflicts: ConflictInfo[], s: ConflictStatus[], reviewed = false): string | null {
  const places = conflicts
    .map((c, i) => ({ c, s: s[i] }))
    .filter(({ s }) => s && (s.state === "unresolved" || (!reviewed && s.neither_side)));
  if (places.length === 0) return null;
  const open = unresolved(s);
  const lines = places.map(({ c, s }) => {
    const why = s.state === "unresolved" ? "not resolved" : s.state === "edited" ? "edited by you" : `accepted ${s.state}`;
    return `• ${c.label || c.pointer || "(whole document)"} (${c.pointer || "/"}): ${shorten(s.value)} — ${why}; yours ${shorten(c.mine)}, theirs ${shorten(c.theirs)}`;
  });
  const head = open
    ? `${open} conflict${open === 1 ? " is" : "s are"} not resolved. The resubmit would send values that are neither yours nor theirs:`
    : "The resubmit would send values that are neither yours nor theirs:";
  return `${head}\n${lines.join("\n")}\nSend anyway?`;
}

/** The tab title: the last path segment of the URL. */
export function title(url: string): string {
  const path = url.replace(/^https?:\/\/[^/]+/, "").replace(/\/$/, "");
  const parts = path.split("/").filter(Boolean);
  return parts.length ? decodeURIComponent(parts[parts.length - 1]) : path || "/";
}
