import { failureFrom } from "../api.js";
import { field, h } from "../dom.js";
import { buildSend, SendInvalid, sendPath, type SendFields } from "../send.js";
import type { Ctx } from "./ctx.js";

/** The fields of `eddy send` (same defaults), POSTed in binary mode to the object's address with the admin token. */
export function sendPanel(ctx: Ctx, addressUrl: string): HTMLElement {
  const inputs = {
    type: h("input", { type: "text", name: "type", required: true, spellcheck: "false", value: "dev.eddy.console.event" }),
    source: h("input", { type: "text", name: "source", required: true, spellcheck: "false", value: "/eddy/console" }),
    id: h("input", { type: "text", name: "id", spellcheck: "false" }),
    subject: h("input", { type: "text", name: "subject", spellcheck: "false" }),
    extensions: h("textarea", { name: "extensions", rows: 2, spellcheck: "false", class: "code" }),
    data: h("textarea", { name: "data", rows: 4, spellcheck: "false", class: "code", value: '{"hello":"from the console"}' }),
    contentType: h("input", { type: "text", name: "contentType", spellcheck: "false" }),
  } satisfies Record<keyof SendFields, HTMLInputElement | HTMLTextAreaElement>;
  const result = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Send");
  const form = h(
    "form",
    { class: "send-form" },
    h("div", { class: "grid2" }, field("Type", inputs.type), field("Source", inputs.source), field("ID", inputs.id, "Generated when empty."), field("Subject", inputs.subject)),
    field("Extensions", inputs.extensions, "One name=value per line."),
    h("div", { class: "grid2" }, field("Data", inputs.data), field("Content type", inputs.contentType, "Default: application/json when the data is JSON, else text/plain.")),
    button,
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    result.replaceChildren();
    for (const el of Object.values(inputs)) el.removeAttribute("aria-invalid");
    const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value])) as unknown as SendFields;
    button.disabled = true;
    try {
      const req = buildSend(values, () => crypto.randomUUID());
      const a = await ctx.client.raw("POST", sendPath(addressUrl), req.body || undefined, req.headers);
      if (a.status >= 200 && a.status < 300) result.append(h("p", { class: "ok" }, `Sent event ${req.id}: ${a.status} ${a.status === 202 ? "Accepted" : ""}`));
      else result.append(h("p", { class: "error", role: "alert" }, `Refused (${a.status}): ${failureFrom(a.status, a.body).message}`));
    } catch (err) {
      if (err instanceof SendInvalid) {
        inputs[err.field].setAttribute("aria-invalid", "true");
        inputs[err.field].focus();
      }
      result.append(h("p", { class: "error", role: "alert" }, (err as Error).message));
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "send-h" }, h("h2", { id: "send-h" }, "Send an event"), h("p", { class: "hint" }, `To ${addressUrl}`), form);
}
