"use strict";
// The sign-out page: ends the session server-side, then goes on (logout_url or the login page).

document.addEventListener("DOMContentLoaded", async () => {
  const status = document.getElementById("status");
  try {
    await (await camauth.api("POST", "/api/logout")).text(); // read to the end before leaving
    const info = await (await camauth.api("GET", "/api/auth/status")).json();
    status.textContent = camauth.t("logout.signed_out");
    window.location.replace(info.logout_url || camauth.base + "/login");
  } catch (err) {
    status.textContent = camauth.t("login.unreachable");
  }
  document.getElementById("again").hidden = false;
});
