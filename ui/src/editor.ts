// CodeMirror 6, bundled locally. JSON mode; the lint asks Rust (the same parser that guards every
// save, so duplicate keys are caught too); Ctrl/Cmd+S saves.
import { basicSetup } from "codemirror";
import { ChangeSet, Compartment, EditorState, Prec, RangeSet, RangeSetBuilder, StateEffect, StateField, Text, Transaction, type Extension } from "@codemirror/state";
import { Decoration, EditorView, GutterMarker, WidgetType, gutter, keymap, showPanel, type DecorationSet } from "@codemirror/view";
import { json } from "@codemirror/lang-json";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { api } from "./api";
import type { LineHunk } from "./bindings/LineHunk";
import type { TextEdit } from "./bindings/TextEdit";
import type { JsonProblem } from "./bindings/JsonProblem";

export interface EditorOptions {
  /** The text, or a CodeMirror text another editor already holds (shared, not copied: lines
   * that did not change are the same objects). */
  doc: string | Text;
  readOnly?: boolean;
  /** Mark the changes against base (read-only panes of the conflict view): the line hunks Rust
   * computed (a diff of two 10 MB texts in the window would freeze it) and base's text. */
  changes?: { base: Text; hunks: LineHunk[] };
  /** The text changed (read it from the view when needed: joining it costs O(size)). */
  onChange?: () => void;
  onSave?: () => void;
  /** Alt+↓ / Alt+↑: go to the next / previous conflict. Returns true when it did (the conflict
   * view is open); the editor's own "move line" never runs on these keys then. */
  onNavigate?: (dir: 1 | -1) => boolean;
  /** 1-based lines to open on: selected and scrolled to the middle from the first frame (a
   * pane made at its conflict lays out and measures once, not at the top and then there). */
  show?: [number, number];
}

/** One conflict's lines in the Result, marked in the gutter and inline. */
export interface ConflictMark {
  from: number;
  to: number;
  resolved: boolean;
  current: boolean;
  /** The conflict's index in the round (for its inline actions). */
  index?: number;
  /** Its inline actions: which choices it offers ("both" only for array runs). */
  choices?: string[];
}

/** Where a conflict's actions sit: the Result ("inline-…" test ids) or a Mine / Theirs pane
 * ("pane-…"): the same accepts, named apart so that each place can be driven on its own. */
export type ActionsPlace = "inline" | "pane";

/** What an inline action on a conflict does (set by the conflict view). */
let onConflictAction: (index: number, choice: string) => void = () => {};
export function setConflictActionHandler(f: (index: number, choice: string) => void) {
  onConflictAction = f;
}

const CHOICE_WORDS: Record<string, string> = { mine: "Accept mine", theirs: "Accept theirs", both: "Both", base: "Accept base", edit: "Edit" };

/** The accept actions on the conflict itself, above its first line in the Result. */
class ConflictActions extends WidgetType {
  constructor(readonly index: number, readonly choices: string[], readonly place: ActionsPlace) {
    super();
  }
  eq(o: ConflictActions) {
    return o.index === this.index && o.choices.join() === this.choices.join() && o.place === this.place;
  }
  toDOM() {
    const el = document.createElement("div");
    el.className = "cm-conflict-actions";
    el.dataset.testid = `${this.place}-actions`;
    el.dataset.index = String(this.index);
    for (const c of this.choices) {
      const b = document.createElement("button");
      b.textContent = CHOICE_WORDS[c] ?? c;
      // "edit" puts the cursor on the value (decides nothing); the others accept.
      b.dataset.testid = c === "edit" ? `${this.place}-edit` : `${this.place}-accept-${c}`;
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", (e) => (e.preventDefault(), onConflictAction(this.index, c)));
      el.append(b);
    }
    return el;
  }
  ignoreEvent() {
    return true;
  }
}

const setMarks = StateEffect.define<{ marks: ConflictMark[]; place: ActionsPlace }>();

class ConflictGutterMarker extends GutterMarker {
  constructor(readonly resolved: boolean) {
    super();
  }
  eq(o: ConflictGutterMarker) {
    return o.resolved === this.resolved;
  }
  toDOM() {
    const el = document.createElement("span");
    el.className = this.resolved ? "cm-conflict-done-marker" : "cm-conflict-open-marker";
    el.textContent = this.resolved ? "✓" : "!";
    el.title = this.resolved ? "Conflict decided" : "Unresolved conflict";
    return el;
  }
}

interface Marks {
  lines: DecorationSet;
  gutter: RangeSet<GutterMarker>;
  actions: DecorationSet;
}

function buildMarks(state: EditorState, marks: ConflictMark[], place: ActionsPlace): Marks {
  const lineDecos: { pos: number; cls: string; open: boolean }[] = [];
  for (const m of marks) {
    for (let n = Math.max(1, m.from); n <= Math.min(m.to, state.doc.lines); n++) {
      const cls = `${m.resolved ? "cm-conflict-done" : "cm-conflict-open"}${m.current ? " cm-conflict-current" : ""}`;
      lineDecos.push({ pos: state.doc.line(n).from, cls, open: !m.resolved });
    }
  }
  lineDecos.sort((a, b) => a.pos - b.pos);
  const lb = new RangeSetBuilder<Decoration>();
  const gb = new RangeSetBuilder<GutterMarker>();
  let last = -1;
  for (const d of lineDecos) {
    if (d.pos === last) continue; // one mark a line (nested conflicts: the first wins)
    last = d.pos;
    lb.add(d.pos, d.pos, Decoration.line({ class: d.cls }));
    gb.add(d.pos, d.pos, new ConflictGutterMarker(!d.open));
  }
  const ab = new RangeSetBuilder<Decoration>();
  const open = marks
    .filter((m) => !m.resolved && m.choices?.length && m.index !== undefined && m.from >= 1 && m.from <= state.doc.lines)
    .sort((a, b) => a.from - b.from);
  let lastLine = -1;
  for (const m of open) {
    if (m.from === lastLine) continue;
    lastLine = m.from;
    const pos = state.doc.line(m.from).from;
    ab.add(pos, pos, Decoration.widget({ widget: new ConflictActions(m.index!, m.choices!, place), block: true, side: -1 }));
  }
  return { lines: lb.finish(), gutter: gb.finish(), actions: ab.finish() };
}

/** Marks of every conflict in the Result: set by `showConflictMarks`, moved with edits until the
 * next answer from Rust says where the conflicts are. */
const conflictMarks = StateField.define<Marks>({
  create: () => ({ lines: Decoration.none, gutter: new RangeSetBuilder<GutterMarker>().finish(), actions: Decoration.none }),
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setMarks)) return buildMarks(tr.state, e.value.marks, e.value.place);
    return tr.docChanged
      ? { lines: value.lines.map(tr.changes), gutter: value.gutter.map(tr.changes), actions: value.actions.map(tr.changes) }
      : value;
  },
  provide: (f) => [EditorView.decorations.from(f, (m) => m.lines), EditorView.decorations.from(f, (m) => m.actions)],
});

const conflictGutter: Extension = [
  conflictMarks,
  gutter({ class: "cm-conflict-gutter", markers: (v) => v.state.field(conflictMarks).gutter }),
];

/** Marks the conflicts in `view`, with their actions above each open one's first line, and
 * their places in the overview ruler beside its scrollbar (a click on one goes to it). */
export function showConflictMarks(view: EditorView, marks: ConflictMark[], place: ActionsPlace = "inline"): void {
  view.dispatch({ effects: setMarks.of({ marks, place }) });
  showRuler(view, marks, place === "inline" ? "conflict-ruler" : "pane-ruler");
}

/** What a click on a conflict's mark in an overview ruler does (set by the conflict view). */
let onRulerPick: (index: number) => void = () => {};
export function setRulerHandler(f: (index: number) => void) {
  onRulerPick = f;
}

/** The overview ruler: every conflict as a mark beside the scrollbar, at its place in the whole
 * text (red while open, green once decided, outlined when current), so conflicts far off
 * screen are seen at a glance and reached with one click. Kept in the editor's container. */
function showRuler(view: EditorView, marks: ConflictMark[], testid: string): void {
  const host = view.dom.parentElement;
  if (!host) return;
  let ruler = host.querySelector<HTMLElement>(":scope > .conflict-ruler");
  if (!marks.length) {
    ruler?.remove();
    host.classList.remove("has-ruler");
    return;
  }
  if (!ruler) {
    ruler = document.createElement("div");
    ruler.className = "conflict-ruler";
    ruler.dataset.testid = testid;
    ruler.title = "Conflicts in the whole text: click one to go to it";
    host.append(ruler);
  }
  host.classList.add("has-ruler");
  const lines = Math.max(1, view.state.doc.lines);
  ruler.replaceChildren(
    ...marks.map((m) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `ruler-mark ${m.resolved ? "done" : "open"}${m.current ? " current" : ""}`;
      b.dataset.testid = "ruler-mark";
      if (m.index !== undefined) b.dataset.index = String(m.index);
      b.dataset.state = m.resolved ? "decided" : "open";
      b.style.top = `${(100 * (Math.max(1, m.from) - 1)) / lines}%`;
      b.style.height = `${(100 * (Math.max(m.to, m.from) - m.from + 1)) / lines}%`;
      b.title = `Conflict ${(m.index ?? 0) + 1}, line ${m.from}${m.resolved ? " (decided)" : " (open)"}`;
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => m.index !== undefined && onRulerPick(m.index));
      return b;
    }),
  );
}

/** Puts the cursor on `from..to` (string offsets), scrolled into view, and focuses the editor. */
export function selectRange(view: EditorView, from: number, to: number): void {
  const len = view.state.doc.length;
  const a = Math.min(Math.max(from, 0), len);
  const b = Math.min(Math.max(to, a), len);
  view.dispatch({ selection: { anchor: a, head: b }, effects: EditorView.scrollIntoView(a, { y: "center" }) });
  view.focus();
}

/** Base's lines that a side deleted or replaced, shown above the side's lines (at most a few,
 * then how many more). */
class DeletedLines extends WidgetType {
  constructor(readonly base: Text, readonly from: number, readonly count: number) {
    super();
  }
  eq(o: DeletedLines) {
    return o.base === this.base && o.from === this.from && o.count === this.count;
  }
  toDOM() {
    const el = document.createElement("div");
    el.className = "cm-deletedChunk";
    const shown = Math.min(this.count, DELETED_SHOWN);
    for (let i = 0; i < shown; i++) {
      const line = document.createElement("div");
      line.className = "cm-deletedLine";
      line.textContent = this.base.line(this.from + 1 + i).text || "\u200b";
      el.append(line);
    }
    if (this.count > shown) {
      const more = document.createElement("div");
      more.className = "cm-deletedMore";
      more.textContent = `… ${this.count - shown} more line(s) of base replaced here`;
      el.append(more);
    }
    return el;
  }
  get estimatedHeight() {
    return 16 * (Math.min(this.count, DELETED_SHOWN) + (this.count > DELETED_SHOWN ? 1 : 0));
  }
}
const DELETED_SHOWN = 8;

class ChangeGutterMarker extends GutterMarker {
  toDOM() {
    const el = document.createElement("span");
    el.className = "cm-change-marker";
    el.textContent = "▍";
    return el;
  }
}
const changeMarker = new ChangeGutterMarker();

/** A side's changes against base, from Rust's line hunks: changed lines tinted and marked in a
 * gutter, base's replaced or deleted lines shown above them. Built once (the panes are read-only). */
function changeMarks(base: Text, hunks: LineHunk[]): Extension {
  const build = (doc: Text) => {
    const lines = new RangeSetBuilder<Decoration>();
    const marks = new RangeSetBuilder<GutterMarker>();
    for (const h of hunks) {
      const at = h.new_start < doc.lines ? doc.line(h.new_start + 1).from : doc.length;
      const oldCount = Math.max(0, Math.min(h.old_len, base.lines - h.old_start));
      if (oldCount > 0) {
        lines.add(at, at, Decoration.widget({ widget: new DeletedLines(base, h.old_start, oldCount), block: true, side: -1 }));
      }
      for (let n = h.new_start; n < Math.min(h.new_start + h.new_len, doc.lines); n++) {
        const from = doc.line(n + 1).from;
        lines.add(from, from, Decoration.line({ class: "cm-changedLine" }));
        marks.add(from, from, changeMarker);
      }
    }
    return { lines: lines.finish(), marks: marks.finish() };
  };
  const field = StateField.define<{ lines: DecorationSet; marks: RangeSet<GutterMarker> }>({
    create: (state) => build(state.doc),
    update: (v, tr) => (tr.docChanged ? { lines: v.lines.map(tr.changes), marks: v.marks.map(tr.changes) } : v),
    provide: (f) => EditorView.decorations.from(f, (v) => v.lines),
  });
  return [field, gutter({ class: "cm-change-gutter", markers: (v) => v.state.field(field).marks })];
}

/** What Rust's JSON check said of each text. CodeMirror's texts are immutable, so one object is
 * one text: the lint checks a text once typing pauses, and a save of that same text reuses the
 * answer instead of sending the whole document across the bridge again (0.2 s at 10 MB). */
const checked = new WeakMap<Text, JsonProblem | null>();

/** Checks of texts on their way to Rust with a draft write, which answers the check too (a
 * typing pause then sends the text once, not once for the draft and once for the lint); they
 * settle to undefined when the write fails. */
const checking = new WeakMap<Text, Promise<JsonProblem | null | undefined>>();

/** Notes that `answer` (a draft write's) will say what Rust's JSON check said of `doc`. */
export function checkedBy(doc: Text, answer: Promise<JsonProblem | null>): void {
  if (checked.has(doc)) return;
  checking.set(
    doc,
    answer.then(
      (p) => (checked.set(doc, p), p),
      () => undefined,
    ),
  );
}

/** Rust's JSON check of `doc` (`text` is its string when the caller already has it). */
export async function checkDoc(doc: Text, text?: string): Promise<JsonProblem | null> {
  const known = checked.has(doc) ? checked.get(doc) : await checking.get(doc);
  if (known !== undefined) return known;
  const p = await api.checkJson(text ?? doc.toString());
  checked.set(doc, p);
  return p;
}

/** Whether `doc` has been checked (a save of it then sends nothing extra). */
export const isChecked = (doc: Text): boolean => checked.has(doc);

const rustLint = linter(
  async (view): Promise<Diagnostic[]> => {
    const doc = view.state.doc;
    const p = await checkDoc(doc);
    if (!p) return [];
    const line = doc.line(Math.min(Math.max(p.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
    return [{ from, to: Math.min(from + 1, doc.length), severity: "error", message: `${p.message} (line ${p.line}, column ${p.column})` }];
  },
  { delay: 300 },
);

/** Above this many characters an editor is plain text: the JSON syntax tree (highlighting,
 * folding) is re-parsed in the background after every change in slices of up to 100 ms, which
 * made each keystroke in a 1 MB or 10 MB document wait ~70 ms; the Rust lint still checks it.
 * Its lines are not wrapped either: every line is one line high, so CodeMirror lays out and
 * measures far less when it shows new lines (a conflict view at 1 MB painted ~50 ms sooner, a
 * screenful of scrolling took 6 ms instead of 10). */
export const LARGE = 512 * 1024;
const language = new Compartment();

/** JSON with wrapped lines up to `LARGE`; above, plain text, unwrapped, with a note when `note`
 * (the editable editor only: the read-only panes show the same text beside it). */
function languageFor(length: number, note = true): Extension {
  if (length <= LARGE) return [json(), EditorView.lineWrapping];
  if (!note) return [];
  return showPanel.of(() => {
    const dom = document.createElement("div");
    dom.className = "cm-large-note";
    dom.dataset.testid = "large-document-note";
    dom.textContent = "Large document: shown as plain text (no syntax colours, folding or line wrapping) so that typing and scrolling stay quick. It is still checked as JSON.";
    return { dom, top: true };
  });
}

/** JSON's colours on the dark theme (the default ones are made for a white background). */
const darkHighlight = HighlightStyle.define(
  [
    { tag: tags.string, color: "#f6aea9" },
    { tag: tags.number, color: "#81c995" },
    { tag: [tags.bool, tags.null], color: "#8ab4f8" },
    { tag: tags.propertyName, color: "#e8eaed" },
    { tag: tags.invalid, color: "#ff8b80" },
  ],
  { themeType: "dark" },
);
const prefersDark = () => typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;

/** An editor's extensions for a text of `length` characters (its language depends on it). */
function extensionsFor(o: EditorOptions, length: number): Extension[] {
  const extensions: Extension[] = [
    Prec.highest(
      keymap.of([
        { key: "Alt-ArrowDown", run: () => o.onNavigate?.(1) ?? false },
        { key: "Alt-ArrowUp", run: () => o.onNavigate?.(-1) ?? false },
      ]),
    ),
    basicSetup,
    // The desktop's dark variant: a dark editor (style.css) with colours that read on it.
    ...(prefersDark() ? [EditorView.darkTheme.of(true), syntaxHighlighting(darkHighlight)] : []),
    language.of(languageFor(length, !o.readOnly)),
    // Only the editor that saves takes Ctrl+S; elsewhere (a pane) the window's own binding does.
    ...(o.onSave ? [keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (o.onSave?.(), true) }])] : []),
    EditorView.updateListener.of((u) => {
      if (!u.docChanged) return;
      for (const t of trackers) {
        if (t.view !== u.view || t.tab !== shownTab || t.lost) continue;
        if (t.changes.newLength !== u.changes.length) t.lost = true;
        else t.changes = t.changes.compose(u.changes);
      }
      o.onChange?.();
    }),
    liveMarks,
  ];
  if (o.readOnly) {
    extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  } else {
    extensions.push(rustLint, lintGutter());
  }
  // Conflicts are marked in the Result and in the Mine / Theirs panes alike.
  extensions.push(conflictGutter);
  if (o.changes) extensions.push(changeMarks(o.changes.base, o.changes.hunks));
  return extensions;
}

/** Each editor's options, to make its state anew (`resetText`). */
const optionsOf = new WeakMap<EditorView, EditorOptions>();

export function makeEditor(parent: HTMLElement, o: EditorOptions): EditorView {
  let state = EditorState.create({ doc: o.doc, extensions: extensionsFor(o, o.doc.length) });
  let scrollTo: StateEffect<unknown> | undefined;
  if (o.show) {
    const [a, b] = linesAt(state.doc, o.show[0], o.show[1]);
    state = state.update({ selection: { anchor: a.from, head: b.to } }).state;
    scrollTo = EditorView.scrollIntoView(a.from, { y: "center" });
  }
  const view = new EditorView({ parent, state, scrollTo });
  // Without the first text: kept for the editor's life, it would hold a copy of the document.
  optionsOf.set(view, { ...o, doc: "", show: undefined });
  // Automation hook (docs/testids.md): acceptance tests set and read the text through it.
  (parent as any).ifmatchView = view;
  return view;
}

/** Shows another document: the text with a history of its own. Undo never reaches into what
 * the editor showed before (after a tab switch, Ctrl+Z brought the other tab's text back into
 * this one, and Save would have written it here). */
export function resetText(view: EditorView, text: string): void {
  const o = optionsOf.get(view);
  if (!o) throw new Error("resetText: an editor makeEditor did not make");
  view.setState(EditorState.create({ doc: text, extensions: extensionsFor(o, text.length) }));
}

/** The effect that switches the language when a text crosses the large-document line. */
function languageSwitch(view: EditorView, nextLength: number) {
  return nextLength > LARGE !== view.state.doc.length > LARGE ? language.reconfigure(languageFor(nextLength)) : [];
}

/** Replaces the whole text (the window's own change: a tab switch, a merge, an Accept).
 * `fromRust`: a text Rust's merge or Accept printed (valid JSON by construction, having parsed
 * what it came from), so the lint need not send it back to be checked; a save still parses it. */
export function setText(view: EditorView, text: string | Text, fromRust = false): void {
  const effects = languageSwitch(view, text.length);
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects });
  if (fromRust) checked.set(view.state.doc, null);
}

/** `src` with Rust's replacements applied (UTF-16 offsets in `src`, in order, not overlapping):
 * how a round's answer sends a big text the window can build from one it holds. The result
 * shares with `src` every part the replacements leave alone. */
export function applyEdits(src: Text | string, edits: TextEdit[]): Text {
  const doc = typeof src === "string" ? Text.of(src.split("\n")) : src;
  return ChangeSet.of(edits, doc.length).apply(doc);
}

/** Shows `next`, which is `from` with Rust's replacements `edits` applied: as those changes when
 * the editor still holds `from` (the editor keeps its measured lines and its parse outside
 * them: at size that is most of the work a whole replacement costs), else as a whole text. */
export function setTextByEdits(view: EditorView, from: Text, edits: TextEdit[], next: Text): void {
  if (view.state.doc !== from) return setText(view, next, true);
  view.dispatch({ changes: edits, effects: languageSwitch(view, next.length) });
  checked.set(view.state.doc, null);
}

/** Lines `from` and `to` (1-based, clamped to the text). */
const linesAt = (doc: Text, from: number, to: number) => [doc.line(Math.min(Math.max(from, 1), doc.lines)), doc.line(Math.min(Math.max(to, 1), doc.lines))] as const;

/** Scrolls to and selects 1-based lines `from..to`. */
export function showLines(view: EditorView, from: number, to: number): void {
  const [a, b] = linesAt(view.state.doc, from, to);
  view.dispatch({ selection: { anchor: a.from, head: b.to }, effects: EditorView.scrollIntoView(a.from, { y: "center" }) });
}

/** Every change the user (or the window) made to a tab's text in the main editor since `from`
 * was its text (see `trackChanges`): followed across tab switches, since the editor is given
 * back the very text the tab had when it was left. */
export interface Tracked {
  tab: string;
  view: EditorView;
  from: Text;
  changes: ChangeSet;
  /** A change that did not fit what was tracked: the changes cannot be followed. */
  lost: boolean;
}

const trackers = new Set<Tracked>();
/** The tab the main editor shows now. */
let shownTab: string | null = null;

/** The main editor now shows tab `id` (call before giving it the tab's text). */
export function showingTab(id: string | null): void {
  shownTab = id;
}

/** Starts recording the changes made to tab `tab`'s text in `view` from now on, from `from`
 * (its text now); `untrack` when done. */
export function trackChanges(view: EditorView, tab: string, from: string): Tracked {
  const doc = shownTab === tab && view.state.doc.length === from.length ? view.state.doc : Text.of(from.split("\n"));
  const t: Tracked = { tab, view, from: doc, changes: ChangeSet.empty(doc.length), lost: false };
  trackers.add(t);
  return t;
}

export function untrack(t: Tracked): void {
  trackers.delete(t);
}

/** `edits` (replacements of `t.from`) carried through what was typed since, as changes of
 * `now` (the tab's text now); null when what was tracked does not lead to `now`. */
function carried(t: Tracked, edits: TextEdit[], now: Text): ChangeSet | null {
  if (t.lost || t.changes.newLength !== now.length || !t.changes.apply(t.from).eq(now)) return null;
  try {
    return ChangeSet.of(edits, t.from.length).map(t.changes);
  } catch {
    // Replacements that do not fit the text they were made for: not followed (Rust's merge
    // carries the change instead).
    return null;
  }
}

/** `now` with a server's change (`edits`, replacements of `t.from`) carried through whatever
 * was typed since; null when that cannot be followed. */
export function carriedText(t: Tracked, edits: TextEdit[], now: Text): Text | null {
  return carried(t, edits, now)?.apply(now) ?? null;
}

/** Puts a server's change into the editor, which shows the tab: `edits` are replacements of
 * `t.from` (the text that was sent to be merged); whatever was typed since is carried through
 * them, and they are not part of the undo history (Ctrl+Z undoes the user's own edits, never
 * the server's). The changed lines are highlighted for a moment. False when the changes since
 * cannot be followed (nothing is changed then). */
export function applyServerChange(view: EditorView, t: Tracked, edits: TextEdit[]): boolean {
  const changes = carried(t, edits, view.state.doc);
  if (!changes) return false;
  const next = changes.apply(view.state.doc);
  const arrived: [number, number][] = [];
  changes.iterChangedRanges((_fa, _ta, fromB, toB) => arrived.push([fromB, toB]));
  view.dispatch({ changes, annotations: Transaction.addToHistory.of(false), effects: languageSwitch(view, next.length) });
  const doc = view.state.doc;
  const lines = arrived.map(([a, b]) => [doc.lineAt(Math.min(a, doc.length)).number, doc.lineAt(Math.min(Math.max(a, b - 1), doc.length)).number] as [number, number]);
  markLines(view, "arrived", lines);
  setTimeout(() => markLines(view, "arrived", []), 2500);
  return true;
}

/** Line marks of the live watch: "arrived" (the server's change, for a moment) and
 * "collision" (a place the server changed that the user changed too). */
type LiveMarkKind = "arrived" | "collision";
const setLiveMarks = StateEffect.define<{ kind: LiveMarkKind; lines: [number, number][] }>();
const liveMarkDeco = { arrived: Decoration.line({ class: "cm-live-arrived" }), collision: Decoration.line({ class: "cm-live-collision" }) };
const liveMarks = StateField.define<{ arrived: DecorationSet; collision: DecorationSet }>({
  create: () => ({ arrived: Decoration.none, collision: Decoration.none }),
  update(v, tr) {
    let out = tr.docChanged ? { arrived: v.arrived.map(tr.changes), collision: v.collision.map(tr.changes) } : v;
    for (const e of tr.effects) {
      if (!e.is(setLiveMarks)) continue;
      const b = new RangeSetBuilder<Decoration>();
      const doc = tr.state.doc;
      const seen = new Set<number>();
      const starts: number[] = [];
      for (const [from, to] of e.value.lines) {
        for (let n = Math.max(1, from); n <= Math.min(to, doc.lines); n++) if (!seen.has(n)) seen.add(n), starts.push(doc.line(n).from);
      }
      starts.sort((x, y) => x - y);
      for (const s of starts) b.add(s, s, liveMarkDeco[e.value.kind]);
      out = { ...out, [e.value.kind]: b.finish() };
    }
    return out;
  },
  provide: (f) => [EditorView.decorations.from(f, (v) => v.arrived), EditorView.decorations.from(f, (v) => v.collision)],
});

/** Marks 1-based line ranges of `view` (none: clears that kind). */
export function markLines(view: EditorView, kind: LiveMarkKind, lines: [number, number][]): void {
  view.dispatch({ effects: setLiveMarks.of({ kind, lines }) });
}

/** Replaces the whole text with a server's version put into it (not part of the undo history). */
export function replaceFromServer(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, annotations: Transaction.addToHistory.of(false), effects: languageSwitch(view, text.length) });
}
