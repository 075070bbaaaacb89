// burnbox's pages: plain JavaScript over the Burn the Secret API (/api/secrets). The server sends
// the same static pages for every key; a key is read here from the address, so opening a link
// reads nothing and counts no view. End-to-end secrets are encrypted and decrypted here
// (e2e.js); their key stays in the fragment, which is never sent.
"use strict";

const $ = (id) => document.getElementById(id);

function show(id, visible = true) {
  $(id).hidden = !visible;
}

function fail(message) {
  $("error").textContent = message;
  show("error");
}

function announce(message) {
  $("announce").textContent = message;
}

function triesLeft(left) {
  if (left === 0) return " The secret is locked for a while after too many wrong passphrases.";
  if (left === 1) return " One more wrong passphrase will lock it.";
  return ` ${left} more wrong passphrases will lock it.`;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    const message = body.hint ? `${body.error}: ${body.hint}` : body.error || `HTTP ${response.status}`;
    return body.triesLeft == null ? message : message + triesLeft(body.triesLeft);
  } catch {
    return `HTTP ${response.status}`;
  }
}

function keyFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}

/** The fragment, read once and taken out of the address bar (and so out of the history). */
function takeFragment() {
  const fragment = location.hash.replace(/^#/, "");
  if (fragment) history.replaceState(null, "", location.pathname + location.search);
  return fragment;
}

function api(path, options = {}) {
  return fetch(`/api/secrets${path}`, { cache: "no-store", ...options });
}

function json(body) {
  return { headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function setProgress(fraction) {
  const bar = $("progress");
  bar.hidden = false;
  bar.value = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
}

async function copy(inputOrText, button) {
  const text = typeof inputOrText === "string" ? inputOrText : inputOrText.value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Outside a secure context the clipboard API is absent: copy the selection instead.
    if (typeof inputOrText !== "string") {
      inputOrText.select();
      document.execCommand("copy");
    }
  }
  button.textContent = "Copied";
  announce("Copied to the clipboard.");
  setTimeout(() => {
    button.textContent = "Copy";
  }, 2000);
}

/** Uploads a form with progress (fetch reports none for uploads): `{ok, status, body}`. */
function upload(form, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/secrets");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, body });
    };
    request.onerror = () => reject(new Error("the upload failed"));
    request.send(form);
  });
}

function refusal(result) {
  const body = result.body || {};
  return body.hint ? `${body.error}: ${body.hint}` : body.error || `HTTP ${result.status}`;
}

function initCreate() {
  let chosen = null;
  const kind = () => ($("kind-file").checked ? "file" : "text");
  const choose = (file) => {
    chosen = file;
    $("file-chosen").textContent = file ? `${file.name} (${megabytes(file.size)})` : "";
  };
  for (const radio of [$("kind-text"), $("kind-file")]) {
    radio.addEventListener("change", () => {
      show("text-row", kind() === "text");
      show("file-row", kind() === "file");
    });
  }
  $("file").addEventListener("change", () => choose($("file").files[0] || null));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) choose(event.dataTransfer.files[0]);
  });
  $("copy-secret").addEventListener("click", () => copy($("secret-url"), $("copy-secret")));
  $("copy-receipt").addEventListener("click", () => copy($("receipt-url"), $("copy-receipt")));

  $("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    const endToEnd = $("e2e").checked;
    const passphrase = $("passphrase").value;
    const ttl = Number($("ttl").value);
    const maxViews = Number($("views").value);
    if (kind() === "text" && !$("secret").value) return fail("Type the secret to share.");
    if (kind() === "file" && !chosen) return fail("Choose a file to share, or drop one on the box.");
    $("create-button").disabled = true;
    try {
      const linkKey = endToEnd ? E2E.newLinkKey() : null;
      if (endToEnd && passphrase) announce("Deriving a key from the passphrase…");
      const keys = endToEnd ? await E2E.deriveKeys(linkKey, passphrase) : null;
      const serverPassphrase = endToEnd ? keys.serverPassphrase : passphrase || null;
      let created;
      if (kind() === "text") {
        const secret = endToEnd ? await E2E.encryptText(keys, $("secret").value) : $("secret").value;
        const body = { secret, ttl, maxViews };
        if (serverPassphrase) body.passphrase = serverPassphrase;
        const response = await api("", { method: "POST", ...json(body) });
        if (!response.ok) return fail(await errorOf(response));
        created = await response.json();
      } else {
        const form = new FormData();
        form.append("ttl", String(ttl));
        form.append("maxViews", String(maxViews));
        if (serverPassphrase) form.append("passphrase", serverPassphrase);
        if (endToEnd) {
          announce("Encrypting the file…");
          const sealed = await E2E.encryptFile(keys, chosen, (done, total) => setProgress((done / total) * 0.5));
          form.append("encrypted", "true");
          form.append("file", sealed, "encrypted.bin");
        } else {
          form.append("file", chosen, chosen.name);
        }
        announce("Uploading…");
        const result = await upload(form, (fraction) => setProgress(endToEnd ? 0.5 + fraction / 2 : fraction));
        if (!result.ok) return fail(refusal(result));
        created = result.body;
      }
      const fragment = endToEnd ? `#${E2E.fragmentOf(linkKey)}` : "";
      const secretLink = created.secretUrl + fragment;
      const receiptLink = created.metadataUrl + fragment;
      $("secret-url").value = secretLink;
      $("receipt-url").value = receiptLink;
      $("receipt-open").href = receiptLink;
      const code = QR.svg(secretLink, "QR code of the link to the secret");
      $("qr").replaceChildren(...(code ? [code] : []));
      $("secret").value = "";
      $("passphrase").value = "";
      choose(null);
      show("create", false);
      show("created");
      announce("Your link is ready: copy it and send it.");
      $("created-title").focus();
    } catch (err) {
      fail(`The secret could not be shared (${err.message}).`);
    } finally {
      $("create-button").disabled = false;
      show("progress", false);
    }
  });
}

async function initSecret() {
  const key = keyFromPath();
  const fragment = takeFragment();
  let linkKey = null;
  let damaged = null;
  try {
    linkKey = E2E.keyFromFragment(fragment);
  } catch (err) {
    damaged = err.message;
  }
  const response = await api(`/${encodeURIComponent(key)}`);
  if (!response.ok) return fail(await errorOf(response));
  const status = await response.json();
  if (status.state !== "live") return fail(`This secret is no longer available (${status.state}).`);
  if (status.encrypted) {
    if (damaged) {
      return fail(`This link is damaged: ${damaged}. Ask the sender for the link again; nothing was used.`);
    }
    if (!linkKey) {
      return fail(
        "This link is incomplete: the key after # is missing. Ask the sender for the whole link; nothing was used.",
      );
    }
    show("about-e2e");
  }
  show("passphrase-row", status.hasPassphrase);
  show("reveal");
  $("copy-text").addEventListener("click", () => copy($("secret-text").textContent, $("copy-text")));
  $("reveal").addEventListener("submit", async (event) => {
    event.preventDefault();
    show("error", false);
    $("reveal-button").disabled = true;
    try {
      const passphrase = $("passphrase").value;
      if (status.encrypted && passphrase) announce("Deriving the key from the passphrase…");
      const keys = status.encrypted ? await E2E.deriveKeys(linkKey, passphrase) : null;
      const sent = status.encrypted ? keys.serverPassphrase : passphrase;
      const viewed = await api(`/${encodeURIComponent(key)}`, {
        method: "POST",
        ...json(sent ? { passphrase: sent } : {}),
      });
      if (!viewed.ok) return fail(await errorOf(viewed));
      const remaining = viewed.headers.get("x-views-remaining");
      if (status.file) {
        const link = $("file-link");
        let name = status.file.name;
        let blob;
        if (status.encrypted) {
          const total = Number(viewed.headers.get("content-length")) || status.file.size;
          try {
            const opened = await E2E.decryptFile(keys, viewed.body.getReader(), (done) => setProgress(done / total));
            name = opened.name;
            blob = opened.blob;
          } catch {
            return fail("The key in this link does not open this file. The view was counted: ask the sender for a new link.");
          }
        } else {
          // Typed as plain bytes: a blob keeping the file's own type (say text/html) would run as
          // a page on this origin when its address is opened.
          blob = new Blob([await viewed.blob()], { type: "application/octet-stream" });
        }
        link.href = URL.createObjectURL(blob);
        link.download = name;
        link.textContent = `Save ${name} (${blob.size} bytes)`;
        show("file-link");
        $("secret-text").textContent = viewed.headers.get("x-secret-note")
          ? decodeURIComponent(viewed.headers.get("x-secret-note"))
          : "";
        show("secret-text", Boolean($("secret-text").textContent));
        $("remaining").textContent = remainingText(remaining === null ? null : Number(remaining));
      } else {
        const revealed = await viewed.json();
        let text = revealed.secret;
        if (status.encrypted) {
          try {
            text = await E2E.decryptText(keys, revealed.secret);
          } catch {
            return fail("The key in this link does not open this secret. The view was counted: ask the sender for a new link.");
          }
        }
        $("secret-text").textContent = text;
        show("copy-text");
        $("remaining").textContent = remainingText(revealed.viewsRemaining);
      }
      show("reveal", false);
      show("about", false);
      show("revealed");
      announce("The secret is shown below.");
      $("revealed-title").focus();
    } catch (err) {
      fail(`Something went wrong (${err.message}).`);
    } finally {
      $("reveal-button").disabled = false;
      show("progress", false);
    }
  });
}

function remainingText(left) {
  if (left === 0) return "This was the last view: the secret is gone now.";
  if (left == null || Number.isNaN(left)) return "";
  return `Views left: ${left}.`;
}

function timeLeft(until) {
  const minutes = Math.round((new Date(until).getTime() - Date.now()) / 60000);
  if (minutes <= 0) return "";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [days && `${days} d`, hours && `${hours} h`, !days && `${rest} min`].filter(Boolean);
  return ` (in ${parts.join(" ")})`;
}

async function loadReceipt(key, fragment) {
  const response = await api(`/${encodeURIComponent(key)}`);
  if (!response.ok) return fail(await errorOf(response));
  const status = await response.json();
  $("state").textContent = status.state;
  $("views").textContent = `${status.viewCount} of ${status.maxViews ?? "unlimited"}`;
  $("views-left").textContent = status.viewsRemaining ?? "unlimited";
  $("expires").textContent = status.expiresAt + (status.state === "live" ? timeLeft(status.expiresAt) : "");
  $("encryption").textContent = status.encrypted
    ? "end-to-end (encrypted in the sender's browser or client)"
    : "sealed by the server";
  show("status");
  const live = status.state === "live" && status.secretKey;
  if (live) {
    $("secret-url").value = `${location.origin}/secret/${status.secretKey}${fragment ? `#${fragment}` : ""}`;
    show("link-note", status.encrypted && !fragment);
  }
  show("link-row", Boolean(live));
  show("burn-button", status.state === "live");
  show("burn-confirm-row", false);
  announce(`State: ${status.state}.`);
}

function initReceipt() {
  const key = keyFromPath();
  const fragment = takeFragment();
  $("copy-secret").addEventListener("click", () => copy($("secret-url"), $("copy-secret")));
  $("burn-button").addEventListener("click", () => {
    show("burn-confirm-row");
    $("burn-confirm").focus();
  });
  $("burn-cancel").addEventListener("click", () => {
    show("burn-confirm-row", false);
    $("burn-button").focus();
  });
  $("burn-confirm").addEventListener("click", async () => {
    show("error", false);
    const response = await api(`/${encodeURIComponent(key)}`, { method: "DELETE" });
    if (!response.ok) return fail(await errorOf(response));
    await loadReceipt(key, fragment);
    announce("Burned: nobody can read the secret now.");
  });
  loadReceipt(key, fragment);
}

const pages = { create: initCreate, secret: initSecret, receipt: initReceipt };
const init = pages[document.body.dataset.page];
if (init) {
  Promise.resolve(init()).catch((err) => fail(`Something went wrong (${err.message}).`));
}
