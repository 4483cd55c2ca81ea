"use strict";
// The login page: posts JSON to the login API, then goes where the server said it may.

// Where to go after signing in: the server judged the return address and wrote its verdict
// into the page. The page follows it as it is and judges nothing itself (one rule, one place).
// It is a path of the site the visitor came from (a camera UI), never under CamAuth's prefix.
function returnPath() {
  return document.querySelector('meta[name="camauth-return-to"]').content || "/";
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
  document.getElementById("continue").addEventListener("click", () => {
    window.location.assign(returnPath());
  });
  showSession();
});
