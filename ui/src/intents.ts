// What a view asks for when the user acts on it (a tab clicked, a conflict accepted, a resource
// opened from the workspace), and the one render pass that follows. The actions module fills
// these in at start; views call them and never import each other nor the actions (which import
// the views): the import graph stays layered — helpers (store, model, api, editor, messages,
// drafts, this) below the views, the views below actions and main (ui/tests/imports.test.ts).
import type { ConnectionView } from "./bindings/ConnectionView";
import type { Choice } from "./bindings/Choice";

export interface RenderWhat {
  /** While typing: the tab bar and messages only (the conflict view follows once Rust has
   * read the new statuses; the workspace and history do not change with a keystroke). */
  typing?: boolean;
  /** The active tab's versions changed (saved, reloaded, switched): History lists them again. */
  versions?: boolean;
}

export interface Intents {
  /** Redraws the window from the store: tabs, messages, workspace, conflict view, history. */
  render(what?: RenderWhat): void;
  activate(id: string): void;
  openResource(target: string, connectionId?: string): Promise<void>;
  closeTab(id: string): Promise<void>;
  accept(i: number, choice: Choice): Promise<void>;
  editConnection(conn: ConnectionView, dialect: string): void;
}

const unset = (name: string) => () => {
  throw new Error(`${name} asked before the window started`);
};

/** Filled in by `actions.ts` (`wireIntents`) before anything is shown. */
export const intents: Intents = {
  render: unset("render"),
  activate: unset("activate"),
  openResource: unset("openResource"),
  closeTab: unset("closeTab"),
  accept: unset("accept"),
  editConnection: unset("editConnection"),
};
