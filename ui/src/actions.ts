// Actions: what the user does that crosses views — open a resource, activate, close or reload a
// tab, save or resubmit, accept a conflict's side — and the one render pass after each
// (`render`), which redraws the tab bar, the messages, the workspace, the conflict view and
// History from the store. Views draw and ask (intents.ts); only this module and main import
// them, so no view imports another (ui/tests/imports.test.ts keeps it so).
import { api, callsOf, codeOf, words, type Choice, type LiveUpdate, type SaveView, type TabView } from "./api";
import { Text } from "@codemirror/state";
import type { TextEdit } from "./bindings/TextEdit";
import { applyEdits, applyServerChange, carriedText, checkDoc, isChecked, markLines, replaceFromServer, resetText, setConflictActionHandler, setRulerHandler, setText, setTextByEdits, showingTab, trackChanges, untrack, type Tracked } from "./editor";
import * as model from "./model";
import { $, store, active, noteSavedDoc, openRound, syncText, tracked, type Tab } from "./store";
import { draftTimers, persistDraft, persistRoundDraft } from "./drafts";
import { renderMessages, tabProblem } from "./messages";
import { intents, type RenderWhat } from "./intents";
import { renderTabs } from "./tabs";
import { applyAccepted, closeConflictView, editConflict, focusAfterAccept, goTo, openConflictView, showConflictView, type PaneDocs } from "./conflict";
import { refreshSafety } from "./safety";
import { review, reviewBeforeResubmit } from "./review";
import { renderHistory } from "./history";
import { placeOf, rememberRecent, renderWorkspace } from "./workspace";
import { editConnection, renderRecent, showConnection } from "./connections";

/** The one render pass after an action: everything the window shows, drawn from the store. */
export function render(what: RenderWhat = {}) {
  renderTabs();
  renderMessages();
  renderLive();
  if (what.typing) return;
  showConflictView(active());
  void renderWorkspace();
  void renderHistory(what.versions);
}

/** Gives the views their way to ask for actions (before anything is shown). */
export function wireIntents() {
  Object.assign(intents, { render, activate, openResource, closeTab, accept, editConnection: (c: Parameters<typeof editConnection>[0], d: string) => editConnection(c, d) });
  // The accept actions on each conflict in the Result and the panes do what the list's buttons
  // do; a mark in an overview ruler goes to its conflict.
  setConflictActionHandler((i, choice) => void (choice === "edit" ? editConflict(i) : accept(i, choice as Choice)));
  setRulerHandler((i) => void goTo(i));
}

/** Saves (or resubmits) the active tab; `reviewed`: the user already saw the review. */
export async function save(resubmit: boolean, reviewed = false) {
  const t = active();
  if (!t || t.saving || !store.editor) return;
  // A server change on its way into this tab lands first: Rust moves the tab's base forward
  // with it, so a save sent meanwhile would carry the newer validator with text that lacks
  // the change (and write over it).
  // A last look at the server before writing (a poll may be seconds old): a change made since
  // is merged into the edit now, and the user saves again, rather than the write meeting it.
  // (A question already on its way is fresh enough: the save waits for it below.)
  if (!resubmit && !t.round && t.live && !t.live.how.startsWith("not watched") && !saving.has(t.id) && !liveAsking.has(t.id)) {
    if (await api.liveSettle(t.id).catch(() => false)) {
      liveKinds.delete(t.id);
      await liveApply(t);
      if (t.id === store.activeId && liveKinds.get(t.id) === "merged" && !t.collisions?.length && !t.round) {
        t.notice = `${t.notice ?? ""} Nothing was sent: save again to write your edit with it.`.trim();
        render();
        return;
      }
    }
  }
  await liveSettled(t);
  if (t.saving || t.id !== store.activeId || saving.has(t.id)) return;
  // From here until the save's answer is shown, no newer version is put into the tab (it is
  // asked about after).
  saving.add(t.id);
  try {
    await saveNow(t, resubmit, reviewed);
  } finally {
    saving.delete(t.id);
    void liveApply(t);
  }
}

/** Tabs between Save and the save's answer. */
const saving = new Set<string>();

async function saveNow(t: Tab, resubmit: boolean, reviewed: boolean) {
  if (!store.editor) return;
  const t0 = performance.now();
  timing.shown = 0;
  const doc = store.editor.state.doc;
  const text = doc.toString();
  const asked = callsOf("check_json");
  const bad = await checkDoc(doc, text);
  timing.checkCalls = callsOf("check_json") - asked;
  const t1 = performance.now();
  if (bad) {
    t.error = `Not saved: the document is not valid JSON — ${bad.message} at line ${bad.line}, column ${bad.column}. Your text is unchanged; fix it and save again.`;
    t.errorCode = "invalid_json";
    render();
    return;
  }
  // The server's newer version collides with this edit (the watch saw it): the conflicts are
  // shown now, and nothing is sent until they are decided.
  if (!resubmit && !t.round && t.collisions?.length) {
    // A draft write still waiting would land after the round's own.
    clearTimeout(draftTimers.get(t.id));
    draftTimers.delete(t.id);
    await liveApply(t, true);
    // Still colliding: the conflict view is open now. Taken back on the server meanwhile: the
    // save goes on as a plain one.
    if (t.round || t.collisions?.length) return;
  }
  const c = openRound(t);
  if (resubmit && c) {
    // Asked on what the Result holds right now, read again (never a stale count).
    try {
      c.statuses = await api.conflictStatus(t.id, text);
    } catch (e) {
      tabProblem(t, e);
      return;
    }
    render();
    // With the review coming (or seen), only what nobody decided is asked here: a deliberate
    // Both or typed value is shown in the review, not asked about twice.
    const q = model.finishQuestion(c.view.conflicts, c.statuses, reviewed || reviewBeforeResubmit());
    if (q && !confirm(q)) return;
  }
  // What this resubmit will change on the server, before it is sent (unless turned off).
  if (resubmit && !reviewed && reviewBeforeResubmit() && !(await review(t, text, true))) return;
  // Rust writes this text into the draft as the save starts; a draft write still waiting here
  // would land after the save and keep a copy of text that is saved by then.
  clearTimeout(draftTimers.get(t.id));
  draftTimers.delete(t.id);
  t.saving = true;
  t.error = null;
  t.notice = null;
  t.overwritten = null;
  render();
  let r: SaveView;
  // The text objects the conflict panes can share instead of splitting the texts again: the
  // one sent (Mine) and the loaded version's (Base).
  const loaded = t.savedDoc?.text === t.savedText ? t.savedDoc.doc : undefined;
  let docs: PaneDocs = {};
  let resultEdits: ResultEdits | undefined;
  // Past 300 ms the window says it is working, for how long, and offers Cancel.
  const started = performance.now();
  const busy = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    if (s < 0.3) return;
    $("busy").hidden = false;
    $("busy-text").textContent = `${resubmit ? "Resubmitting" : "Saving"}… ${s.toFixed(1)} s`;
  }, 100);
  $("busy-cancel").onclick = () => void api.cancelSave(t.id);
  try {
    r = await api.saveTab(t.id, text, resubmit);
    timing.check = t1 - t0;
    timing.save = performance.now() - t1;
    if (r.kind === "merged" || r.kind === "conflicts") {
      // Rust leaves out the texts the window already holds (10 MB each at size).
      docs = { mine: r.round.mine_is_sent ? doc : undefined, base: r.round.base_is_loaded ? loaded : undefined };
      if (r.round.mine_is_sent) r.round.mine_text = text;
      if (r.round.base_is_loaded) r.round.base_text = t.savedText;
      r.round.mine_is_sent = r.round.base_is_loaded = false;
      // The Result and theirs come as changes to the text sent and the loaded version when
      // that is much smaller; the editors share the rest of those texts' lines.
      timing.edits = [r.round.text_edits?.length ?? -1, r.round.theirs_edits?.length ?? -1];
      if (r.round.text_edits) {
        docs.result = applyEdits(doc, r.round.text_edits);
        resultEdits = { from: doc, edits: r.round.text_edits };
        r.round.text = docs.result.toString();
        r.round.text_edits = null;
      }
      if (r.round.theirs_edits) {
        // Joined into a string only if the tab is not shown when the answer comes (the pane
        // is then made later, from the round).
        docs.theirs = applyEdits(loaded ?? t.savedText, r.round.theirs_edits);
        r.round.theirs_edits = null;
      }
    }
  } catch (e) {
    r = { kind: "failed", message: words(e), code: codeOf(e) };
  }
  clearInterval(busy);
  $("busy").hidden = true;
  t.saving = false;
  // What the user typed while the save was on its way is theirs: never replaced by its answer.
  const nowDoc = t.id === store.activeId && store.editor ? store.editor.state.doc : null;
  let typed = nowDoc ? (nowDoc !== doc ? nowDoc.toString() : null) : t.text !== text ? t.text : null;
  let lacking = false;
  if (typed !== null && r.kind === "saved" && r.text.replace(/\r/g, "") !== text) {
    // The save wrote more than was sent (an automatic resubmit merged the server's changes
    // in): what was typed meanwhile is carried into what was written, so that saving it does
    // not take those changes back.
    const carried = await api.carryChange(text, typed, r.text).catch(() => null);
    const active = t.id === store.activeId && store.editor;
    const now = active ? store.editor!.state.doc.toString() : t.text;
    if (carried !== null && now === typed) {
      typed = carried;
      if (active) {
        store.settingText = true;
        setText(store.editor!, carried, true);
        store.settingText = false;
      }
    } else lacking = true;
  }
  const t2 = performance.now();
  applySave(t, r, docs, resultEdits, typed);
  if (lacking) {
    t.notice = `${t.notice ?? ""} It does not have the server's changes this save merged in: saving it as it is would take them back. Reload shows what was saved.`.trim();
    render();
  }
  timing.apply = performance.now() - t2;
  if (r.kind === "saved") (t.collisions = null), (t.liveWaiting = false);
  // The user's wait: from Save to the frame that shows the outcome (the second frame callback
  // runs after the first one's paint).
  requestAnimationFrame(() => requestAnimationFrame(() => (timing.shown = performance.now() - t0)));
}

/** Where the last save's time went, in ms (read by scripts/bench-desktop): `shown`, from the
 * Save handler's start to the painted outcome (0 until then); the JSON check (the
 * text to Rust and back, or nothing when the lint had checked this very text: `checkCalls` 0),
 * the save (HTTP, merge, the answer across the bridge), the window applying it (the Result into
 * the editor, the conflict view built). `edits`: how many changes the round's Result and theirs
 * came as (-1: sent whole). */
const timing = { shown: 0, check: 0, save: 0, apply: 0, checkCalls: 0, edits: [-1, -1] };
(window as any).ifmatchLastSave = timing;
(window as any).ifmatchIsChecked = isChecked;
(window as any).ifmatchCallsOf = callsOf;

/** How the round's Result came: as replacements of the text sent. */
interface ResultEdits {
  from: Text;
  edits: TextEdit[];
}

/** Rounds a save ended in that the window does not show, being put back in Rust. */
const forgetting = new Map<string, Promise<void>>();

/** `docs`: text objects the window holds for the round's Mine and Base (shared by the panes);
 * `resultEdits`: the Result as changes to the text sent (the editor then changes only there);
 * `ownText`: the round's Result is not the text Rust made (typing carried into it), so its
 * draft is written from the window's text. */
export function applySave(t: Tab, r: SaveView, docs: PaneDocs = {}, resultEdits?: ResultEdits, typed: string | null = null, ownText = false) {
  const isActive = t.id === store.activeId;
  if (typed !== null && (r.kind === "saved" || r.kind === "merged" || r.kind === "conflicts")) {
    // The user typed while the save was on its way: the editor keeps what they typed.
    if (r.kind === "saved") {
      closeConflictView(t);
      t.round = null;
      t.savedText = r.text;
      t.validator = r.validator;
      t.stale = false;
      t.notice = `${r.message} What you typed while it was saving is kept in the editor and not saved yet.`;
    } else {
      // The save met another writer's change: nothing of it was written. The round is not shown
      // over the newer text; saving again merges that text.
      t.error =
        "Not saved: the resource changed on the server while this save was on its way, and you typed meanwhile. Nothing was written; your text is kept as it is now. Save again to merge it with the server's change.";
      t.errorCode = "other";
    }
    t.text = typed;
    if (r.kind === "saved") void persistDraft(t, true);
    // The round is not shown: Rust puts back the round the window still shows (none for a first
    // save), so the typed text's drafts pair with it; the next live question waits for that.
    else {
      const forgotten = api.forgetRound(t.id, r.round.key).catch(() => undefined).then(() => persistDraft(t, true));
      forgetting.set(t.id, forgotten);
      void forgotten.finally(() => forgetting.get(t.id) === forgotten && forgetting.delete(t.id));
    }
    render({ versions: isActive });
    if (isActive) void refreshSafety();
    return;
  }
  switch (r.kind) {
    case "saved":
      closeConflictView(t);
      t.round = null;
      t.savedText = r.text;
      t.text = r.text;
      t.validator = r.validator;
      t.stale = false;
      t.notice = r.message;
      break;
    case "merged":
    case "conflicts": {
      const round = r.round;
      closeConflictView(t);
      // The statuses Rust read off the Result it sent (none: asked when the view opens).
      t.round = { view: round, statuses: r.kind === "conflicts" && r.statuses.length ? r.statuses : null, panes: null };
      t.text = round.text;
      t.notice = round.message + (round.positional_arrays.length ? ` Arrays merged by position: ${round.positional_arrays.join(", ")}.` : "");
      break;
    }
    case "failed":
      t.error = r.message;
      t.errorCode = r.code;
      break;
    case "invalid":
      t.error = r.message;
      t.errorCode = "invalid_json";
  }
  if (isActive && store.editor) {
    store.settingText = true;
    // A round's Result is the merge's own print; a saved text is the server's.
    if (resultEdits && docs.result) setTextByEdits(store.editor, resultEdits.from, resultEdits.edits, docs.result);
    else setText(store.editor, docs.result ?? t.text, r.kind === "merged" || r.kind === "conflicts");
    store.settingText = false;
    noteSavedDoc(t);
    if (r.kind === "conflicts") openConflictView(t, docs);
  } else if (r.kind === "conflicts" && docs.theirs) {
    // Shown when the tab is (activate): its Theirs pane is made then, from the round.
    r.round.theirs_text = docs.theirs.toString();
  }
  if (r.kind === "merged" || r.kind === "conflicts") {
    // Written once the round is on screen (the user's wait ends first); Rust keeps the Result
    // it sent as the draft's text while the editor still shows it unchanged.
    const shown = isActive ? store.editor?.state.doc : undefined;
    if (ownText) void persistDraft(t, true);
    else afterPaint(() => void persistRoundDraft(t, shown));
  } else if (r.kind !== "saved") void persistDraft(t, true);
  // An open history shows the version just saved or met.
  render({ versions: isActive });
  // The save may have run the server check first (before a connection's first write).
  if (isActive) void refreshSafety();
}

/** Runs `fn` once the next frame is painted, or after 200 ms at the latest: a hidden or
 * minimised window paints no frames, and what waits here must still happen. */
function afterPaint(fn: () => void) {
  let done = false;
  const once = () => {
    if (!done) (done = true), fn();
  };
  requestAnimationFrame(() => setTimeout(once));
  setTimeout(once, 200);
}

/** Rust's answer for the Result as the editor holds it when the answer comes: asked again (at
 * most three times) when the user typed while it was on its way, so that typing stays. */
async function answeredForNow<T>(ask: (text: string) => Promise<T>): Promise<{ r: T; sent: Text }> {
  let sent = store.editor!.state.doc;
  let r = await ask(sent.toString());
  for (let k = 0; k < 3 && store.editor && store.editor.state.doc !== sent; k++) {
    sent = store.editor.state.doc;
    r = await ask(sent.toString());
  }
  return { r, sent };
}

export async function accept(i: number, choice: Choice): Promise<void> {
  if (!(await roundStill())) return;
  return tracked(async () => {
    const t = active();
    const c = openRound(t);
    if (!t || !c || !store.editor) return;
    try {
      // Rust applies it, remembers the decision and writes the draft before answering.
      const { r, sent } = await answeredForNow((text) => api.resolveConflict(t.id, text, i, choice));
      applyAccepted(t, c, r, sent);
      const next = model.nextUnresolved(c.statuses, i);
      await goTo(next === -1 ? i : next);
      render();
      await focusAfterAccept(next);
    } catch (e) {
      tabProblem(t, e);
    }
  });
}

/** Every unresolved conflict to one side, in one call to Rust (each in turn, as single Accepts
 * would do). */
export async function acceptAll(choice: "mine" | "theirs"): Promise<void> {
  if (!(await roundStill())) return;
  return tracked(async () => {
    const t = active();
    const c = openRound(t);
    if (!t || !c || !store.editor) return;
    const panes = c.panes;
    try {
      const { r, sent } = await answeredForNow((text) => api.resolveAll(t.id, text, choice));
      if (t.round?.panes !== panes) return;
      applyAccepted(t, c, r, sent);
      await goTo(panes.current);
      render();
      await focusAfterAccept(model.nextUnresolved(c.statuses, panes.current));
    } catch (e) {
      tabProblem(t, e);
    }
  });
}

export function activate(id: string) {
  // Edits of the tab being left that typing had not read in yet: read in, and drafted now (the
  // pending flush would be replaced by the next tab's).
  const leaving = active();
  if (leaving && store.pending) {
    syncText();
    void persistDraft(leaving);
  }
  // A tab in the background keeps its texts as strings only.
  if (leaving && leaving.id !== id) leaving.savedDoc = undefined;
  store.activeId = id;
  const t = active()!;
  store.windowError = null;
  store.windowNotice = null;
  // The header shows the tab's own connection.
  $<HTMLSelectElement>("connection").value = t.connectionId;
  showConnection();
  $("request-preview").hidden = true;
  store.settingText = true;
  showingTab(t.id);
  if (store.editor) resetText(store.editor, t.text);
  store.settingText = false;
  noteSavedDoc(t);
  if (t.collisions?.length) markCollisions(t);
  void refreshLive(t);
  // A round that ended while the tab was in the background is shown now.
  if (model.roundKind(t) === "conflict" && !t.round?.panes) openConflictView(t);
  // History lists the active tab's versions: it follows the tab (Compare and Restore act on it).
  render({ versions: true });
  void refreshSafety();
}

export async function openResource(target: string, connectionId?: string) {
  store.windowError = null;
  const conn = connectionId ?? $<HTMLSelectElement>("connection").value;
  try {
    const v: TabView = await api.openTab(conn, target);
    const t: Tab = {
      id: v.id, url: v.url, savedText: v.text, text: v.text, validator: v.validator, saving: false, round: null,
      error: null, stale: false, connectionId: v.connection_id, warnings: v.warnings, items: v.collection_items, notice: null,
    };
    store.tabs.push(t);
    rememberRecent(placeOf(v.connection_id, v.url));
    if (!store.recent.includes(target)) {
      store.recent.unshift(target);
      renderRecent();
    }
    store.demoUrl = (await api.listConnections()).demo_url;
    activate(t.id);
    // A change between the read and the watch's start is not missed.
    void liveApply(t);
  } catch (e) {
    tabProblem(null, e);
  }
}

export async function closeTab(id: string) {
  syncText();
  const t = store.tabs.find((x) => x.id === id);
  if (!t) return;
  // Whatever its status (stale, failed, merged, in conflict): unsaved work asks first.
  if (model.hasUnsavedWork(t) && !confirm(`"${model.title(t.url)}" has unsaved work (${model.describe(t)}). Close it and discard it?`)) {
    return;
  }
  clearTimeout(draftTimers.get(id));
  await api.closeTab(id);
  closeConflictView(t);
  store.tabs = store.tabs.filter((x) => x.id !== id);
  if (store.activeId === id) store.activeId = store.tabs.length ? store.tabs[store.tabs.length - 1].id : null;
  if (store.activeId) activate(store.activeId);
  else {
    store.settingText = true;
    showingTab(null);
    if (store.editor) resetText(store.editor, "");
    store.settingText = false;
    render();
  }
}

export async function reload() {
  syncText();
  const t = active();
  if (!t) return;
  if (model.hasUnsavedWork(t) && !confirm("Reload the server's version and discard your unsaved edits in this tab?")) return;
  // The edit is discarded: a draft write still waiting would bring it back after a restart.
  clearTimeout(draftTimers.get(t.id));
  draftTimers.delete(t.id);
  try {
    const v = await api.reloadTab(t.id);
    closeConflictView(t);
    Object.assign(t, {
      savedText: v.text, text: v.text, validator: v.validator, round: null, error: null, stale: false, warnings: v.warnings,
      items: v.collection_items, notice: null, overwritten: null, collisions: null, liveWaiting: false,
    });
    activate(t.id);
  } catch (e) {
    tabProblem(t, e);
    render();
  }
}

// Live: what a newer version of the server's resource does to each tab that shows it (Rust
// decides, by its merge; the window shows the answer and carries the user's typing through it).

/** Tabs asking Rust about a newer version right now (one question per tab at a time). */
const liveAsking = new Set<string>();
const liveAgain = new Set<string>();

/** Asks what the newest version the watch saw does to `t`, and shows it. `openRound`: the
 * collisions are opened as a conflict round (the user saved, or asked). */
export async function liveApply(t: Tab, openRound = false): Promise<void> {
  // During a save: asked when it ends (save's `finally`), unless this is the save itself
  // opening the collisions.
  if (t.saving || (saving.has(t.id) && !openRound)) return;
  if (liveAsking.has(t.id)) {
    liveAgain.add(t.id);
    return;
  }
  liveAsking.add(t.id);
  try {
    do {
      liveAgain.delete(t.id);
      await liveOnce(t, openRound);
    } while (liveAgain.has(t.id) && store.tabs.includes(t) && !t.saving);
  } finally {
    liveAsking.delete(t.id);
  }
}

/** Waits for a newer version on its way into the active tab; false when it made the round
 * again meanwhile (an Accept clicked on the round before names a conflict by its place in a
 * list that changed: the user sees the new round and clicks again). */
async function roundStill(): Promise<boolean> {
  const t = active();
  if (!t) return false;
  const before = t.round?.view;
  await liveSettled(t);
  return active() === t && t.round?.view === before;
}

/** Resolves once no question about a newer version is on its way for `t`. */
async function liveSettled(t: Tab): Promise<void> {
  while (liveAsking.has(t.id)) await new Promise((r) => setTimeout(r, 15));
}

async function liveOnce(t: Tab, openRound: boolean): Promise<void> {
  // An Accept or a move on the conflict view is being answered: the round is asked about after
  // it (its answer is made from the round as it was).
  for (let k = 0; k < 200 && t.round && (document.body.dataset.working ?? "0") !== "0"; k++) await new Promise((r) => setTimeout(r, 50));
  await forgetting.get(t.id);
  const sentText = textNow(t);
  // What is typed from here until the answer (in this tab, across tab switches) is carried
  // through it.
  const tracked = store.editor ? trackChanges(store.editor, t.id, sentText) : null;
  // A round's Result is always sent; otherwise only an edit (a clean tab stands on its base).
  const clean = sentText === (t.savedText.includes("\r") ? t.savedText.replace(/\r/g, "") : t.savedText);
  const text = t.round || !clean ? sentText : null;
  try {
    const r = await api.liveUpdate(t.id, text, openRound);
    await showLive(t, r, sentText, tracked);
  } catch {
    /* the tab was closed, or the watch's question failed: the next arrival asks again */
  } finally {
    if (tracked) untrack(tracked);
  }
  if (store.tabs.includes(t) && t.id === store.activeId) void refreshLive(t);
}

/** The tab's text now (the editor's when it shows the tab), its lines as the editor holds them
 * (no carriage returns: Rust's replacements count without them too). */
function textNow(t: Tab): string {
  if (t.id === store.activeId) syncText();
  return t.text.includes("\r") ? t.text.replace(/\r/g, "") : t.text;
}

/** Puts Rust's answer into the tab's text: `edits` are replacements of `sent` giving `whole`.
 * What was typed since `sent` is carried through them (followed change by change, else by
 * Rust's merge); false when neither can (the text is then left as it is). */
async function putServerChange(t: Tab, sent: string, tracked: Tracked | null, edits: TextEdit[], whole: string): Promise<boolean> {
  const shown = () => t.id === store.activeId && !!store.editor;
  if (tracked) {
    if (shown() && applyServerChange(store.editor!, tracked, edits)) {
      store.pending = true;
      syncText();
      return true;
    }
    if (!shown()) {
      const next = carriedText(tracked, edits, Text.of(textNow(t).split("\n")));
      if (next) {
        t.text = next.toString();
        return true;
      }
    }
  }
  // Not followed: Rust's merge carries the change into the text as it is now.
  const now = textNow(t);
  const next = now === sent ? whole : await api.carryChange(sent, now, whole).catch(() => null);
  if (next === null || textNow(t) !== now) return false;
  if (shown()) {
    store.settingText = true;
    replaceFromServer(store.editor!, next);
    store.settingText = false;
    store.pending = true;
    syncText();
  } else t.text = next;
  return true;
}

/** The server's change could not be put into the text (typed over meanwhile): the tab goes
 * back to the version its text stands on, and the newer one is asked about again. */
async function unmoved(t: Tab): Promise<void> {
  await api.liveRewind(t.id, textNow(t)).catch(() => undefined);
  liveAgain.add(t.id);
}

/** What the last "waiting" or "unlike" answer said to each tab. */
const waitingSaid = new Map<string, string>();

/** What the last answer about a newer version did to each tab (its kind). */
const liveKinds = new Map<string, LiveUpdate["kind"]>();

async function showLive(t: Tab, r: LiveUpdate, sent: string, tracked: Tracked | null): Promise<void> {
  if (r.kind !== "after_save") liveKinds.set(t.id, r.kind);
  switch (r.kind) {
    case "busy":
      return;
    case "current":
      // The newest version is the one the tab stands on (a collision the server took back):
      // nothing is marked or waiting any more.
      if (!t.collisions && !t.liveWaiting && !(t.notice && t.notice === waitingSaid.get(t.id))) return;
      if (t.collisions?.length) t.notice = "The server's change to what you edited was taken back: nothing collides now.";
      // What was said of the version that waited is not true any more.
      else if (t.notice === waitingSaid.get(t.id)) t.notice = null;
      t.collisions = null;
      t.liveWaiting = false;
      t.stale = false;
      if (store.editor && t.id === store.activeId) markLines(store.editor, "collision", []);
      break;
    case "revalidated":
      // The same document under a new validator: what a write now carries.
      if (t.round) t.round.view.validator = r.validator;
      else t.validator = r.validator;
      break;
    case "after_save": {
      const s = r.check;
      t.overwritten = s.overwritten.length ? s.overwritten : null;
      if (s.message) t.notice = s.message;
      await showLive(t, r.then, sent, tracked);
      if (s.message && r.then.kind !== "current") t.notice = `${s.message} ${t.notice ?? ""}`.trim();
      render();
      return;
    }
    case "replaced":
      if (store.editor && t.id === store.activeId) markLines(store.editor, "collision", []);
      if (!(await putServerChange(t, sent, tracked, r.edits, r.text))) return unmoved(t);
      // The editor holds it without carriage returns: the tab's text is the version itself.
      if (textNow(t) === r.text.replace(/\r/g, "")) t.text = r.text;
      t.savedText = r.text;
      t.validator = r.validator;
      t.savedDoc = undefined;
      noteSavedDoc(t);
      t.stale = false;
      t.collisions = null;
      t.liveWaiting = false;
      t.notice = r.message;
      break;
    case "merged":
      if (store.editor && t.id === store.activeId) markLines(store.editor, "collision", []);
      if (!(await putServerChange(t, sent, tracked, r.edits, r.text))) return unmoved(t);
      t.savedText = r.saved_text;
      t.validator = r.validator;
      t.savedDoc = undefined;
      t.stale = false;
      t.collisions = null;
      t.liveWaiting = false;
      t.notice = r.message;
      void persistDraft(t, true);
      break;
    case "collides":
      if (store.editor && t.id === store.activeId) markLines(store.editor, "collision", []);
      t.stale = true;
      t.collisions = r.conflicts;
      t.liveWaiting = true;
      t.notice = r.message;
      if (store.editor && t.id === store.activeId) markCollisions(t);
      break;
    case "waiting":
      t.stale = true;
      t.liveWaiting = true;
      t.notice = r.message;
      waitingSaid.set(t.id, r.message);
      break;
    case "unlike":
      // Nothing to ask again while typing: the next version the watch sees is asked about.
      t.stale = true;
      t.notice = r.message;
      waitingSaid.set(t.id, r.message);
      break;
    case "round": {
      t.collisions = null;
      t.liveWaiting = false;
      t.stale = false;
      const v = r.view;
      if (v.kind === "merged" || v.kind === "conflicts") {
        // The Result as the user left it, with the newer version's changes carried in (what
        // was typed during the question too).
        const now = textNow(t);
        if (now !== sent) {
          const next = tracked ? carriedText(tracked, r.edits, Text.of(now.split("\n"))) : null;
          const text = next ? next.toString() : await api.carryChange(sent, now, v.round.text).catch(() => null);
          if (text === null || textNow(t) !== now) return unmoved(t);
          v.round.text = text;
          // Where the conflicts stand is asked on this text when the view opens.
          if (v.kind === "conflicts") v.statuses = [];
        }
        // The Result is Rust's remerge (with decisions and hand edits kept) or carries typing:
        // either way not the round's own start, so its draft is the window's text.
        applySave(t, v, {}, undefined, null, true);
      }
      return;
    }
  }
  render({ versions: t.id === store.activeId });
}

/** Marks the tab's collisions in the editor (the tab is shown). */
function markCollisions(t: Tab): void {
  if (!store.editor) return;
  markLines(store.editor, "collision", (t.collisions ?? []).flatMap((c) => (c.lines ? [[c.lines[0], c.lines[1]] as [number, number]] : [])));
}

/** Asks how the tab's resource is watched, and draws it. */
export async function refreshLive(t: Tab): Promise<void> {
  try {
    t.live = await api.liveStatus(t.id);
  } catch {
    return;
  }
  if (t.id === store.activeId) renderLive(t);
}

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KB` : `${n} B`);

/** The active tab's watch in words: how, what it cost against plain polling, what went wrong. */
export function renderLive(t: Tab | null = active()): void {
  const el = $("live-status");
  const l = t?.live;
  el.textContent = l ? `${l.how}${l.requests ? ` · ${size(l.bytes)} received, plain polling ${size(Math.max(l.plain_polling_bytes, l.bytes))}` : ""}` : "";
  el.title = l?.problem ?? "How this resource's changes reach the tab";
  el.dataset.problem = l?.problem ? "yes" : "";
  el.dataset.fullBodyPolls = l?.full_body_polls ? "yes" : "";
  if (l?.problem) el.textContent += ` — ${l.problem}`;
  const show = $("live-show-conflicts");
  const n = t?.collisions?.length ?? 0;
  show.hidden = !n || !!t?.round;
  show.textContent = `Show conflicts (${n})`;
}
