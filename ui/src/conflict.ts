// The conflict view: Mine / Theirs / Base panes beside the Result, each conflict's status as Rust
// reads it off the Result's text, Accepts, navigation.
import { api, type Accepted, type ConflictStatus, type RoundView } from "./api";
import type { ConflictInfo } from "./bindings/ConflictInfo";
import { applyEdits, makeEditor, selectRange, setTextByEdits, setText, showConflictMarks, showLines, type ConflictMark } from "./editor";
import type { EditorView } from "@codemirror/view";
import type { Text } from "@codemirror/state";
import * as model from "./model";
import { $, store, active, openRound, tracked, type ConflictPanes, type OpenRound, type Tab } from "./store";
import { intents } from "./intents";

/** The panes' containers. Each tab in conflict has its own three pane editors; the active
 * tab's are the ones mounted here (another tab's stay alive, unmounted, until it is shown). */
const PANES = ["mine-pane", "theirs-pane", "base-pane"] as const;

/** Ends the tab's conflict view: its pane editors are destroyed (their documents freed). */
export function closeConflictView(t: Tab) {
  const p = t.round?.panes;
  if (!p) return;
  t.round!.panes = null;
  for (const v of [p.mine, p.theirs, p.base]) v.destroy();
}

/** Puts the tab's pane editors into the panes (a tab switch shows that tab's Mine / Theirs /
 * Base, never the last opened round's). */
function mountPanes(p: ConflictPanes) {
  [p.mine, p.theirs, p.base].forEach((v, i) => {
    const pane = $(PANES[i]);
    if (pane.firstChild === v.dom && pane.childNodes.length === 1) return;
    pane.replaceChildren(v.dom);
    (pane as any).ifmatchView = v;
    v.requestMeasure();
  });
}

/** Text objects the window already holds for a round's Mine and Base: the panes share them. */
export interface PaneDocs {
  mine?: Text;
  base?: Text;
  /** Built from the loaded version with the changes Rust sent (RoundView.theirs_edits). */
  theirs?: Text;
  /** The Result, built from the text sent with the changes Rust sent (RoundView.text_edits). */
  result?: Text;
}

/** Opens the conflict view on the tab's round, with the statuses it came with (else asked). */
export function openConflictView(t: Tab, docs: PaneDocs = {}) {
  const round = t.round;
  if (!round) return;
  closeConflictView(t);
  const r = round.view;
  const statuses = round.statuses;
  const start: ConflictStatus[] =
    statuses && statuses.length === r.conflicts.length
      ? statuses
      : r.conflicts.map((c) => ({ state: "unresolved", pointer: c.pointer, lines: null, range: null, value: c.base, neither_side: true }));
  const first = Math.max(0, model.nextUnresolved(start, -1));
  // Each pane is made in its place and at the first conflict's lines when Rust gave them (the
  // others are found after): laid out and measured once, where the user looks.
  const at = r.conflicts[first]?.lines ?? { mine: null, theirs: null, base: null };
  const pane = (i: number) => {
    const p = $(PANES[i]);
    p.replaceChildren();
    return p;
  };
  const baseView = makeEditor(pane(2), { doc: docs.base ?? r.base_text ?? "", readOnly: true, show: at.base ?? undefined });
  const baseDoc = baseView.state.doc;
  const side = (i: number, doc: string | Text, hunks: RoundView["mine_hunks"], lines: [number, number] | null) =>
    makeEditor(pane(i), { doc, readOnly: true, changes: { base: baseDoc, hunks: hunks ?? [] }, show: lines ?? undefined });
  round.statuses = start;
  round.panes = {
    current: first,
    mine: side(0, docs.mine ?? r.mine_text ?? "", r.mine_hunks, at.mine),
    theirs: side(1, docs.theirs ?? r.theirs_text ?? "", r.theirs_hunks, at.theirs),
    base: baseView,
  };
  const c = round as OpenRound;
  syncScroll([
    { view: c.panes.mine, hunks: r.mine_hunks ?? [] },
    { view: c.panes.theirs, hunks: r.theirs_hunks ?? [] },
    { view: c.panes.base, hunks: null },
  ]);
  // The editors hold the texts now; the round keeps only what the list needs.
  r.mine_text = r.base_text = null;
  r.theirs_text = "";
  $("positional").hidden = r.positional_arrays.length === 0;
  $("positional").textContent = `Merged by position (no identity key such as "id"), check these: ${r.positional_arrays.join(", ")}`;
  showConflictView(t);
  // Statuses Rust gave with the round are of this very text: no need to send it back to ask.
  const placed = { mine: !!at.mine, theirs: !!at.theirs, base: !!at.base };
  if (statuses && statuses.length === r.conflicts.length) void tracked(() => scrollToConflict(c, first, placed));
  else void refreshStatuses(t).then(() => goTo(openRound(t)?.panes.current ?? 0));
}

/** Scrolling one pane scrolls the others so that the lines beside each other stay beside each
 * other: a line is carried through its side's hunks to base's line and from there to each other
 * side's (a side that inserted 40 lines above keeps its lines level with the others', not the
 * same line numbers). The part of a line scrolled past is kept too. */
export function syncScroll(panes: { view: EditorView; hunks: readonly model.Hunk[] | null }[]) {
  let busy = false;
  for (const p of panes) {
    const v = p.view;
    v.scrollDOM.addEventListener("scroll", () => {
      if (busy) return;
      busy = true;
      const block = v.lineBlockAtHeight(v.scrollDOM.scrollTop);
      const into = v.scrollDOM.scrollTop - block.top;
      const line = v.state.doc.lineAt(block.from).number - 1;
      const base = p.hunks ? model.alignLine(p.hunks, line) : line;
      for (const o of panes) {
        if (o === p) continue;
        const at = o.hunks ? model.alignLine(o.hunks, base, true) : base;
        const l = o.view.state.doc.line(Math.min(at + 1, o.view.state.doc.lines));
        o.view.scrollDOM.scrollTop = o.view.lineBlockAt(l.from).top + into;
      }
      requestAnimationFrame(() => (busy = false));
    });
  }
}

/** Asks Rust where the conflicts stand in the Result now. An invalid Result keeps the last
 * answer (and cannot be resubmitted: the save checks the JSON first). */
export async function refreshStatuses(t: Tab) {
  const c = openRound(t);
  if (!c || !store.editor) return;
  const panes = c.panes;
  const text = t.id === store.activeId ? store.editor.state.doc.toString() : t.text;
  try {
    const s = await api.conflictStatus(t.id, text);
    if (t.round?.panes !== panes) return;
    c.statuses = s;
  } catch {
    return;
  }
  intents.render();
}

export let statusTimer: ReturnType<typeof setTimeout> | undefined;
export function scheduleStatuses(t: Tab) {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => void refreshStatuses(t), 120);
}


/** The most conflicts the list shows at once (around the current one). */
export const LIST_WINDOW = 200;

/** A value that a compact card can show whole: a scalar's JSON text, or absent. */
const isScalar = (v: string | null) => v === null || !/^\s*[[{]/.test(v);

/** Base / Mine / Theirs of a scalar conflict side by side, the side the Result holds now
 * marked. It only shows: the conflict's accepts are in the panes and the Result (one each). */
function valueCard(k: ConflictInfo, s: ConflictStatus): HTMLElement {
  const card = document.createElement("div");
  card.className = "value-card";
  card.dataset.testid = "value-card";
  for (const [side, v] of [["base", k.base], ["mine", k.mine], ["theirs", k.theirs]] as const) {
    const cell = document.createElement("div");
    cell.className = `cell ${side}${s.state === side ? " chosen" : ""}${v !== k.base ? " changed" : ""}`;
    cell.dataset.testid = `card-${side}`;
    const head = Object.assign(document.createElement("small"), { textContent: SIDE_NAMES[side] });
    const val = Object.assign(document.createElement("code"), { textContent: v ?? "(absent)", title: v ?? "(absent)" });
    cell.append(head, val);
    card.append(cell);
  }
  return card;
}

const SIDE_NAMES = { base: "Base", mine: "Mine", theirs: "Theirs" } as const;

/** An array run's three sides element by element (one line each, as Rust split them), the side
 * the Result holds outlined. It only shows, as the value card. */
function elementsCard(k: ConflictInfo, s: ConflictStatus, sides: (string[] | null)[]): HTMLElement {
  const card = document.createElement("div");
  card.className = "value-card elements";
  card.dataset.testid = "elements-card";
  (["base", "mine", "theirs"] as const).forEach((side, n) => {
    const cell = document.createElement("div");
    cell.className = `cell ${side}${s.state === side ? " chosen" : ""}${k[side] !== k.base ? " changed" : ""}`;
    cell.dataset.testid = `card-${side}`;
    const head = Object.assign(document.createElement("small"), { textContent: SIDE_NAMES[side] });
    const list = document.createElement("ol");
    const els = sides[n] ?? [];
    for (const e of els.slice(0, 8)) list.append(Object.assign(document.createElement("li"), { textContent: e, title: e }));
    if (els.length > 8) list.append(Object.assign(document.createElement("li"), { textContent: `… ${els.length - 8} more`, className: "more" }));
    if (!els.length) list.append(Object.assign(document.createElement("li"), { textContent: k[side] === null ? "(absent)" : "(no elements)", className: "more" }));
    cell.append(head, list);
    card.append(cell);
  });
  return card;
}

/** The elements of conflict `i`'s sides, asked of Rust once; the list is drawn again when they
 * come (a conflict view closed or replaced meanwhile is left alone). */
function elementsOf(t: Tab, c: OpenRound, i: number): (string[] | null)[] | null {
  c.panes.elements ??= new Map();
  const have = c.panes.elements.get(i);
  if (have === "pending") return null;
  if (have) return have;
  c.panes.elements.set(i, "pending");
  const panes = c.panes;
  const k = c.view.conflicts[i];
  void api.arrayElements([k.base, k.mine, k.theirs]).then(
    (sides) => {
      panes.elements!.set(i, sides);
      if (t.round?.panes === panes && t.id === store.activeId) showConflictView(t);
    },
    () => panes.elements!.delete(i),
  );
  return null;
}

/** Each conflict's marks in a side's pane (its lines in that side's text), with that side's
 * accepts on the open ones: "Accept mine" in Mine, "Accept theirs" in Theirs ("Both" too for
 * array runs). */
function paneMarks(c: OpenRound, side: "mine" | "theirs"): ConflictMark[] {
  return c.view.conflicts.flatMap((k, i) => {
    const lines = k.lines[side];
    if (!lines) return [];
    const choices = k.kind === "order" ? [] : k.array_hunk ? [side, "both"] : [side];
    const resolved = c.statuses[i]?.state !== "unresolved";
    return [{ from: lines[0], to: lines[1], resolved, current: i === c.panes.current, index: i, choices }];
  });
}

export function showConflictView(t: Tab | null) {
  const c = openRound(t);
  $("conflict-view").hidden = !c;
  if (!c) {
    if (store.editor) showConflictMarks(store.editor, []);
    return;
  }
  mountPanes(c.panes);
  showConflictMarks(c.panes.mine, paneMarks(c, "mine"), "pane");
  showConflictMarks(c.panes.theirs, paneMarks(c, "theirs"), "pane");
  // The list shows a window of LIST_WINDOW conflicts around the current one (a round with
  // thousands would rebuild tens of thousands of elements after every change); the ruler, the
  // marks and Previous / Next reach the rest.
  const list = $("conflict-list");
  const all = c.view.conflicts.length;
  const from = Math.max(0, Math.min(c.panes.current - Math.floor(LIST_WINDOW / 4), all - LIST_WINDOW));
  const to = Math.min(all, from + LIST_WINDOW);
  const more = (n: number, where: string) => {
    const li = Object.assign(document.createElement("li"), {
      className: "more",
      textContent: `… ${n} ${where} conflict(s) not listed here: Previous / Next or the ruler beside the Result reach them`,
    });
    li.dataset.testid = "conflict-list-more";
    return li;
  };
  list.replaceChildren(
    ...(from > 0 ? [more(from, "earlier")] : []),
    ...c.view.conflicts.slice(from, to).map((k, at) => {
      const i = from + at;
      const s = c.statuses[i];
      const li = document.createElement("li");
      li.dataset.testid = "conflict-item";
      li.dataset.index = String(i);
      li.value = i + 1;
      li.dataset.pointer = k.pointer;
      li.dataset.resolution = s.state;
      li.className = `${i === c.panes.current ? "current" : ""} ${s.state !== "unresolved" ? "done" : ""}`;
      const head = document.createElement("div");
      const part = (tag: string, text: string, cls = "") => Object.assign(document.createElement(tag), { textContent: text, className: cls });
      head.append(part("span", k.label || k.pointer || "(whole document)", "label"), " ", part("strong", model.stateWords(s)));
      // What happened, in words; the raw facts (pointer, kind, values) one click away.
      const people = part("span", model.conflictWords(k), "people");
      people.dataset.testid = "conflict-words";
      const details = document.createElement("details");
      details.dataset.testid = "conflict-details";
      details.addEventListener("click", (e) => e.stopPropagation());
      // Kept open across the list's redraws (every status change draws it again).
      c.panes.openDetails ??= new Set();
      details.open = c.panes.openDetails.has(i);
      details.addEventListener("toggle", () => {
        if (!details.open) return void c.panes.openDetails!.delete(i);
        // Opened by the user (not drawn open again): its facts scrolled into the rail's view.
        if (!c.panes.openDetails!.has(i)) details.scrollIntoView({ block: "nearest" });
        c.panes.openDetails!.add(i);
      });
      const raw = document.createElement("div");
      raw.className = "raw";
      raw.append(part("span", `pointer: ${k.pointer || "/"}`), part("span", `kind: ${k.kind}`));
      for (const [label, v] of [["base", k.base], ["mine", k.mine], ["theirs", k.theirs]] as const) {
        const e = part("span", `${label}: ${v ?? "(absent)"}`);
        e.title = v ?? "(absent)";
        raw.append(e);
      }
      details.append(part("summary", "Details"), raw);
      // Scalars whole, side by side in a card; array runs element by element (the panes show
      // the rest). Cards only show: the accepts are in the panes and the Result.
      const elements = k.array_hunk && k.kind !== "order" ? elementsOf(t!, c, i) : null;
      const parts: HTMLElement[] = [head, people];
      if (k.kind !== "order" && isScalar(k.base) && isScalar(k.mine) && isScalar(k.theirs)) parts.push(valueCard(k, s));
      else if (elements) parts.push(elementsCard(k, s, elements));
      // An order conflict is decided here: its choices are orders, not values (the panes and
      // the Result offer none for it).
      if (k.kind === "order") {
        const buttons = document.createElement("div");
        for (const [choice, label] of [["mine", "Mine's order"], ["theirs", "Theirs' order"], ["base", "Base's order"]] as const) {
          const b = part("button", label, "quiet") as HTMLButtonElement;
          b.dataset.testid = `accept-${choice}`;
          b.addEventListener("click", (e) => (e.stopPropagation(), void intents.accept(i, choice)));
          buttons.append(b);
        }
        parts.push(buttons);
      }
      parts.push(details);
      li.append(...parts);
      li.addEventListener("click", () => void goTo(i));
      return li;
    }),
    ...(to < all ? [more(all - to, "later")] : []),
  );
  const left = model.unresolved(c.statuses);
  const n = c.statuses.length;
  railToggleWords(left);
  $("unresolved").textContent = left ? `${left} of ${n} conflicts unresolved` : `All ${n} conflicts decided — review and resubmit`;
  $("unresolved").className = left ? "open" : "done";
  // The Result's own header: which conflict is current, and how many are left.
  $("result-count").textContent = `conflict ${c.panes.current + 1} of ${n} · ${left ? `${left} unresolved` : "all decided"}`;
  $("result-count").className = left ? "open" : "done";
  if (store.editor) {
    showConflictMarks(
      store.editor,
      c.statuses.flatMap((s, i) => {
        if (!s.lines) return [];
        const k = c.view.conflicts[i];
        // Inline actions on the conflict (an order conflict is decided from the list: its
        // choices are orders, not values).
        const choices = k.kind === "order" ? [] : k.array_hunk ? ["mine", "theirs", "both", "base", "edit"] : ["mine", "theirs", "base", "edit"];
        return [{ from: s.lines[0], to: s.lines[1], resolved: s.state !== "unresolved", current: i === c.panes.current, index: i, choices }];
      }),
    );
  }
}

/** The rail's toggle: which way it folds, and how many conflicts are open (seen folded too). */
export function railToggleWords(left = model.unresolved(openRound(active())?.statuses ?? [])) {
  const folded = $("conflict-rail").classList.contains("collapsed");
  $("rail-toggle").textContent = `${folded ? "▸" : "◂"} Conflicts · ${left} open`;
}

/** Scrolls every pane to conflict `i`: the Result by where Rust found it now, each side by its
 * own lines (so an element that moved on one side is still the one shown). */
export function goTo(i: number): Promise<void> {
  return tracked(async () => {
    const t = active();
    const c = openRound(t);
    if (!t || !c || i < 0 || i >= c.view.conflicts.length || !store.editor) return;
    c.panes.current = i;
    showConflictView(t);
    await scrollToConflict(c, i);
  });
}

/** Scrolls the panes (but those `placed` there already) and the Result to conflict `i`. A side
 * without lines for it (its value absent there) shows the nearest container Rust finds. */
async function scrollToConflict(c: OpenRound, i: number, placed = { mine: false, theirs: false, base: false }) {
  const k = c.view.conflicts[i];
  if (!k) return;
  for (const side of ["mine", "theirs", "base"] as const) {
    if (placed[side]) continue;
    const view = c.panes[side];
    const at = k.lines[side] ?? (await api.locatePointer(view.state.doc.toString(), parentOf(k.pointer)));
    if (at) showLines(view, at[0], at[1]);
  }
  const s = c.statuses[i];
  if (s?.lines && store.editor && openRound(active())?.panes === c.panes) showLines(store.editor, s.lines[0], s.lines[1]);
}

export function parentOf(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf("/")));
}

/** How the last Accept's Result came (read by the window tests): as this many changes to the
 * text sent, -1 whole. */
const lastAccept = { edits: -1 };
(window as any).ifmatchLastAccept = lastAccept;

/** Rust's answer to an Accept made on `sent`: the Result it wrote into the editor (as changes
 * to `sent` when it came so), the statuses it read off it. */
export function applyAccepted(t: Tab, c: OpenRound, r: Accepted, sent: Text) {
  store.settingText = true;
  lastAccept.edits = r.text_edits?.length ?? -1;
  if (r.text_edits) {
    const next = applyEdits(sent, r.text_edits);
    if (store.editor) setTextByEdits(store.editor, sent, r.text_edits, next);
    t.text = next.toString();
  } else {
    if (store.editor) setText(store.editor, r.text, true);
    t.text = r.text;
  }
  store.settingText = false;
  c.statuses = r.statuses;
  t.error = null;
}

/** After an Accept, focus goes where the keyboard continues: the next open conflict's first
 * accept in the Result (its Mine pane when the Result has not drawn it), or Resubmit when none
 * is open — never the page body, where keys would reach nothing. */
export async function focusAfterAccept(next: number) {
  // The Result draws the conflict's accepts once it has scrolled there (the next frames).
  for (let k = 0; k < 2; k++) await new Promise((done) => requestAnimationFrame(done));
  const at = (place: string) => document.querySelector<HTMLElement>(`[data-testid="${place}-actions"][data-index="${next}"] button`);
  const target = next === -1 ? document.querySelector<HTMLElement>('[data-testid="resubmit"]') : (at("inline") ?? at("pane") ?? document.querySelector<HTMLElement>(`[data-testid="conflict-item"][data-index="${next}"] button`));
  if (target && target.offsetParent !== null) target.focus();
  else store.editor?.focus();
}

/** Puts the cursor on the conflict's value in the Result. Decides nothing: only a change of
 * the value does. */
export function editConflict(i: number): Promise<void> {
  return tracked(async () => {
    const c = openRound(active());
    if (!c || !store.editor) return;
    await goTo(i);
    const s = c.statuses[i];
    if (s?.range) selectRange(store.editor, s.range[0], s.range[1]);
    else store.editor.focus();
  });
}

/** Next / previous conflict; true when the conflict view is open (the key was used). */
export function navigate(dir: 1 | -1): boolean {
  const c = openRound(active());
  if (!c) return false;
  void goTo(model.step(c.view.conflicts.length, c.panes.current, dir));
  return true;
}
