// The window: connections, tabs, the editor, the save loop's outcomes and the conflict view.
// It renders state and sends intents; Rust fetches, parses, merges and writes, and says which
// conflicts the user has decided (engine::round), read off the Result's text. Each component
// lives in its own module; the state is one typed store (store.ts).
import { api, words } from "./api";
import { makeEditor } from "./editor";
import * as model from "./model";
import { $, store, active, syncText, type Tab } from "./store";
import { persistDraft } from "./drafts";
import { tabProblem } from "./messages";
import { loadConnections, showConnection, setupConnectionDialog } from "./connections";
import { render, activate, openResource, reload, save, applySave, acceptAll, wireIntents, liveApply, refreshLive } from "./actions";
import type { LiveSignal } from "./api";
import { scheduleStatuses, navigate, railToggleWords } from "./conflict";
import { showTrail } from "./trail";
import { preview } from "./preview";
import { checkServer } from "./safety";
import { review } from "./review";
import { showHistory } from "./history";
import { setupPalette } from "./palette";
import { setupWorkspace } from "./workspace";

/** Above this many characters, edits are read into the tab when typing pauses. */
const BIG = 256 * 1024;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let liveTimer: ReturnType<typeof setTimeout> | undefined;

async function start() {
  wireIntents();
  store.editor = makeEditor($("editor"), {
    doc: "",
    onChange: () => {
      const t = active();
      if (!t || store.settingText) return;
      store.pending = true;
      // A big document is read into the tab once typing pauses, not on every keystroke.
      clearTimeout(flushTimer);
      const big = (store.editor?.state.doc.length ?? 0) > BIG;
      // (Switching tabs meanwhile already read it in: then this only writes t's draft.) A big
      // document's draft is written at that pause, before the lint's check (300 ms after the
      // last change) asks: the draft's answer carries the check, and the text crosses once.
      const flush = () => {
        syncText();
        // A save refused because the text was not JSON is moot once the text is back to what
        // was loaded or saved: the tab no longer says "not saved".
        if (t.error && t.errorCode === "invalid_json" && !t.round && t.text === t.savedText) t.error = null;
        if (t.round?.panes) scheduleStatuses(t);
        void persistDraft(t, big);
        render({ typing: true });
        // A newer version waiting for this text (not JSON a moment ago, or colliding): asked
        // again once typing pauses.
        if (t.liveWaiting) {
          clearTimeout(liveTimer);
          liveTimer = setTimeout(() => void liveApply(t), 700);
        }
      };
      if (big) flushTimer = setTimeout(flush, 150);
      else flush();
    },
    onSave: () => void save(!!active()?.round),
    onNavigate: navigate,
  });
  $("open-form").addEventListener("submit", (e) => (e.preventDefault(), void openResource($<HTMLInputElement>("target").value)));
  $("connection").addEventListener("change", () => showConnection());
  $("save").addEventListener("click", () => void save(false));
  $("resubmit").addEventListener("click", () => void save(true));
  $("reload").addEventListener("click", () => void reload());
  $("preview").addEventListener("click", () => void preview());
  $("check-server").addEventListener("click", () => void checkServer());
  $("history-toggle").addEventListener("click", () => void showHistory());
  const reviewNow = async () => {
    const t = active();
    if (!t || !store.editor) return;
    syncText();
    const resubmit = !!t.round;
    if (await review(t, store.editor.state.doc.toString(), resubmit)) await save(resubmit, true);
  };
  $("review").addEventListener("click", () => void reviewNow());
  // Ctrl+S from anywhere in the window (after an Accept, a click on a card or a pane, a closed
  // dialog: focus is then outside the editor): save, or resubmit a round. Inside the editor its
  // own binding ran first. Not while a dialog is open: its own buttons decide there.
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || !(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey) return;
    if (e.key !== "s" && e.key !== "S") return;
    e.preventDefault();
    if (document.querySelector("dialog[open]")) return;
    void save(!!active()?.round);
  });
  document.addEventListener("keydown", (e) => {
    if (e.altKey && (e.key === "r" || e.key === "R") && !e.defaultPrevented) {
      e.preventDefault();
      void reviewNow();
    }
  });
  $("trail-toggle").addEventListener("click", () => void showTrail());
  $("export-trail").addEventListener("click", async () => {
    const t = active();
    if (!t) return;
    try {
      t.notice = `Request trail written to ${await api.exportTrail(t.id)} — attach it to a support ticket; it holds no credentials.`;
      render();
    } catch (e) {
      tabProblem(t, e);
    }
  });
  // Closing the window with unsaved or conflicted work asks first.
  (window as any).__TAURI__?.event?.listen("close-requested", async () => {
    syncText();
    const open = store.tabs.filter(model.hasUnsavedWork);
    await Promise.all(open.map((t) => persistDraft(t, true)));
    if (open.length === 0 || confirm(`${open.length} tab(s) have unsaved or conflicted work. It is kept as a draft and comes back next time. Quit now?`)) {
      await api.quitApp();
    }
  });
  $("prev-conflict").addEventListener("click", () => void navigate(-1));
  $("next-conflict").addEventListener("click", () => void navigate(1));
  $("result-prev").addEventListener("click", () => void navigate(-1));
  $("result-next").addEventListener("click", () => void navigate(1));
  $("all-mine").addEventListener("click", () => void acceptAll("mine"));
  $("all-theirs").addEventListener("click", () => void acceptAll("theirs"));
  // The conflict view's layout (kept in localStorage): stacked or side by side, panes shown or
  // hidden, their height.
  const layout = () => {
    const stacked = $<HTMLInputElement>("panes-stacked").checked;
    const hidden = $<HTMLInputElement>("panes-hidden").checked;
    const h = $<HTMLInputElement>("pane-height").value;
    $("panes").classList.toggle("stacked", stacked);
    $("panes").hidden = hidden;
    $("merge-row").classList.toggle("no-panes", hidden);
    $("panes").style.setProperty("--pane-h", `${h}vh`);
    localStorage.setItem("ifmatch.panes", JSON.stringify({ stacked, hidden, h }));
  };
  try {
    const saved = JSON.parse(localStorage.getItem("ifmatch.panes") ?? "null");
    if (saved) {
      $<HTMLInputElement>("panes-stacked").checked = !!saved.stacked;
      $<HTMLInputElement>("panes-hidden").checked = !!saved.hidden;
      $<HTMLInputElement>("pane-height").value = String(saved.h ?? 20);
    }
  } catch {
    /* a garbled preference: the defaults */
  }
  layout();
  for (const id of ["panes-stacked", "panes-hidden", "pane-height"]) $(id).addEventListener("input", layout);
  // The conflict rail: open or folded to its toggle (kept, as the layout is).
  const rail = (collapsed: boolean) => {
    $("conflict-rail").classList.toggle("collapsed", collapsed);
    $("rail-toggle").setAttribute("aria-expanded", String(!collapsed));
    railToggleWords();
    localStorage.setItem("ifmatch.rail", collapsed ? "collapsed" : "open");
  };
  rail(localStorage.getItem("ifmatch.rail") === "collapsed");
  $("rail-toggle").addEventListener("click", () => rail(!$("conflict-rail").classList.contains("collapsed")));
  $<HTMLInputElement>("show-base").addEventListener("change", (e) => ($("base-col").hidden = !(e.target as HTMLInputElement).checked));
  $("another-admin").addEventListener("click", async () => {
    const t = active();
    const path = t ? t.url.replace(/^https?:\/\/[^/]+/, "") : "/settings";
    try {
      await api.demoAnotherAdmin(path, null);
      // Watched: the tab shows it as it arrives. Not watched (IFMATCH_LIVE=off): Save merges it.
      const watched = !!t?.live && !t.live.how.startsWith("not watched");
      store.windowNotice = `Another admin changed ${path} on the demo server.${watched ? "" : " Save to see the merge."}`;
      if (t) t.notice = store.windowNotice;
      render();
    } catch (e) {
      tabProblem(t, e);
    }
  });
  // Outside the editor (the panes, the list): the same keys. Inside it, the editor's own
  // high-precedence binding already did it and stopped the event.
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || !e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    if (navigate(e.key === "ArrowDown" ? 1 : -1)) e.preventDefault();
  });
  // Every open resource is watched in Rust (engine::live): a signal says that a newer version
  // arrived (each tab showing it asks what it does to the tab) or that how it is watched changed.
  (window as any).__TAURI__?.event?.listen("live", (e: { payload: LiveSignal }) => {
    const s = e.payload;
    for (const t of store.tabs.filter((x) => x.connectionId === s.connection_id && x.url === s.url)) {
      if (s.arrived) void liveApply(t);
      else if (t.id === store.activeId) void refreshLive(t);
    }
  });
  // Polling is at its shortest while the window has focus and backs off while it is hidden.
  window.addEventListener("focus", () => void api.liveWindow(true, document.hidden));
  document.addEventListener("visibilitychange", () => void api.liveWindow(false, document.hidden));
  // The tab's figures (bytes against plain polling) move while it is watched.
  setInterval(() => {
    const t = active();
    if (t && !document.hidden) void refreshLive(t);
  }, 5_000);
  // A tab whose resource could not be watched is checked the old way (If-None-Match), on focus.
  const checkStale = async () => {
    for (const t of store.tabs) {
      if (t.saving || t.round || (t.live && !t.live.how.startsWith("not watched"))) continue;
      try {
        const s = await api.checkStale(t.id);
        if (s.message) {
          // The overwrite watch, in Rust's words: the saved change was written over (Reapply
          // offered), or changed after the save by a write that saw it (told, nothing to do).
          // Either way the save landed: the tab never says "not saved" for it.
          t.overwritten = s.overwritten.length ? s.overwritten : null;
          t.notice = s.message;
          t.stale = s.stale;
          render();
        } else if (s.stale !== t.stale) {
          t.stale = s.stale;
          render();
        }
      } catch {
        /* offline: the next save says what happened */
      }
    }
  };
  window.addEventListener("focus", () => void checkStale());
  $("live-show-conflicts").addEventListener("click", () => {
    const t = active();
    if (t) void liveApply(t, true);
  });
  window.addEventListener("beforeunload", (e) => {
    syncText();
    if (store.tabs.some(model.hasUnsavedWork)) e.preventDefault();
  });
  // While a dialog is open the editors show no scrollbars: WebKitGTK paints them above the top
  // layer, through the dialog and its backdrop (style.css, body.dialog-open).
  const dialogOpen = () => document.body.classList.toggle("dialog-open", !!document.querySelector("dialog[open]"));
  new MutationObserver(dialogOpen).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["open"] });
  setupConnectionDialog();
  setupPalette();
  setupWorkspace();
  $("reload-now").addEventListener("click", () => void reload());
  $("reapply-saved").addEventListener("click", async () => {
    syncText();
    const t = active();
    if (!t) return;
    // The reapplied change opens as a round whose Result replaces the editor's text.
    if (model.hasUnsavedWork(t) && !confirm("Reapplying your saved change replaces the unsaved edits in this tab with the merge of it and the server's version. Reapply anyway?")) return;
    try {
      const r = await api.reapplySaved(t.id);
      if (r.kind === "merged" || r.kind === "conflicts") {
        // The tab now stands on the server's version the change was merged into (as in Rust).
        t.savedText = r.round.theirs_text;
        t.validator = r.round.validator;
        t.savedDoc = undefined;
      }
      t.overwritten = null;
      t.error = null;
      t.notice = null;
      applySave(t, r);
    } catch (e) {
      tabProblem(t, e);
    }
  });
  render();
  try {
    await loadConnections();
    const drafts = await api.restoreDrafts();
    const restored = drafts.tabs;
    if (drafts.unreadable.length) {
      // Kept on disk, not restored: the user is told where, never left to wonder.
      store.draftsUnreadable = `${drafts.unreadable.length} draft(s) could not be read, so their edits were not restored; each file is kept as it was: ${drafts.unreadable.join(", ")}`;
    }
    for (const r of restored) {
      const v = r.tab;
      const t: Tab = {
        id: v.id, url: v.url, savedText: r.saved_text, text: v.text, validator: v.validator, saving: false,
        // A round comes back with the statuses stored with it; its view opens when shown.
        round: r.round ? { view: r.round, statuses: r.statuses ?? null, panes: null } : null, error: null, stale: false,
        connectionId: v.connection_id, warnings: v.warnings, items: [],
        notice: r.round && !r.round.conflicts.length ? r.round.message : null,
      };
      store.tabs.push(t);
      // A round in conflict opens its view (with the statuses stored with it).
      activate(t.id);
    }
    // The server may have moved on since the drafts were written: merged in now, or marked.
    for (const t of store.tabs) void liveApply(t);
    if (restored.length) {
      store.windowNotice = `${restored.length} tab(s) restored from drafts, with your unsaved edits.`;
      const t = active();
      if (t && !t.round?.panes) t.notice = store.windowNotice;
      render();
    }
    const conn = store.connections.find((x) => x.id === $<HTMLSelectElement>("connection").value);
    if (conn?.is_demo && restored.length === 0) await openResource("/settings");
  } catch (e) {
    store.windowError = words(e);
  }
  render();
}

void start();
