"use strict";
// The admin panel: users, sessions, API keys, lockouts and the audit log, kept current by the
// event stream (/api/ws). The same page runs at /admin on the gateway and, through Home
// Assistant's ingress, under /api/hassio_ingress/<token>/ (every address starts with
// camauth.base). Every text comes from the page's strings; nothing is put in as HTML.

const t = camauth.t;
const lang = document.documentElement.lang || "en";
const PAGE_SIZE = 50;
const EVENT_TYPES = [
  "login_succeeded",
  "login_failed",
  "lockout_started",
  "lockout_ended",
  "logout",
  "password_changed",
  "password_reset",
  "user_created",
  "user_deleted",
  "role_changed",
  "api_key_created",
  "api_key_revoked",
  "role_created",
  "role_updated",
  "role_deleted",
];
const BUILTIN_ROLES = ["viewer", "admin"];

const state = {
  profile: null,
  ingress: false,
  stats: null,
  users: null, // null until loaded
  roles: BUILTIN_ROLES.map((name) => ({ name, builtin: true, description: "" })),
  sessions: [],
  keys: [],
  lockouts: [], // each with a local deadline (ms), immune to a clock difference
  log: { filters: {}, rows: [], oldest: null, more: false },
  firstPassword: null,
};

// --- small helpers ----------------------------------------------------------------------

const byId = (id) => document.getElementById(id);

// An element: h("td", {class: "x", dataset: {label: "…"}, on: {click}}, "text", child, …)
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    // Attributes, not properties: a form's reset() goes back to the `selected` attribute.
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const exactTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
const longDateTime = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
const number = new Intl.NumberFormat(lang);

// A time (seconds since 1970) as a <time> element: relative, or a date (``exact``: to the
// second), the full date as its title.
function when(seconds, { ago = true, exact = false } = {}) {
  if (seconds === null || seconds === undefined) return h("span", { class: "sub" }, t("panel.never"));
  const date = new Date(seconds * 1000);
  const text = ago ? fromNow(seconds) : (exact ? exactTime : dateTime).format(date);
  const attributes = { datetime: date.toISOString(), title: longDateTime.format(date) };
  if (ago) attributes.dataset = { ago: String(seconds) }; // kept current by tick()
  return h("time", attributes, text);
}

function fromNow(seconds) {
  const diff = seconds - Date.now() / 1000;
  const size = Math.abs(diff);
  const units = [
    [60, 1, "second"],
    [3600, 60, "minute"],
    [86400, 3600, "hour"],
    [86400 * 30, 86400, "day"],
    [86400 * 365, 86400 * 30, "month"],
  ];
  for (const [limit, unit, name] of units) {
    if (size < limit) return relative.format(Math.round(diff / unit), name);
  }
  return relative.format(Math.round(diff / (86400 * 365)), "year");
}

// "12:05" or "1:02:03": what is left of a lockout.
function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

// "Chrome · Android" from a User-Agent; the whole string stays in the title.
function device(agent) {
  if (!agent) return "–";
  const find = (table) => table.find(([needle]) => agent.includes(needle))?.[1];
  const browser = find([
    ["Edg/", "Edge"],
    ["OPR/", "Opera"],
    ["Firefox/", "Firefox"],
    ["Chrome/", "Chrome"],
    ["Safari/", "Safari"],
    ["Home Assistant", "Home Assistant"],
    ["HomeAssistant", "Home Assistant"],
    ["curl/", "curl"],
    ["Python", "Python"],
  ]);
  const system = find([
    ["Android", "Android"],
    ["iPhone", "iOS"],
    ["iPad", "iPadOS"],
    ["Windows", "Windows"],
    ["Mac OS X", "macOS"],
    ["CrOS", "ChromeOS"],
    ["Linux", "Linux"],
  ]);
  return [browser, system].filter(Boolean).join(" · ") || agent;
}

// The built-in roles in the visitor's language; custom ones by their own name.
const roleName = (role) => (BUILTIN_ROLES.includes(role) ? t(`panel.roles.${role}`) : role);

// The options of a role choice: every role CamAuth has (and the current one, come what may).
function roleOptions(current) {
  const names = state.roles.map((role) => role.name);
  if (current && !names.includes(current)) names.push(current);
  return names.map((name) => {
    const role = state.roles.find((r) => r.name === name);
    const title = role && !role.builtin ? role.description : undefined;
    return h("option", { value: name, selected: name === current, title }, roleName(name));
  });
}

// --- talking to CamAuth -----------------------------------------------------------------

// While one's own password changes, other calls wait: the old session ends with the change,
// and the browser holds the new one only when the answer is in.
let quiet = null;

// Every API call: {ok, status, data}. A lost session on the gateway goes to the login page.
async function call(method, path, body, { first = false } = {}) {
  if (quiet && !first) await quiet;
  let response;
  try {
    response = await camauth.api(method, path, body);
  } catch (err) {
    return { ok: false, status: 0, data: null };
  }
  const data = await response.json().catch(() => null);
  // A 401 means this browser's session has ended, unless it is about a password it sent.
  if (response.status === 401 && !state.ingress && data?.code !== "wrong_password") {
    signInAgain();
  }
  return { ok: response.ok, status: response.status, data };
}

function signInAgain() {
  window.location.assign(`${camauth.base}/login?rd=%2Fadmin`);
}

function problem(result) {
  return result.status === 0 ? t("login.unreachable") : camauth.errorText(result.data);
}

// --- feedback: the toast, the dialogs ---------------------------------------------------

let toastTimer = 0;
function notify(text, { error = false } = {}) {
  const toast = byId("toast");
  toast.hidden = false;
  toast.className = error ? "toast error" : "toast";
  toast.setAttribute("role", error ? "alert" : "status");
  toast.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.hidden = true), error ? 8000 : 5000);
}

// Ask before something that cannot be undone; resolves to true when confirmed.
function confirmAction({ title, text, action }) {
  const dialog = byId("confirm");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  byId("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  byId("confirm-ok").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// Show a secret once (a generated password, a new API key), with a copy button.
function showSecret({ title, text, label, secret }) {
  const dialog = byId("secret");
  byId("secret-title").textContent = title;
  byId("secret-text").textContent = text;
  byId("secret-label").textContent = label;
  byId("secret-value").value = secret;
  byId("secret-value").rows = secret.length > 32 ? 3 : 1; // an API key wraps, a password not
  dialog.showModal();
  byId("secret-value").select();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        byId("secret-value").value = ""; // shown once: gone from the page when closed
        resolve();
      },
      { once: true },
    );
  });
}

async function copyFrom(input) {
  input.focus();
  input.select();
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    }
  } catch (err) {
    copied = false;
  }
  // Plain http (homeassistant.local:8971) has no clipboard API: the selection still copies.
  if (!copied) copied = document.execCommand("copy");
  notify(copied ? t("panel.actions.copied") : t("panel.actions.copy_failed"), { error: !copied });
}

// Whether a user is the one signed in to this panel (through ingress it is Home Assistant's).
const isSelf = (username) => !state.ingress && username === state.profile?.username;

// Ask for a new password for a user and set it; resolves to true when it was set. One's own
// password is changed with the current one, which keeps this browser signed in.
function askPassword(username) {
  const dialog = byId("password");
  const form = byId("password-form");
  const input = byId("password-value");
  const current = byId("password-current");
  const message = byId("password-message");
  const own = isSelf(username) && state.profile.auth_method === "session";
  byId("password-title").textContent = t("panel.users.set_password_title", { username });
  byId("password-current-field").hidden = !own;
  current.required = own;
  input.value = current.value = message.textContent = "";
  dialog.showModal();
  (own ? current : input).focus();
  return new Promise((resolve) => {
    let done = false;
    async function submit(event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      let result;
      if (own) {
        const body = { old_password: current.value, password: input.value };
        quiet = call("PUT", "/api/auth/password", body, { first: true });
        result = await quiet;
        quiet = null;
      } else {
        result = await call("PUT", `/api/users/${encodeURIComponent(username)}/password`, { password: input.value });
      }
      button.disabled = false;
      if (!result.ok) {
        message.textContent = problem(result);
        (result.data?.code === "wrong_password" ? current : input).focus();
        return;
      }
      done = true;
      dialog.close();
      notify(t(own ? "panel.users.own_password_set" : "panel.users.password_set", { username }));
    }
    const cancel = () => dialog.close();
    form.addEventListener("submit", submit);
    byId("password-cancel").addEventListener("click", cancel);
    dialog.addEventListener(
      "close",
      () => {
        form.removeEventListener("submit", submit);
        byId("password-cancel").removeEventListener("click", cancel);
        input.value = current.value = "";
        resolve(done);
      },
      { once: true },
    );
  });
}

// Run an action from a button: disabled while it runs, feedback in words either way.
async function act(button, run) {
  if (button) button.disabled = true;
  try {
    const result = await run();
    if (result && !result.ok) notify(problem(result), { error: true });
    return result;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

// --- rendering lists --------------------------------------------------------------------

const shown = new Map(); // what each list shows now, as a signature of its data

// Re-render a list; keyboard focus stays on the "same" control (data-focus) if it still exists.
// With a ``signature`` of the data, a list that would look the same is left alone: a live
// update must not swap a button from under a click (pressed on one node, released on another,
// a click is lost).
function replaceList(container, content, signature) {
  if (signature !== undefined) {
    if (shown.get(container.id) === signature) return;
    shown.set(container.id, signature);
  }
  const focused = document.activeElement?.dataset?.focus;
  container.replaceChildren(content);
  container.removeAttribute("aria-busy");
  if (focused) container.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
}

// A table whose cells carry their column's name (shown as labels on narrow screens).
function table(columns, rows, emptyText) {
  if (!rows.length) return h("p", { class: "empty" }, emptyText);
  const heading = (c) => (c.label ? c.title : h("span", { class: "visually-hidden" }, c.title));
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, heading(c)))));
  const body = h(
    "tbody",
    {},
    rows.map((row) =>
      h(
        "tr",
        { class: row.className },
        columns.map((c, index) =>
          h(
            "td",
            { class: c.className, dataset: { label: c.title } },
            index === 0 ? h("span", {}, row.cells[index]) : row.cells[index], // one flex item
          ),
        ),
      ),
    ),
  );
  return h("table", { class: "list" }, head, body);
}

// A button of a list's row: its text, and a label that names the row ("Delete alice").
function rowButton({ text, label, focus, danger = false, onClick }) {
  return h(
    "button",
    {
      type: "button",
      class: danger ? "flat danger" : "flat",
      "aria-label": label,
      dataset: { focus },
      on: { click: (event) => onClick(event.currentTarget) },
    },
    text,
  );
}

// --- statistics, the first-run card, warnings -------------------------------------------

function applyStats(stats) {
  state.stats = stats;
  byId("stat-users").textContent = number.format(stats.users.total);
  byId("stat-sessions").textContent = number.format(stats.active_sessions);
  byId("stat-failed").textContent = number.format(stats.failed_logins_last_hour);
  byId("stat-lockouts").textContent = number.format(stats.lockouts.length);
  const count = byId("lockout-count");
  count.textContent = stats.lockouts.length ? number.format(stats.lockouts.length) : "";
  count.hidden = stats.lockouts.length === 0;
  renderUsers();
  updateFirstRun();
}

async function loadStats() {
  const result = await call("GET", "/api/stats");
  if (result.ok) applyStats(result.data);
}

async function updateFirstRun() {
  const card = byId("first-run");
  const generated = state.stats?.admin_password_generated;
  if (!generated) {
    card.hidden = true;
    state.firstPassword = null;
    byId("first-run-password").value = "";
    return;
  }
  if (state.ingress && state.firstPassword === null) {
    state.firstPassword = ""; // asked once; the stream says when it changes
    const result = await call("GET", "/api/onboarding");
    if (result.ok) state.firstPassword = result.data.password;
  }
  const shown = Boolean(state.ingress && state.firstPassword);
  byId("first-run-text").textContent = shown
    ? t("panel.first_run.ingress_text", { username: "admin" })
    : t("panel.first_run.gateway_text", { username: "admin" });
  byId("first-run-secret").hidden = !shown;
  byId("first-run-password").value = shown ? state.firstPassword : "";
  card.hidden = !state.stats?.admin_password_generated;
}

async function loadWarnings() {
  const result = await call("GET", "/api/warnings");
  if (!result.ok) return;
  const list = result.data.warnings.map((warning) => {
    const key = `panel.warnings.${warning.id}`;
    const text = t(key, warning);
    return h("li", {}, text === key ? warning.message : text);
  });
  byId("warning-list").replaceChildren(...list);
  byId("warnings").hidden = list.length === 0;
}

// --- roles ------------------------------------------------------------------------------

async function loadRoles() {
  const result = await call("GET", "/api/roles");
  if (!result.ok) return;
  state.roles = result.data;
  for (const id of ["new-role", "key-role"]) {
    const select = byId(id);
    select.replaceChildren(...roleOptions(select.value));
  }
  renderUsers();
  if (state.keys.length) renderKeys();
}

// --- users ------------------------------------------------------------------------------

async function loadUsers() {
  const result = await call("GET", "/api/users");
  if (!result.ok) return;
  state.users = result.data;
  renderUsers();
  renderUserChoices();
}

function renderUsers() {
  if (state.users === null) return;
  const activity = new Map((state.stats?.user_activity ?? []).map((a) => [a.username, a]));
  const rows = state.users.map((user) => {
    const seen = activity.get(user.username);
    const name = user.username;
    const mine = isSelf(name);
    const role = h(
      "select",
      {
        "aria-label": t("panel.users.role_of", { username: name }),
        disabled: mine, // demoting oneself would lock oneself out of this panel
        title: mine ? t("panel.users.not_yourself") : undefined,
        dataset: { focus: `role:${name}` },
        on: { change: (event) => changeRole(name, event.target) },
      },
      roleOptions(user.role),
    );
    return {
      cells: [
        [
          name,
          mine ? h("span", { class: "chip" }, t("panel.users.you")) : null,
          seen?.locked_out ? h("span", { class: "chip locked" }, t("panel.users.locked")) : null,
        ],
        role,
        seen?.last_login
          ? h("span", {}, when(seen.last_login), h("span", { class: "sub" }, seen.last_login_client))
          : when(null),
        rowButton({
          text: number.format(seen?.active_sessions ?? 0),
          label: t("panel.users.show_sessions", { username: name }),
          focus: `sessions:${name}`,
          onClick: () => showSessionsOf(name),
        }),
        when(user.created_at, { ago: false }),
        [
          rowButton({
            text: t("panel.users.set_password"),
            label: t("panel.users.set_password_for", { username: name }),
            focus: `set:${name}`,
            onClick: () => askPassword(name),
          }),
          // One's own: no reset (it would end this session) and no delete.
          mine
            ? null
            : rowButton({
                text: t("panel.users.reset"),
                label: t("panel.users.reset_for", { username: name }),
                focus: `reset:${name}`,
                onClick: (button) => resetPassword(name, button),
              }),
          mine
            ? null
            : rowButton({
                text: t("panel.users.delete"),
                label: t("panel.users.delete_user", { username: name }),
                focus: `delete:${name}`,
                danger: true,
                onClick: (button) => deleteUser(name, button),
              }),
        ],
      ],
    };
  });
  const columns = [
    { title: t("common.username"), label: true, className: "primary" },
    { title: t("panel.role"), label: true },
    { title: t("panel.users.last_login"), label: true },
    { title: t("panel.tabs.sessions"), label: true },
    { title: t("panel.users.created"), label: true },
    { title: t("panel.actions.title"), label: false, className: "actions" },
  ];
  const signature = JSON.stringify([
    state.users,
    state.users.map((user) => activity.get(user.username) ?? null),
    state.roles.map((role) => [role.name, role.description]),
    state.ingress,
    state.profile?.username,
  ]);
  replaceList(byId("user-list"), table(columns, rows, t("panel.users.none")), signature);
}

function renderUserChoices() {
  const select = byId("session-user");
  const chosen = select.value;
  const names = (state.users ?? []).map((u) => u.username);
  select.replaceChildren(
    h("option", { value: "" }, t("panel.sessions.all_users")),
    ...names.map((name) => h("option", { value: name, selected: name === chosen }, name)),
  );
  if (chosen && !names.includes(chosen)) {
    select.value = "";
    loadSessions();
  }
  byId("known-users").replaceChildren(...names.map((name) => h("option", { value: name })));
  updateRevokeAll();
}

async function addUser(event) {
  event.preventDefault();
  const form = event.target;
  const message = byId("add-user-message");
  const username = form.username.value.trim();
  message.textContent = "";
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const result = await call("POST", "/api/users", {
    username,
    password: form.password.value,
    role: form.role.value,
  });
  button.disabled = false;
  if (!result.ok) {
    message.textContent = problem(result);
    return;
  }
  form.reset();
  notify(t("panel.users.added", { username: result.data.username, role: roleName(result.data.role) }));
  await loadUsers();
  form.username.focus();
}

async function changeRole(username, select) {
  const role = select.value;
  const result = await act(select, () =>
    call("PUT", `/api/users/${encodeURIComponent(username)}/role`, { role }),
  );
  if (result.ok) {
    notify(t("panel.users.role_changed", { username, role: roleName(role) }));
  }
  await loadUsers();
  // A refused change leaves the list's data as it was, so the list is not redrawn: put the
  // choice back to the role the user still has.
  const kept = state.users?.find((user) => user.username === username);
  if (!result.ok && kept && select.isConnected) select.value = kept.role;
}

async function resetPassword(username, button) {
  const confirmed = await confirmAction({
    title: t("panel.users.reset_title", { username }),
    text: t("panel.users.reset_confirm", { username }),
    action: t("panel.users.reset"),
  });
  if (!confirmed) return;
  const result = await act(button, () =>
    call("POST", `/api/users/${encodeURIComponent(username)}/reset_password`, {}),
  );
  if (!result.ok) return;
  await showSecret({
    title: t("panel.users.reset_done_title", { username }),
    text: t("panel.users.reset_done_text", { username }),
    label: t("panel.users.new_password"),
    secret: result.data.password,
  });
  notify(t("panel.users.reset_done", { username }));
}

async function deleteUser(username, button) {
  const confirmed = await confirmAction({
    title: t("panel.users.delete_title", { username }),
    text: t("panel.users.delete_confirm", { username }),
    action: t("panel.users.delete"),
  });
  if (!confirmed) return;
  const result = await act(button, () => call("DELETE", `/api/users/${encodeURIComponent(username)}`));
  if (result.ok) {
    notify(t("panel.users.deleted", { username }));
    await loadUsers();
  }
}

// --- sessions ---------------------------------------------------------------------------

async function loadSessions() {
  const username = byId("session-user").value;
  const query = username ? `?username=${encodeURIComponent(username)}` : "";
  const result = await call("GET", `/api/sessions${query}`);
  if (!result.ok) return;
  state.sessions = result.data;
  renderSessions();
}

function renderSessions() {
  const rows = state.sessions.map((session) => ({
    cells: [
      session.username,
      session.client,
      h("span", { class: "truncate", title: session.user_agent }, device(session.user_agent)),
      when(session.created_at),
      when(session.last_seen),
      when(session.expires_at),
      rowButton({
        text: t("panel.sessions.revoke"),
        label: t("panel.sessions.revoke_of", session),
        focus: `end:${session.id}`,
        danger: true,
        onClick: (button) => revokeSession(session, button),
      }),
    ],
  }));
  const columns = [
    { title: t("common.username"), label: true, className: "primary" },
    { title: t("panel.address"), label: true },
    { title: t("panel.sessions.device"), label: true },
    { title: t("panel.sessions.started"), label: true },
    { title: t("panel.sessions.last_seen"), label: true },
    { title: t("panel.sessions.expires"), label: true },
    { title: t("panel.actions.title"), label: false, className: "actions" },
  ];
  const signature = JSON.stringify(state.sessions);
  replaceList(byId("session-list"), table(columns, rows, t("panel.sessions.none")), signature);
  updateRevokeAll();
}

function updateRevokeAll() {
  const username = byId("session-user").value;
  const button = byId("revoke-all-sessions");
  button.hidden = !username;
  button.disabled = !state.sessions.length;
  button.textContent = username ? t("panel.sessions.revoke_all", { username }) : "";
}

function showSessionsOf(username) {
  byId("session-user").value = username;
  selectTab("sessions", { focus: true });
  loadSessions();
}

async function revokeSession(session, button) {
  const confirmed = await confirmAction({
    title: t("panel.sessions.revoke_title"),
    text: t("panel.sessions.revoke_confirm", { username: session.username, client: session.client }),
    action: t("panel.sessions.revoke"),
  });
  if (!confirmed) return;
  const result = await act(button, () => call("DELETE", `/api/sessions/${encodeURIComponent(session.id)}`));
  if (result.ok) {
    notify(t("panel.sessions.revoked", { username: session.username }));
    await loadSessions();
  }
}

async function revokeAllSessions(event) {
  const username = byId("session-user").value;
  if (!username) return;
  const confirmed = await confirmAction({
    title: t("panel.sessions.revoke_all", { username }),
    text: t("panel.sessions.revoke_all_confirm", { username }),
    action: t("panel.sessions.revoke_all_action"),
  });
  if (!confirmed) return;
  const result = await act(event.currentTarget, () =>
    call("POST", `/api/users/${encodeURIComponent(username)}/revoke_sessions`),
  );
  if (result.ok) {
    notify(t("panel.sessions.revoked_all", { username, count: number.format(result.data.revoked) }));
    await loadSessions();
  }
}

// --- API keys ---------------------------------------------------------------------------

async function loadKeys() {
  const result = await call("GET", "/api/keys");
  if (!result.ok) return;
  state.keys = result.data;
  renderKeys();
}

function renderKeys() {
  const rows = state.keys.map((key) => ({
    cells: [
      key.name,
      h("span", { class: key.role === "admin" ? "chip admin" : "chip" }, roleName(key.role)),
      key.paths.length ? h("code", {}, key.paths.join(" ")) : h("span", { class: "sub" }, t("panel.keys.any_path")),
      h("code", {}, `camauth_${key.prefix}_…`),
      when(key.created_at, { ago: false }),
      when(key.last_used_at),
      rowButton({
        text: t("panel.keys.revoke"),
        label: t("panel.keys.revoke_key", key),
        focus: `revoke:${key.id}`,
        danger: true,
        onClick: (button) => revokeKey(key, button),
      }),
    ],
  }));
  const columns = [
    { title: t("panel.keys.name"), label: true, className: "primary" },
    { title: t("panel.role"), label: true },
    { title: t("panel.keys.paths_column"), label: true },
    { title: t("panel.keys.prefix"), label: true },
    { title: t("panel.users.created"), label: true },
    { title: t("panel.keys.last_used"), label: true },
    { title: t("panel.actions.title"), label: false, className: "actions" },
  ];
  const signature = JSON.stringify([state.keys, state.roles.map((role) => role.name)]);
  replaceList(byId("key-list"), table(columns, rows, t("panel.keys.none")), signature);
  if (!state.keys.length) byId("add-key-box").open = true; // nothing to list: offer to add
}

async function addKey(event) {
  event.preventDefault();
  const form = event.target;
  const message = byId("add-key-message");
  message.textContent = "";
  const paths = form.paths.value.split(/[\s,]+/).filter(Boolean);
  const body = { name: form.name.value.trim(), role: form.role.value };
  if (paths.length) body.paths = paths;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const result = await call("POST", "/api/keys", body);
  button.disabled = false;
  if (!result.ok) {
    message.textContent = problem(result);
    return;
  }
  form.reset();
  await loadKeys();
  await showSecret({
    title: t("panel.keys.created_title", { name: result.data.name }),
    text: t("panel.keys.created_text"),
    label: t("panel.keys.key"),
    secret: result.data.key,
  });
  notify(t("panel.keys.created", { name: result.data.name }));
}

async function revokeKey(key, button) {
  const confirmed = await confirmAction({
    title: t("panel.keys.revoke_title", { name: key.name }),
    text: t("panel.keys.revoke_confirm", { name: key.name }),
    action: t("panel.keys.revoke"),
  });
  if (!confirmed) return;
  const result = await act(button, () => call("DELETE", `/api/keys/${key.id}`));
  if (result.ok) {
    notify(t("panel.keys.revoked", { name: key.name }));
    await loadKeys();
  }
}

// --- lockouts ---------------------------------------------------------------------------

async function loadLockouts() {
  const result = await call("GET", "/api/lockouts");
  if (!result.ok) return;
  const now = Date.now();
  state.lockouts = result.data.map((lockout) => ({ ...lockout, deadline: now + lockout.retry_after * 1000 }));
  renderLockouts();
}

function renderLockouts() {
  const rows = state.lockouts.map((lockout) => ({
    cells: [
      lockout.key,
      t(`panel.lockouts.kind_${lockout.kind}`),
      lockout.client,
      when(lockout.started_at),
      h("span", { class: "countdown", dataset: { deadline: String(lockout.deadline) } }, countdown(lockout.deadline - Date.now())),
      rowButton({
        text: t("panel.lockouts.lift"),
        label: t("panel.lockouts.lift_of", lockout),
        focus: `lift:${lockout.id}`,
        onClick: (button) => liftLockout(lockout, button),
      }),
    ],
  }));
  const columns = [
    { title: t("panel.lockouts.what"), label: true, className: "primary" },
    { title: t("panel.lockouts.kind"), label: true },
    { title: t("panel.lockouts.from"), label: true },
    { title: t("panel.sessions.started"), label: true },
    { title: t("panel.lockouts.time_left"), label: true },
    { title: t("panel.actions.title"), label: false, className: "actions" },
  ];
  // Not the local deadlines: each answer moves them by a few milliseconds.
  const signature = JSON.stringify(state.lockouts.map(({ deadline, retry_after, ...rest }) => rest));
  replaceList(byId("lockout-list"), table(columns, rows, t("panel.lockouts.none")), signature);
  byId("lift-all").hidden = state.lockouts.length === 0;
}

let ticks = 0;

// Every second: lockouts count down; every half minute, "2 minutes ago" moves on.
function tick() {
  ticks += 1;
  if (ticks % 30 === 0) {
    for (const node of document.querySelectorAll("time[data-ago]")) {
      node.textContent = fromNow(Number(node.dataset.ago));
    }
  }
  let ended = false;
  for (const node of document.querySelectorAll(".countdown")) {
    const left = Number(node.dataset.deadline) - Date.now();
    node.textContent = left > 0 ? countdown(left) : t("panel.lockouts.ending");
    ended ||= left <= -2000; // CamAuth ends it within a second or two, and says so
  }
  if (ended) schedule("lockouts");
}

async function liftLockout(lockout, button) {
  const result = await act(button, () => call("DELETE", `/api/lockouts/${lockout.id}`));
  if (result.ok) {
    notify(t("panel.lockouts.lifted", { key: lockout.key }));
    await loadLockouts();
  } else if (result.status === 404) {
    await loadLockouts(); // it had ended already
  }
}

async function liftAll(event) {
  const confirmed = await confirmAction({
    title: t("panel.lockouts.lift_all"),
    text: t("panel.lockouts.lift_all_confirm"),
    action: t("panel.lockouts.lift_all"),
  });
  if (!confirmed) return;
  const result = await act(event.currentTarget, () => call("DELETE", "/api/lockouts"));
  if (result.ok) {
    notify(t("panel.lockouts.lifted_all", { count: number.format(result.data.lifted) }));
    await loadLockouts();
  }
}

// --- the audit log ----------------------------------------------------------------------

function readFilters() {
  const form = byId("log-filters");
  const filters = {};
  if (form.type.value) filters.type = form.type.value;
  if (form.username.value.trim()) filters.username = form.username.value.trim();
  if (form.client.value.trim()) filters.client = form.client.value.trim();
  for (const name of ["since", "until"]) {
    const time = form[name].value ? new Date(form[name].value).getTime() : NaN;
    if (Number.isFinite(time)) filters[name] = String(time / 1000);
  }
  return filters;
}

async function loadLog({ older = false } = {}) {
  const log = state.log;
  const params = new URLSearchParams({ ...log.filters, limit: String(PAGE_SIZE) });
  if (older && log.oldest !== null) params.set("before", String(log.oldest));
  const button = byId("log-older");
  button.disabled = true;
  const result = await call("GET", `/api/events?${params}`);
  button.disabled = false;
  if (!result.ok) {
    notify(problem(result), { error: true });
    return;
  }
  log.rows = older ? log.rows.concat(result.data) : result.data;
  log.oldest = result.data.length ? result.data[result.data.length - 1].id : log.oldest;
  log.more = result.data.length === PAGE_SIZE;
  renderLog();
  if (older && !result.data.length) notify(t("panel.log.end"));
}

function matches(event, filters) {
  if (filters.type && event.type !== filters.type) return false;
  if (filters.username && event.username !== filters.username) return false;
  if (filters.client && event.client !== filters.client) return false;
  if (filters.since && event.timestamp < Number(filters.since)) return false;
  if (filters.until && event.timestamp >= Number(filters.until)) return false;
  return true;
}

// What an event's details say, in words.
function details(event) {
  const d = event.detail || {};
  const parts = [];
  if (event.type === "role_changed" && d.old_role) {
    parts.push(t("panel.log.detail.role_changed", { old_role: roleName(d.old_role), role: roleName(d.role) }));
  } else if (d.role && event.type !== "role_changed") {
    parts.push(t("panel.log.detail.role", { role: roleName(d.role) }));
  }
  if (d.name) parts.push(t("panel.log.detail.key", { name: d.name }));
  if (d.kind && d.key) parts.push(t(`panel.log.detail.lockout_${d.kind}`, { key: d.key }));
  if (d.until && event.type === "lockout_started") {
    parts.push(t("panel.log.detail.until", { time: dateTime.format(new Date(d.until * 1000)) }));
  }
  if (d.reason === "lifted" || d.reason === "expired") parts.push(t(`panel.log.detail.${d.reason}`));
  if (d.all_sessions) parts.push(t("panel.log.detail.all_sessions", { count: number.format(d.revoked ?? 0) }));
  if (d.by && d.by !== event.username) parts.push(t("panel.log.detail.by", { by: d.by }));
  if (d.source === "ingress" || d.source === "shell") parts.push(t(`panel.log.detail.via_${d.source}`));
  return parts.join(" · ");
}

function logRow(event, className) {
  return {
    className,
    cells: [
      when(event.timestamp, { ago: false, exact: true }),
      t(`panel.events.${event.type}`),
      event.username ?? "–",
      event.client ?? "–",
      details(event) || "–",
    ],
  };
}

function renderLog() {
  const columns = [
    { title: t("panel.log.time"), label: true, className: "primary" },
    { title: t("panel.log.type"), label: true },
    { title: t("common.username"), label: true },
    { title: t("panel.address"), label: true },
    { title: t("panel.log.details"), label: true },
  ];
  const rows = state.log.rows.map((event) => logRow(event, event.fresh ? "new" : undefined));
  replaceList(byId("log-list"), table(columns, rows, t("panel.log.none")));
  byId("log-older").hidden = !state.log.more;
  for (const event of state.log.rows) delete event.fresh;
}

function filterLog(event) {
  event.preventDefault();
  state.log.filters = readFilters();
  state.log.oldest = null;
  loadLog();
}

// --- tabs -------------------------------------------------------------------------------

const TABS = ["users", "sessions", "keys", "lockouts", "log"];

function selectTab(name, { focus = false } = {}) {
  for (const tab of TABS) {
    const button = byId(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(tab).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

function onTabKey(event) {
  const index = TABS.indexOf(event.currentTarget.id.slice(4));
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: true });
}

// --- live updates -----------------------------------------------------------------------

// Which lists an event changes.
const AFFECTS = {
  login_succeeded: ["sessions", "stats"],
  login_failed: ["stats"],
  lockout_started: ["lockouts", "stats"],
  lockout_ended: ["lockouts", "stats"],
  logout: ["sessions", "stats"],
  password_changed: ["sessions", "stats"],
  password_reset: ["sessions", "stats"],
  user_created: ["users", "stats"],
  user_deleted: ["users", "sessions", "stats"],
  role_changed: ["users", "stats"],
  api_key_created: ["keys"],
  api_key_revoked: ["keys"],
  role_created: ["roles"],
  role_updated: ["roles"],
  role_deleted: ["roles"],
};
const LOADERS = {
  stats: loadStats,
  roles: loadRoles,
  users: loadUsers,
  sessions: loadSessions,
  keys: loadKeys,
  lockouts: loadLockouts,
  warnings: loadWarnings,
  log: () => loadLog(),
};
const pending = new Map();

// Reload a list soon: a burst of events becomes one request.
function schedule(name) {
  if (pending.has(name)) return;
  pending.set(
    name,
    setTimeout(async () => {
      pending.delete(name);
      await LOADERS[name]();
    }, 150),
  );
}

function onEvent(event) {
  for (const name of AFFECTS[event.type] ?? ["stats"]) schedule(name);
  if (matches(event, state.log.filters)) {
    state.log.rows.unshift({ ...event, fresh: true });
    renderLog();
  }
}

const live = { socket: null, delay: 1000, connected: false, timer: 0 };

function setLive(mode, seconds) {
  const node = byId("live");
  node.className = `live ${mode === "live" ? "on" : mode === "connecting" ? "" : "off"}`;
  const text =
    mode === "offline" ? t("panel.live.offline", { wait: camauth.wait(seconds) }) : t(`panel.live.${mode}`);
  node.replaceChildren(h("span", { class: "label" }, text));
  node.title = text;
}

function connect() {
  const url = new URL(`${camauth.base}/api/ws`, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  live.socket = socket;
  socket.addEventListener("message", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch (err) {
      return;
    }
    if (data.type === "hello") {
      setLive("live");
      live.delay = 1000;
      applyStats(data.stats);
      if (live.connected) refreshAll(); // events may have been missed while away
      live.connected = true;
    } else if (data.type === "stats") {
      applyStats(data.stats);
      loadWarnings();
    } else if (data.type === "event") {
      onEvent(data.event);
    }
  });
  socket.addEventListener("close", (event) => {
    if (live.socket !== socket) return;
    // 4001: the credential ended (a new password gives this browser a new session: look);
    // 4003: no longer an admin.
    if (event.code === 4001 || event.code === 4003) {
      setLive("connecting");
      recheckAccess();
      return;
    }
    const wait = live.delay;
    live.delay = Math.min(live.delay * 2, 60000);
    setLive("offline", Math.round(wait / 1000));
    live.timer = setTimeout(connect, wait);
  });
}

async function recheckAccess() {
  const profile = await call("GET", "/api/profile"); // a 401 goes to the login page
  if (!profile.ok) return;
  if (profile.data.role !== "admin") {
    signInAgain();
    return;
  }
  connect();
}

function refreshAll() {
  for (const name of ["roles", "users", "sessions", "keys", "lockouts", "warnings", "log"]) {
    schedule(name);
  }
}

// --- start ------------------------------------------------------------------------------

async function start() {
  for (const tab of TABS) {
    const button = byId(`tab-${tab}`);
    button.addEventListener("click", () => selectTab(tab));
    button.addEventListener("keydown", onTabKey);
  }
  const wanted = location.hash.slice(1);
  selectTab(TABS.includes(wanted) ? wanted : "users");
  byId("log-type").append(...EVENT_TYPES.map((type) => h("option", { value: type }, t(`panel.events.${type}`))));

  byId("add-user").addEventListener("submit", addUser);
  byId("add-key").addEventListener("submit", addKey);
  byId("session-user").addEventListener("change", loadSessions);
  byId("revoke-all-sessions").addEventListener("click", revokeAllSessions);
  byId("lift-all").addEventListener("click", liftAll);
  byId("log-filters").addEventListener("submit", filterLog);
  byId("log-filters").addEventListener("reset", () => {
    state.log.filters = {};
    state.log.oldest = null;
    setTimeout(() => loadLog(), 0); // after the form has cleared its fields
  });
  byId("log-older").addEventListener("click", () => loadLog({ older: true }));
  byId("first-run-copy").addEventListener("click", () => copyFrom(byId("first-run-password")));
  byId("first-run-change").addEventListener("click", () => askPassword("admin"));
  byId("secret-copy").addEventListener("click", () => copyFrom(byId("secret-value")));

  const profile = await call("GET", "/api/profile");
  if (!profile.ok) {
    notify(problem(profile), { error: true }); // a lost session has gone to the login page
    setLive("disconnected");
    return;
  }
  state.profile = profile.data;
  state.ingress = profile.data.auth_method === "ingress";
  byId("who").textContent = state.ingress
    ? t("panel.who_ingress", { username: profile.data.username })
    : profile.data.username;
  byId("sign-out").hidden = state.ingress || profile.data.auth_method !== "session";

  await Promise.all([
    loadRoles(),
    loadUsers(),
    loadStats(),
    loadSessions(),
    loadKeys(),
    loadLockouts(),
    loadLog(),
    loadWarnings(),
  ]);
  setInterval(tick, 1000);
  connect();
}

document.addEventListener("DOMContentLoaded", start);
