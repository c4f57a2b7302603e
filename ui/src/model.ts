// The window's state logic, free of the DOM so it can be unit-tested: tab status, tabs open on
// the same resource, and moving through conflicts. It never decides a merge (Rust does).

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
  /** A save round is waiting for the user: merged cleanly, or with conflicts. */
  round: "none" | "merged" | "conflict";
  error: string | null;
  /** The server has a newer version than the one loaded (a save will go through the merge). */
  stale: boolean;
}

export function status(t: TabState): TabStatus {
  if (t.saving) return "saving";
  if (t.round === "conflict") return "conflict";
  if (t.round === "merged") return "merged";
  if (t.error) return "error";
  if (t.stale) return "stale";
  return t.text === t.savedText ? "clean" : "dirty";
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

export type Resolution = "unresolved" | "mine" | "theirs" | "both" | "base" | "edited";

export interface ConflictNav {
  resolutions: Resolution[];
  current: number;
}

export function unresolved(n: ConflictNav): number {
  return n.resolutions.filter((r) => r === "unresolved").length;
}

/** The next unresolved conflict after `from` (wrapping), or -1 when all are resolved. */
export function nextUnresolved(n: ConflictNav, from: number): number {
  const len = n.resolutions.length;
  for (let k = 1; k <= len; k++) {
    const i = (from + k) % len;
    if (n.resolutions[i] === "unresolved") return i;
  }
  return -1;
}

/** Step to the next (+1) or previous (-1) conflict, wrapping. */
export function step(n: ConflictNav, dir: 1 | -1): number {
  const len = n.resolutions.length;
  if (len === 0) return -1;
  return (n.current + dir + len) % len;
}

/** Records a resolution and advances to the next unresolved conflict (auto-advance). */
export function resolve(n: ConflictNav, index: number, how: Resolution): ConflictNav {
  const resolutions = n.resolutions.slice();
  resolutions[index] = how;
  const next = nextUnresolved({ resolutions, current: index }, index);
  return { resolutions, current: next === -1 ? index : next };
}

/** The question to ask before resubmitting, or null when nothing is left open. */
export function finishQuestion(n: ConflictNav): string | null {
  const left = unresolved(n);
  if (left === 0) return null;
  return `${left} conflict${left === 1 ? " is" : "s are"} not resolved: the Result shows the base value there, and that is what will be sent. Send anyway?`;
}

/** The tab title: the last path segment of the URL. */
export function title(url: string): string {
  const path = url.replace(/^https?:\/\/[^/]+/, "").replace(/\/$/, "");
  const parts = path.split("/").filter(Boolean);
  return parts.length ? decodeURIComponent(parts[parts.length - 1]) : path || "/";
}
