import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConflictInfo } from "../src/bindings/ConflictInfo";
import type { ConflictStatus } from "../src/bindings/ConflictStatus";
import {
  alignLine, conflictWords, describe, roundKind, finishQuestion, flags, hasUnsavedWork, nextUnresolved, sameResource, status, step, title, unresolved, type TabState,
} from "../src/model";

const tab = (over: Partial<TabState> = {}): TabState => ({
  id: "t1", url: "http://x/settings", savedText: "{}", text: "{}", validator: '"v1"', saving: false, round: null, error: null, stale: false, ...over,
});
/** A round as Rust sends it, as far as its kind goes: conflicts, or none (merged). */
const conflict = { view: { conflicts: [{}] } };
const merged = { view: { conflicts: [] } };

test("status follows text, saving and rounds", () => {
  assert.equal(status(tab()), "clean");
  assert.equal(status(tab({ text: "{\"a\":1}" })), "dirty");
  assert.equal(status(tab({ saving: true, round: conflict })), "saving");
  assert.equal(status(tab({ round: conflict, text: "x" })), "conflict");
  assert.equal(status(tab({ round: merged })), "merged");
  assert.equal(status(tab({ error: "boom", text: "x" })), "error");
  assert.equal(status(tab({ error: "boom" })), "clean", "nothing unsaved: not 'not saved'");
  assert.equal(status(tab({ stale: true, text: "x" })), "stale");
  assert.equal(status(tab({ stale: true, round: merged })), "merged");
});

test("a round's kind is read off the round Rust sent", () => {
  assert.equal(roundKind(tab()), "none");
  assert.equal(roundKind(tab({ round: merged })), "merged");
  assert.equal(roundKind(tab({ round: conflict })), "conflict");
  assert.deepEqual(flags(tab({ round: merged, text: "x" })), ["merged"], "a round's Result is no 'unsaved edit' of its own");
});

test("a tab shows everything true of it at once", () => {
  assert.deepEqual(flags(tab({ stale: true, text: "x" })), ["dirty", "stale"]);
  assert.equal(describe(tab({ stale: true, text: "x" })), "unsaved edits · newer version on the server");
  assert.deepEqual(flags(tab({ error: "boom", text: "x" })), ["error", "dirty"]);
  assert.deepEqual(flags(tab()), ["clean"]);
});

test("closing asks whenever work would be lost, whatever the status", () => {
  assert.equal(hasUnsavedWork(tab()), false);
  assert.equal(hasUnsavedWork(tab({ stale: true })), false, "stale alone loses nothing");
  assert.equal(hasUnsavedWork(tab({ stale: true, text: "x" })), true);
  assert.equal(hasUnsavedWork(tab({ error: "invalid", text: "x" })), true);
  assert.equal(hasUnsavedWork(tab({ round: merged })), true);
  assert.equal(hasUnsavedWork(tab({ round: conflict })), true);
});

test("tabs on the same resource find each other", () => {
  const tabs = [tab({ id: "a" }), tab({ id: "b" }), tab({ id: "c", url: "http://x/other" })];
  assert.deepEqual(sameResource(tabs, "a"), ["b"]);
  assert.deepEqual(sameResource(tabs, "c"), []);
  assert.deepEqual(sameResource(tabs, "zz"), []);
});

const st = (state: ConflictStatus["state"], value: string | null, neither = true): ConflictStatus => ({
  state, pointer: "/p", lines: [1, 1], range: null, value, neither_side: neither,
});
const info = (pointer: string, mine: string, theirs: string): ConflictInfo => ({
  pointer, kind: "modify/modify", array_hunk: false, order_by: null, base: "0", mine, theirs, label: pointer.slice(1), lines: { base: null, mine: null, theirs: null },
});

test("conflict navigation: next unresolved wraps, steps wrap", () => {
  const s = [st("mine", "1", false), st("unresolved", "0"), st("edited", "9")];
  assert.equal(unresolved(s), 1);
  assert.equal(nextUnresolved(s, 1), 1, "wraps back to the only one left");
  assert.equal(nextUnresolved(s, -1), 1);
  assert.equal(nextUnresolved([st("mine", "1", false)], 0), -1);
  assert.equal(step(3, 0, -1), 2);
  assert.equal(step(3, 2, 1), 0);
  assert.equal(step(0, 0, 1), -1);
});

test("the resubmit question names every place that gets neither side's value", () => {
  const c = [info("/a", "1", "2"), info("/b", "3", "4"), info("/c", "5", "6")];
  // /a accepted mine (fine), /b still open (base value), /c edited to a third value.
  const q = finishQuestion(c, [st("mine", "1", false), st("unresolved", "0"), st("edited", "75")])!;
  assert.match(q, /^1 conflict is not resolved/);
  assert.ok(!q.includes("(/a)"), q);
  assert.match(q, /b \(\/b\): 0 — not resolved; yours 3, theirs 4/);
  assert.match(q, /c \(\/c\): 75 — edited by you; yours 5, theirs 6/);
  // Every conflict decided with one side's value: nothing to ask.
  assert.equal(finishQuestion(c, [st("mine", "1", false), st("theirs", "4", false), st("edited", "6", false)]), null);
  // Decided, but a value that is neither side's: still asked.
  assert.match(finishQuestion(c.slice(0, 1), [st("base", "0")])!, /^The resubmit would send/);
  // With the review to come: deliberate decisions are shown there, not asked here; an open
  // conflict still is.
  assert.equal(finishQuestion(c.slice(0, 1), [st("base", "0")], true), null);
  assert.equal(finishQuestion(c, [st("mine", "1", false), st("theirs", "4", false), st("edited", "75")], true), null);
  assert.match(finishQuestion(c, [st("mine", "1", false), st("unresolved", "0"), st("edited", "75")], true)!, /^1 conflict is not resolved/);
});

test("titles", () => {
  assert.equal(title("http://127.0.0.1:4000/labels/Label_1"), "Label_1");
  assert.equal(title("http://127.0.0.1:4000/"), "/");
  assert.equal(title("https://api.example.com/v1/settings/"), "settings");
});

test("conflicts in words for people, never the raw kind", () => {
  const k = (kind: ConflictInfo["kind"], base: string | null, mine: string | null, theirs: string | null, array_hunk = false) => ({ kind, base, mine, theirs, array_hunk });
  assert.equal(conflictWords(k("modify/modify", "1", "2", "3")), "both changed it");
  assert.equal(conflictWords(k("delete/modify", "1", null, "3")), "you removed it, they changed it");
  assert.equal(conflictWords(k("delete/modify", "1", "2", null)), "they removed it, you changed it");
  assert.equal(conflictWords(k("add/add", null, "2", "3")), "both added it, with different values");
  for (const kind of ["modify/modify", "delete/modify", "add/add", "type change", "order"] as const) {
    assert.doesNotMatch(conflictWords(k(kind, "1", "2", "3")), /\//);
  }
});

test("lines align through a side's hunks against base", () => {
  // The side inserted 3 lines at base line 2, and changed base line 10 into 2 lines.
  const hunks = [{ old_start: 2, old_len: 0, new_start: 2, new_len: 3 }, { old_start: 10, old_len: 1, new_start: 13, new_len: 2 }];
  assert.equal(alignLine(hunks, 0), 0);
  assert.equal(alignLine(hunks, 3), 2, "inside the insertion: beside base's next line");
  assert.equal(alignLine(hunks, 8), 5);
  assert.equal(alignLine(hunks, 14), 10);
  assert.equal(alignLine(hunks, 20), 16);
  assert.equal(alignLine(hunks, 5, true), 8);
  assert.equal(alignLine(hunks, 16, true), 20);
  assert.equal(alignLine([], 7), 7);
});
