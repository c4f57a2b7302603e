// First screen: open a resource and show it with its validator. All HTTP happens in Rust
// (invoke), never here; the document arrives as text and is shown as text.
const { invoke } = window.__TAURI__.core;
const $ = (id) => document.getElementById(id);

async function init() {
  try {
    const c = await invoke("initial_connection");
    $("connection").textContent = c.is_demo
      ? `Demo server at ${c.base_url} (no API configured)`
      : `API: ${c.base_url}`;
    if (c.suggested_path) {
      $("target").value = c.suggested_path;
      await open();
    }
  } catch (e) {
    showError(String(e));
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

async function open() {
  $("error").hidden = true;
  const target = $("target").value;
  try {
    const answer = await invoke("open_resource", { target });
    const o = answer.outcome;
    if (o.kind !== "fetched") {
      showError(answer.message);
      return;
    }
    $("doc").hidden = false;
    $("text").textContent = o.doc.text;
    const v = o.doc.validator;
    $("validator").textContent = v ? (v.type === "etag" ? v.tag.raw : `Last-Modified ${v.raw}`) : "(none)";
    $("status").textContent = o.from_cache ? "clean (not modified since last read)" : "clean";
    const w = $("warnings");
    w.replaceChildren(...o.doc.warnings.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  } catch (e) {
    showError(String(e));
  }
}

$("open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  open();
});
init();
