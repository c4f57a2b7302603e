// Review before resubmit: what this write will change on the server (the version it is
// conditional on → what will be sent), line by line, computed in Rust. Shown before every
// resubmit unless the user turned it off (on by default, so the first one always shows it);
// the Review button (Alt+R) shows it for any save.
import { api, words } from "./api";
import { $, type Tab } from "./store";

const KEY = "ifmatch.reviewBeforeResubmit";

/** Each side's tag in words (the legend, and a line's tooltip). */
const SIDE_WORDS: Record<string, string> = {
  mine: "your change",
  theirs: "the server's change, kept",
  "-theirs": "the server's change, which this write replaces",
  both: "the same change on both sides",
  base: "put back as in the version you started from",
  typed: "written in the Result (on neither side)",
};

/** A line's entry in SIDE_WORDS (a removed line of theirs: replaced, not kept). */
const key = (l: { kind: string; side: string }) => (l.kind === "-" && SIDE_WORDS[`-${l.side}`] ? `-${l.side}` : l.side);

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
      // Where the line comes from (a tag before it; see the legend).
      if (l.kind !== "…") row.dataset.side = l.side;
      row.title = SIDE_WORDS[key(l)] ?? "";
      return row;
    }),
  );
  // The legend names what this review shows.
  const seen = new Set(r.lines.map(key).filter(Boolean));
  $("review-legend").textContent = [...seen]
    .map((k) => `${k.startsWith("-") ? `${k.slice(1)} (−)` : k}: ${SIDE_WORDS[k]}`)
    .join(" · ");
  $<HTMLInputElement>("review-always").checked = reviewBeforeResubmit();
  $("review-always-row").hidden = !resubmit;
  dlg.returnValue = "";
  dlg.showModal();
  $<HTMLButtonElement>("review-send").focus();
  const choice = await new Promise<string>((done) => dlg.addEventListener("close", () => done(dlg.returnValue), { once: true }));
  if (resubmit) localStorage.setItem(KEY, $<HTMLInputElement>("review-always").checked ? "always" : "off");
  return choice === "send";
}
