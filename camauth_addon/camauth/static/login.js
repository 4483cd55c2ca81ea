"use strict";
// The login page: posts JSON to /api/login, then returns only to a path on this host.

function returnPath() {
  const rd = new URLSearchParams(window.location.search).get("rd");
  if (!rd || /[\u0000-\u001f\u007f-\u009f\\]/.test(rd) || !rd.startsWith("/") || rd.startsWith("//")) {
    return "/";
  }
  const target = new URL(rd, window.location.origin);
  // The browser's own parser has the last word: anything off this origin goes home.
  if (target.origin !== window.location.origin) {
    return "/";
  }
  return target.pathname + target.search + target.hash;
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
