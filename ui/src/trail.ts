// The request trail of the active tab's resource.
import { api } from "./api";
import { $, active } from "./store";
import { tabProblem } from "./messages";

export async function showTrail(force = false) {
  const t = active();
  const box = $("trail");
  if (!t || (!force && !box.hidden)) {
    box.hidden = true;
    return;
  }
  try {
    const rows = await api.tabTrail(t.id);
    $("trail-rows").replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.testid = "trail-row";
        for (const v of [r.at.slice(11, 23), r.method, r.status ?? "—", r.preconditions.map(([k, v]) => `${k}: ${v}`).join(", "), r.validator ?? "", r.request_id ?? "", r.duration_ms, r.note ?? ""]) {
          tr.append(Object.assign(document.createElement("td"), { textContent: String(v) }));
        }
        return tr;
      }),
    );
    box.hidden = false;
  } catch (e) {
    tabProblem(t, e);
  }
}
