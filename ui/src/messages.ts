// Messages: the active tab's, else the window's, with what the error's code allows.
import { codeOf, words } from "./api";
import * as model from "./model";
import { $, store, active, openRound, type Tab } from "./store";

/** Shows the active tab's messages, else the window's; offers what the error's code allows. */
export function renderMessages() {
  const t = active();
  const error = t?.error ?? store.windowError;
  const code = (t?.error ? t.errorCode : store.windowErrorCode) ?? "other";
  $("fix-connection").hidden = !error || code !== "credentials";
  $("reload-now").hidden = !t || !t.error || code !== "may_have_landed";
  $("reapply-saved").hidden = !t?.overwritten?.length;
  const draftWords = [store.draftWarning, store.draftsUnreadable].filter(Boolean).join(" ");
  $("draft-warning").textContent = draftWords;
  $("draft-warning").hidden = !draftWords;
  const notice = (t ? summary(t) : null) ?? store.windowNotice;
  $("error").textContent = error ?? "";
  $("error").hidden = !error;
  $("notice").textContent = notice ?? "";
  $("notice").hidden = !notice;
  // Conflicts that still need the user are not good news: amber, not green.
  const c = openRound(t);
  $("notice").classList.toggle(
    "needs-you",
    (!!c && model.unresolved(c.statuses) > 0) || (!c && !!t?.overwritten?.length) || (!c && !!t?.collisions?.length),
  );
}

/** The tab's message; during a conflict round, counted from where the conflicts stand now. */
export function summary(t: Tab): string | null {
  const c = openRound(t);
  if (c) {
    // Rust's words for what the round merged, its count of conflicts replaced by the live one.
    const head = /^(.*), \d+ needs? you\.$/.exec(c.view.message)?.[1] ?? "The resource changed on the server";
    const left = model.unresolved(c.statuses);
    const n = c.statuses.length;
    return `${head}; ${
      left ? `${left} of ${n} conflict(s) still need you.` : `all ${n} conflict(s) decided — review the Result and resubmit.`
    }`;
  }
  return t.notice;
}

export function tabError(t: Tab | null, message: string | null) {
  if (t) (t.error = message), (t.errorCode = "other");
  else (store.windowError = message), (store.windowErrorCode = "other");
  renderMessages();
}

/** A thrown Problem on the tab (or the window): its words and what can be offered for it. */
export function tabProblem(t: Tab | null, e: unknown) {
  if (t) (t.error = words(e)), (t.errorCode = codeOf(e));
  else (store.windowError = words(e)), (store.windowErrorCode = codeOf(e));
  renderMessages();
}
