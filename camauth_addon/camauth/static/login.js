"use strict";
// The login page: posts JSON to the login API, then goes where the server said it may.

// Where to go after signing in: the server judged the return address and wrote its verdict
// into the page. The page follows it as it is and judges nothing itself (one rule, one place).
// It is a path of the site the visitor came from, or an address on an allowed return domain.
function returnPath() {
  return document.querySelector('meta[name="camauth-return-to"]').content || "/";
}

// Whose password it is: CamAuth's own ("local"), or Home Assistant's (the add-on).
let source = "local";

function toggleHomeAssistant(event) {
  const button = event.target;
  source = source === "local" ? "homeassistant" : "local";
  button.setAttribute("aria-pressed", String(source === "homeassistant"));
  button.textContent = source === "homeassistant" ? button.dataset.on : button.dataset.off;
}

async function offerHomeAssistant() {
  const response = await camauth.api("GET", "/api/auth/status");
  if (response.ok && (await response.json()).homeassistant_login) {
    document.getElementById("with-homeassistant").hidden = false;
  }
}

function show(text) {
  document.getElementById("message").textContent = text;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector("button");
  button.disabled = true;
  show("");
  try {
    const response = await camauth.api("POST", "/api/login", {
      username: form.username.value,
      password: form.password.value,
      source,
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      window.location.assign(returnPath());
      return;
    }
    const retry = response.headers.get("Retry-After");
    if (response.status === 429 && body.code === "rate_limited") {
      show(camauth.t("login.locked_out", { wait: camauth.wait(retry) }));
    } else {
      show(camauth.errorText(body));
    }
  } catch (err) {
    show(camauth.t("login.unreachable"));
  } finally {
    button.disabled = false;
  }
}

// Signed in already? The server names the visitor in the page (no request that could fail).
function showSession() {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const username = meta("camauth-username");
  if (!username) {
    return;
  }
  document.getElementById("who").textContent = camauth.t("login.signed_in_as", {
    username,
    role: meta("camauth-role"),
  });
  document.getElementById("login").hidden = true;
  document.getElementById("signed-in").hidden = false;
}

async function signOut() {
  await (await camauth.api("POST", "/api/logout")).text(); // read to the end before leaving
  window.location.reload();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", signIn);
  document.getElementById("logout").addEventListener("click", signOut);
  document.getElementById("with-homeassistant").addEventListener("click", toggleHomeAssistant);
  offerHomeAssistant();
  document.getElementById("continue").addEventListener("click", () => {
    window.location.assign(returnPath());
  });
  showSession();
});
