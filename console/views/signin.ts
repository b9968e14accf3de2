import { checkToken } from "../api.js";
import { field, h } from "../dom.js";

/** The sign-in form: one field, `Token`, checked against the API before it is kept. */
export function signInView(opts: { message?: string | undefined; onSignedIn: (token: string) => void }): HTMLElement {
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true, spellcheck: "false" });
  const msg = h("p", { class: "error", role: "alert" }, opts.message ?? "");
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-h" },
    h("h1", { id: "signin-h" }, "Sign in to Eddy"),
    h("p", {}, "Paste the admin token (ADMIN_TOKEN in .dev.vars locally), or a ServiceAccount's token for the API (kubectl create token NAME): you then see what its Roles allow. It is kept in this tab's session storage only."),
    field("Token", input),
    button,
    msg,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    msg.textContent = "";
    try {
      if (await checkToken(token, location.origin)) opts.onSignedIn(token);
      else msg.textContent = "Wrong token: the API refused it (401).";
    } catch (err) {
      msg.textContent = `Could not check the token: ${(err as Error).message}`;
    } finally {
      button.disabled = false;
    }
  });
  queueMicrotask(() => input.focus());
  return form;
}
