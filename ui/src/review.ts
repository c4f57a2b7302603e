// Review before resubmit: what this write will change on the server (the version it is
// conditional on → what will be sent), line by line, computed in Rust. Shown before every
// resubmit unless the user turned it off (on by default, so the first one always shows it);
// the Review button (Alt+R) shows it for any save.
import { api, words } from "./api";
import { $, type Tab } from "./store";

const KEY = "ifmatch.reviewBeforeResubmit";

/** Whether a resubmit shows the review first ("off" only once the user said so). */
export function reviewBeforeResubmit(): boolean {
  return localStorage.getItem(KEY) !== "off";
}
// For the end-to-end tests: will the next resubmit stop at the review?
(window as any).ifmatchWillReview = reviewBeforeResubmit;

/** Shows the review; resolves true when the user chose Send. */
export async function review(t: Tab, text: string, resubmit: boolean): Promise<boolean> {
  const dlg = $<HTMLDialogElement>("review-dialog");
  const body = $("review-diff");
  let r;
  try {
    r = await api.reviewWrite(t.id, text, resubmit);
  } catch (e) {
    body.textContent = words(e);
    return false;
  }
  $("review-title").textContent = resubmit ? "Review the resubmit" : "Review the save";
  $("review-summary").textContent = r.lines.length
    ? `Against ${r.against}: ${r.added} line(s) added, ${r.removed} removed.${r.left_out ? ` ${r.left_out} more changed line(s) not shown.` : ""}`
    : `Against ${r.against}: nothing changes.`;
  body.replaceChildren(
    ...r.lines.map((l) => {
      const row = document.createElement("div");
      row.className = l.kind === "+" ? "add" : l.kind === "-" ? "del" : l.kind === "…" ? "gap" : "ctx";
      row.textContent = l.kind === "…" ? "…" : `${l.kind} ${l.text}`;
      return row;
    }),
  );
  $<HTMLInputElement>("review-always").checked = reviewBeforeResubmit();
  $("review-always-row").hidden = !resubmit;
  dlg.returnValue = "";
  dlg.showModal();
  $<HTMLButtonElement>("review-send").focus();
  const choice = await new Promise<string>((done) => dlg.addEventListener("close", () => done(dlg.returnValue), { once: true }));
  if (resubmit) localStorage.setItem(KEY, $<HTMLInputElement>("review-always").checked ? "always" : "off");
  return choice === "send";
}
