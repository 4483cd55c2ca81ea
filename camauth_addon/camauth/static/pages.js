"use strict";
// What every CamAuth page shares: where CamAuth lives, its strings, and calling its API.

const camauth = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
  const base = meta("camauth-base");
  const strings = JSON.parse(document.getElementById("camauth-strings").textContent);

  // A string by its dotted key, with {placeholders} filled in; the key itself if missing.
  function t(key, values = {}) {
    let node = strings;
    for (const part of key.split(".")) node = node?.[part];
    const text = typeof node === "string" ? node : key;
    return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
  }

  // An API answer's error in the visitor's language: by its code, else CamAuth's own words.
  function errorText(body) {
    const known = body?.code && strings.errors?.[body.code];
    return known || body?.error || t("errors.internal_error");
  }

  // "45 s" or "3 min", from a Retry-After header.
  function wait(seconds) {
    const count = Number(seconds) || 1;
    return count < 120 ? t("login.seconds", { count }) : t("login.minutes", { count: Math.ceil(count / 60) });
  }

  async function api(method, path, body) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { "X-CamAuth-Request": "page" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options);
  }

  return { base, t, errorText, wait, api };
})();
