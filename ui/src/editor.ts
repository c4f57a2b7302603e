// CodeMirror 6, bundled locally. JSON mode; the lint asks Rust (the same parser that guards every
// save, so duplicate keys are caught too); Ctrl/Cmd+S saves.
import { basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { json } from "@codemirror/lang-json";
import { linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { unifiedMergeView } from "@codemirror/merge";
import { api } from "./api";

export interface EditorOptions {
  doc: string;
  readOnly?: boolean;
  /** Highlight changes against this text (read-only panes of the conflict view). */
  original?: string;
  onChange?: (text: string) => void;
  onSave?: () => void;
}

const rustLint = linter(
  async (view): Promise<Diagnostic[]> => {
    const doc = view.state.doc;
    const p = await api.checkJson(doc.toString());
    if (!p) return [];
    const line = doc.line(Math.min(Math.max(p.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
    return [{ from, to: Math.min(from + 1, doc.length), severity: "error", message: `${p.message} (line ${p.line}, column ${p.column})` }];
  },
  { delay: 300 },
);

export function makeEditor(parent: HTMLElement, o: EditorOptions): EditorView {
  const extensions = [
    basicSetup,
    json(),
    EditorView.lineWrapping,
    keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (o.onSave?.(), true) }]),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) o.onChange?.(u.state.doc.toString());
    }),
  ];
  if (o.readOnly) {
    extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  } else {
    extensions.push(rustLint, lintGutter());
  }
  if (o.original !== undefined) {
    extensions.push(unifiedMergeView({ original: o.original, mergeControls: false, gutter: true }));
  }
  const view = new EditorView({ parent, state: EditorState.create({ doc: o.doc, extensions }) });
  // Automation hook (docs/testids.md): acceptance tests set and read the text through it.
  (parent as any).ifmatchView = view;
  return view;
}

export function setText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Scrolls to and selects 1-based lines `from..to`. */
export function showLines(view: EditorView, from: number, to: number): void {
  const doc = view.state.doc;
  const a = doc.line(Math.min(Math.max(from, 1), doc.lines));
  const b = doc.line(Math.min(Math.max(to, 1), doc.lines));
  view.dispatch({ selection: { anchor: a.from, head: b.to }, effects: EditorView.scrollIntoView(a.from, { y: "center" }) });
}
