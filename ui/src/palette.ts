// The command palette (Ctrl+Shift+P, or F1): every action of the window with its shortcut,
// filtered as you type; Enter runs the first one shown. It presses the same buttons the mouse
// does, so an action that is not available now (hidden or disabled) is not offered.
import { $, active, openRound } from "./store";
import { intents } from "./intents";
import type { Choice } from "./api";

interface Action {
  name: string;
  keys?: string;
  /** The button it presses. */
  button: string;
}

/** The current conflict's Accepts, by key (Alt+1 … Alt+4), in the panes' order. */
const ACCEPTS: { choice: Choice; name: string; key: string }[] = [
  { choice: "mine", name: "Accept mine (this conflict)", key: "1" },
  { choice: "theirs", name: "Accept theirs (this conflict)", key: "2" },
  { choice: "both", name: "Accept both (this conflict: mine's elements, then theirs')", key: "3" },
  { choice: "base", name: "Accept base (this conflict)", key: "4" },
];

/** Whether `choice` can be taken for the current conflict now. */
function acceptable(choice: Choice): boolean {
  const c = openRound(active());
  const k = c?.view.conflicts[c.panes.current];
  return !!k && (choice !== "both" || (k.array_hunk && k.kind !== "order"));
}

function acceptCurrent(choice: Choice) {
  const c = openRound(active());
  if (c && acceptable(choice)) void intents.accept(c.panes.current, choice);
}

const ACTIONS: Action[] = [
  { name: "Save", keys: "Ctrl+S", button: "save" },
  { name: "Resubmit the merge", button: "resubmit" },
  { name: "Review changes", keys: "Alt+R", button: "review" },
  { name: "Reload the server's version", button: "reload" },
  { name: "Check server (does it refuse stale writes?)", button: "check-server" },
  { name: "History of this resource", button: "history-toggle" },
  { name: "Request trail", button: "trail-toggle" },
  { name: "Preview request", button: "preview" },
  { name: "Next conflict", keys: "Alt+↓", button: "next-conflict" },
  { name: "Previous conflict", keys: "Alt+↑", button: "prev-conflict" },
  { name: "Accept all mine", button: "all-mine" },
  { name: "Accept all theirs", button: "all-theirs" },
  { name: "New connection…", button: "new-connection" },
  { name: "Edit connection…", button: "edit-connection" },
  { name: "Demo: another admin edits this", button: "another-admin" },
];

/** Whether a button can be pressed now (in the page, shown, enabled). */
function available(id: string): boolean {
  const b = document.getElementById(id) as HTMLButtonElement | null;
  return !!b && !b.disabled && b.getClientRects().length > 0;
}

function render(filter: string) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = ACTIONS.filter((a) => available(a.button) && words.every((w) => a.name.toLowerCase().includes(w)));
  const accepts = ACCEPTS.filter((a) => acceptable(a.choice) && words.every((w) => a.name.toLowerCase().includes(w)));
  $("palette-list").replaceChildren(
    ...accepts.map((a) => {
      const li = document.createElement("li");
      li.dataset.testid = "palette-item";
      li.dataset.accept = a.choice;
      li.append(Object.assign(document.createElement("span"), { textContent: a.name }));
      li.append(Object.assign(document.createElement("kbd"), { textContent: `Alt+${a.key}` }));
      li.addEventListener("click", () => ($<HTMLDialogElement>("palette").close(), acceptCurrent(a.choice)));
      return li;
    }),
    ...shown.map((a) => {
      const li = document.createElement("li");
      li.dataset.testid = "palette-item";
      li.dataset.button = a.button;
      li.append(Object.assign(document.createElement("span"), { textContent: a.name }));
      if (a.keys) li.append(Object.assign(document.createElement("kbd"), { textContent: a.keys }));
      li.addEventListener("click", () => run(a.button));
      return li;
    }),
  );
}

function run(button: string) {
  $<HTMLDialogElement>("palette").close();
  document.getElementById(button)?.click();
}

export function openPalette() {
  const dlg = $<HTMLDialogElement>("palette");
  const input = $<HTMLInputElement>("palette-input");
  input.value = "";
  render("");
  dlg.showModal();
  input.focus();
}

export function setupPalette() {
  const input = $<HTMLInputElement>("palette-input");
  input.addEventListener("input", () => render(input.value));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      const first = document.querySelector<HTMLElement>('[data-testid="palette-item"]');
      first?.click();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "F1" || ((e.ctrlKey || e.metaKey) && e.shiftKey && (e.key === "P" || e.key === "p"))) {
      e.preventDefault();
      openPalette();
    }
  });
  // Alt+1 … Alt+4: the current conflict's Accepts, from anywhere in the window (not while a
  // dialog is open).
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || !e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const a = ACCEPTS.find((x) => e.code === `Digit${x.key}` || e.key === x.key);
    if (!a || !openRound(active()) || document.querySelector("dialog[open]")) return;
    e.preventDefault();
    acceptCurrent(a.choice);
  });
  $("palette-open").addEventListener("click", () => openPalette());
}
