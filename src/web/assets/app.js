// burnbox's pages: plain JavaScript over the Burn the Secret API (/api/secrets). The server sends
// the same static pages for every key; a key is read here from the address, so opening a link
// reads nothing and counts no view.
"use strict";

const $ = (id) => document.getElementById(id);

function show(id, visible = true) {
  $(id).hidden = !visible;
}

function fail(message) {
  $("error").textContent = message;
  show("error");
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return body.hint ? `${body.error}: ${body.hint}` : body.error || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function keyFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}

function api(path, options = {}) {
  return fetch(`/api/secrets${path}`, { cache: "no-store", ...options });
}

function json(body) {
  return { headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function initCreate() {
  $("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const body = {
      secret: $("secret").value,
      ttl: Number($("ttl").value),
      maxViews: Number($("views").value),
    };
    if ($("passphrase").value) body.passphrase = $("passphrase").value;
    $("create-button").disabled = true;
    try {
      const response = await api("", { method: "POST", ...json(body) });
      if (!response.ok) return fail(await errorOf(response));
      const created = await response.json();
      $("secret-url").value = created.secretUrl;
      $("receipt-url").href = created.metadataUrl;
      $("receipt-url").textContent = created.metadataUrl;
      $("secret").value = "";
      $("passphrase").value = "";
      show("create", false);
      show("created");
      $("secret-url").select();
    } catch (err) {
      fail(`The server could not be reached (${err.message}).`);
    } finally {
      $("create-button").disabled = false;
    }
  });
}

async function initSecret() {
  const key = keyFromPath();
  const response = await api(`/${encodeURIComponent(key)}`);
  if (!response.ok) return fail(await errorOf(response));
  const status = await response.json();
  if (status.state !== "live") return fail(`This secret is no longer available (${status.state}).`);
  show("passphrase-row", status.hasPassphrase);
  show("reveal");
  $("reveal").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const body = $("passphrase").value ? { passphrase: $("passphrase").value } : {};
    const viewed = await api(`/${encodeURIComponent(key)}`, { method: "POST", ...json(body) });
    if (!viewed.ok) return fail(await errorOf(viewed));
    show("reveal", false);
    if (status.file) {
      const link = $("file-link");
      // Typed as plain bytes: a blob keeping the file's own type (say text/html) would run as a
      // page on this origin when its address is opened.
      const bytes = new Blob([await viewed.blob()], { type: "application/octet-stream" });
      link.href = URL.createObjectURL(bytes);
      link.download = status.file.name;
      link.textContent = `Save ${status.file.name} (${status.file.size} bytes)`;
      show("file-link");
      $("secret-text").textContent = viewed.headers.get("x-secret-note")
        ? decodeURIComponent(viewed.headers.get("x-secret-note"))
        : "";
      show("secret-text", Boolean($("secret-text").textContent));
    } else {
      const revealed = await viewed.json();
      $("secret-text").textContent = revealed.secret;
      $("remaining").textContent =
        revealed.viewsRemaining === 0
          ? "This was the last view: the secret is gone now."
          : revealed.viewsRemaining == null
            ? ""
            : `Views left: ${revealed.viewsRemaining}.`;
    }
    show("revealed");
  });
}

async function loadReceipt(key) {
  const response = await api(`/${encodeURIComponent(key)}`);
  if (!response.ok) return fail(await errorOf(response));
  const status = await response.json();
  $("state").textContent = status.state;
  $("views").textContent = `${status.viewCount} of ${status.maxViews ?? "unlimited"}`;
  $("expires").textContent = status.expiresAt;
  show("status");
  if (status.secretKey) {
    $("secret-url").value = `${location.origin}/secret/${status.secretKey}`;
    show("link-row");
  }
  show("burn-button", status.state === "live");
}

function initReceipt() {
  const key = keyFromPath();
  $("burn-button").addEventListener("click", async () => {
    show("error", false);
    const response = await api(`/${encodeURIComponent(key)}`, { method: "DELETE" });
    if (!response.ok) return fail(await errorOf(response));
    await loadReceipt(key);
  });
  loadReceipt(key);
}

const pages = { create: initCreate, secret: initSecret, receipt: initReceipt };
const init = pages[document.body.dataset.page];
if (init) {
  Promise.resolve(init()).catch((err) => fail(`Something went wrong (${err.message}).`));
}
