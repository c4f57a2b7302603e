import { test } from "node:test";
import assert from "node:assert/strict";
import { finishQuestion, nextUnresolved, resolve, sameResource, status, step, title, unresolved, type TabState } from "../src/model";

const tab = (over: Partial<TabState> = {}): TabState => ({
  id: "t1", url: "http://x/settings", savedText: "{}", text: "{}", validator: '"v1"', saving: false, round: "none", error: null, stale: false, ...over,
});

test("status follows text, saving and rounds", () => {
  assert.equal(status(tab()), "clean");
  assert.equal(status(tab({ text: "{\"a\":1}" })), "dirty");
  assert.equal(status(tab({ saving: true, round: "conflict" })), "saving");
  assert.equal(status(tab({ round: "conflict", text: "x" })), "conflict");
  assert.equal(status(tab({ round: "merged" })), "merged");
  assert.equal(status(tab({ error: "boom" })), "error");
  assert.equal(status(tab({ stale: true, text: "x" })), "stale");
  assert.equal(status(tab({ stale: true, round: "merged" })), "merged");
});

test("tabs on the same resource find each other", () => {
  const tabs = [tab({ id: "a" }), tab({ id: "b" }), tab({ id: "c", url: "http://x/other" })];
  assert.deepEqual(sameResource(tabs, "a"), ["b"]);
  assert.deepEqual(sameResource(tabs, "c"), []);
  assert.deepEqual(sameResource(tabs, "zz"), []);
});

test("conflict navigation: auto-advance, wrap, count, finish question", () => {
  let n = { resolutions: ["unresolved", "unresolved", "unresolved"] as const, current: 0 } as any;
  assert.equal(unresolved(n), 3);
  n = resolve(n, 0, "mine");
  assert.equal(n.current, 1);
  n = resolve(n, 2, "edited");
  assert.equal(n.current, 1, "advances to the one left, wrapping");
  assert.match(finishQuestion(n)!, /^1 conflict is not resolved/);
  n = resolve(n, 1, "theirs");
  assert.equal(nextUnresolved(n, 1), -1);
  assert.equal(finishQuestion(n), null);
  assert.equal(step({ resolutions: n.resolutions, current: 0 }, -1), 2);
  assert.equal(step({ resolutions: n.resolutions, current: 2 }, 1), 0);
});

test("titles", () => {
  assert.equal(title("http://127.0.0.1:4000/labels/Label_1"), "Label_1");
  assert.equal(title("http://127.0.0.1:4000/"), "/");
  assert.equal(title("https://api.example.com/v1/settings/"), "settings");
});
