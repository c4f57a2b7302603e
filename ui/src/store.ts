// The window's state, in one typed store: connections, tabs and the active one, the editor,
// and the messages that belong to no tab. Every component reads and writes it here; nothing
// else holds state across calls.
import type { Text } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import type { ConflictStatus, ConnectionView, LiveCollision, LiveStatusView, ProblemCode, RoundView } from "./api";
import type * as model from "./model";

/** The element with this id. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export interface Tab extends model.TabState {
  /** The save round waiting for the user, absent between rounds (`model.roundKind` says
   * whether it is merged or in conflict). */
  round?: Round | null;
  connectionId: string;
  warnings: string[];
  items: string[];
  /** The tab's own message (the merge summary, "Saved."), kept until it is saved or reloaded. */
  notice: string | null;
  /** What the window can offer for the tab's error (edit the connection, reload). */
  errorCode?: ProblemCode;
  /** The overwrite watch found the change last saved written over at these pointers. */
  overwritten?: string[] | null;
  /** While the tab is shown: the editor's text object for `savedText` (`text` is that very
   * string). A conflict's Base pane shares it instead of splitting 10 MB into lines again, and
   * the Mine pane's text, edited from it, shares its unchanged lines. */
  savedDoc?: { text: string; doc: Text };
  /** How the tab's resource is watched (Rust's words and figures), once asked. */
  live?: LiveStatusView | null;
  /** Places where the server's newer version collides with the unsaved edit (marked in the
   * editor; Save or "Show conflicts" opens them as a conflict round). */
  collisions?: LiveCollision[] | null;
  /** A newer version waits for the text to be valid JSON again (asked again after edits). */
  liveWaiting?: boolean;
}

/** A tab's save round: everything the window holds of it, in one place. */
export interface Round {
  /** The round as Rust sent it (its validator is the one the resubmit carries). The texts
   * the pane editors took are dropped from it once they hold them. */
  view: RoundView;
  /** Where each conflict stands in the Result, as Rust last read it; null until asked (a
   * round that came without them). */
  statuses: ConflictStatus[] | null;
  /** The conflict view while it is open on this round. */
  panes: ConflictPanes | null;
}

/** A round whose conflict view is open (its statuses known). */
export type OpenRound = Round & { panes: ConflictPanes; statuses: ConflictStatus[] };

/** The tab's round if its conflict view is open. */
export function openRound(t: Tab | null | undefined): OpenRound | null {
  const r = t?.round;
  return r?.panes && r.statuses ? (r as OpenRound) : null;
}

/** The conflict view's own state: its pane editors, the current conflict, what the list
 * fetched and which details the user opened. */
export interface ConflictPanes {
  current: number;
  mine: EditorView;
  theirs: EditorView;
  base: EditorView;
  /** An array run's base / mine / theirs as elements (compact texts, split by Rust), by
   * conflict index; fetched once when the list first shows it. */
  elements?: Map<number, (string[] | null)[] | "pending">;
  /** Conflicts whose raw details the user opened in the list (kept across its redraws). */
  openDetails?: Set<number>;
}

export interface Store {
  connections: ConnectionView[];
  demoUrl: string | null;
  tabs: Tab[];
  activeId: string | null;
  /** The Result / document editor (made at start). */
  editor: EditorView | null;
  recent: string[];
  /** True while the window itself replaces the editor's text (not the user typing). */
  settingText: boolean;
  /** The editor holds edits not yet read into the active tab's `text` (see `syncText`). */
  pending: boolean;
  /** A message that belongs to no tab (a resource that did not open, a connection error). */
  windowError: string | null;
  windowNotice: string | null;
  windowErrorCode: ProblemCode;
  /** A draft that could not be written: shown until a draft write works again. */
  draftWarning: string | null;
  /** Drafts that could not be read at start (set aside on disk, not restored), in words. */
  draftsUnreadable: string | null;
}

export const store: Store = {
  connections: [],
  demoUrl: null,
  tabs: [],
  activeId: null,
  editor: null,
  recent: [],
  settingText: false,
  pending: false,
  windowError: null,
  windowNotice: null,
  windowErrorCode: "other",
  draftWarning: null,
  draftsUnreadable: null,
};

/** The active tab, if any. */
export const active = (): Tab | null => store.tabs.find((t) => t.id === store.activeId) ?? null;

/** Reads the editor's text into the active tab when it holds edits not read yet. The editor's
 * text is joined lazily: a 10 MB document joined on every keystroke makes typing lag. Everything
 * that reads a tab's `text` (status, drafts, switching, closing) calls this first. */
export function syncText(): void {
  if (!store.pending || !store.editor) return;
  store.pending = false;
  const t = active();
  if (t) t.text = store.editor.state.doc.toString();
}

/** How many of the window's own actions (an Accept, a move to a conflict) are still running.
 * `body[data-working]` shows it: a test clicks when it is 0, as a person waits for the page to
 * stop moving before the next click. */
let working = 0;
export async function tracked<T>(work: () => Promise<T>): Promise<T> {
  document.body.dataset.working = String(++working);
  try {
    return await work();
  } finally {
    // The editors scroll into view on their next frame: done means the page has moved (once,
    // by the outermost action). A hidden window draws no frames: give up after 200 ms.
    if (working === 1)
      await new Promise((r) => {
        setTimeout(r, 200);
        requestAnimationFrame(() => requestAnimationFrame(r));
      });
    document.body.dataset.working = String(--working);
  }
}

/** Notes the editor's text object while it shows the tab's saved version (`Tab.savedDoc`). */
export function noteSavedDoc(t: Tab) {
  if (store.editor && t.id === store.activeId && t.text === t.savedText) t.savedDoc = { text: t.savedText, doc: store.editor.state.doc };
}
