"use strict";
// The login page: posts JSON to /api/login, then goes where the server said it may.

// Where to go after signing in: the server judged the return address and wrote its verdict
// into the page. The page follows it as it is and judges nothing itself (one rule, one place).
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
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({
        username: form.username.value,
        password: form.password.value,
      }),
    });
    if (response.ok) {
      window.location.assign(returnPath());
      return;
    }
    const body = await response.json().catch(() => ({}));
    const retry = response.headers.get("Retry-After");
    show(body.error + (retry ? ` (try again in ${retry} s)` : ""));
  } catch (err) {
    show("CamAuth cannot be reached. Check your connection and try again.");
  } finally {
    button.disabled = false;
  }
}

async function showSession() {
  const response = await fetch("/api/profile", { credentials: "same-origin" });
  if (!response.ok) {
    return;
  }
  const profile = await response.json();
  document.getElementById("who").textContent = profile.username;
  document.getElementById("role").textContent = profile.role;
  document.getElementById("login").hidden = true;
  document.getElementById("signed-in").hidden = false;
}

async function signOut() {
  await fetch("/api/logout", { method: "POST", credentials: "same-origin" });
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
