// The end-to-end format, version 1 (docs/end-to-end.md), with WebCrypto: what the pages encrypt
// before anything leaves the browser. The key lives only in the link's fragment.
"use strict";

const E2E = (() => {
  const subtle = crypto.subtle;
  const encoder = new TextEncoder();
  const CHUNK = 65536;
  const TAG = 16;
  const MAGIC = encoder.encode("BBE2EF01");
  const HEADER = MAGIC.length + 7;
  const ROUNDS = 600000;

  function toBase64(bytes) {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  function fromBase64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  const toBase64Url = (bytes) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  function fromBase64Url(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return fromBase64(padded);
  }

  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };

  async function hkdf(ikm, info, bits = 256) {
    const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
    const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) };
    return new Uint8Array(await subtle.deriveBits(params, key, bits));
  }

  async function aesKey(raw) {
    return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  }

  /** A fresh 32-byte link key. */
  function newLinkKey() {
    return crypto.getRandomValues(new Uint8Array(32));
  }

  /** The fragment (without '#') that carries `key`. */
  function fragmentOf(key) {
    return `key=${toBase64Url(key)}`;
  }

  /**
   * The key in a fragment: `null` when there is none, throws when it is mangled or of an
   * unknown version.
   */
  function keyFromFragment(fragment) {
    const params = new URLSearchParams(fragment.replace(/^#/, ""));
    if (!params.has("key")) return null;
    const version = params.get("v");
    if (version !== null && version !== "1") throw new Error(`format version ${version} is not known here`);
    let key;
    try {
      key = fromBase64Url(params.get("key"));
    } catch {
      throw new Error("the key after #key= is mangled");
    }
    if (key.length !== 32) throw new Error("the key after #key= is mangled");
    return key;
  }

  /** The keys of a link key and optional passphrase; the passphrase costs PBKDF2's rounds. */
  async function deriveKeys(linkKey, passphrase) {
    let ikm = linkKey;
    let serverPassphrase = null;
    if (passphrase) {
      const salt = (await hkdf(linkKey, "burnbox e2e v1 passphrase salt")).slice(0, 16);
      const base = await subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, ["deriveBits"]);
      const stretched = new Uint8Array(
        await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: ROUNDS }, base, 256),
      );
      ikm = concat(linkKey, stretched);
      serverPassphrase = toBase64Url(await hkdf(stretched, "burnbox e2e v1 server passphrase"));
    }
    return {
      text: await aesKey(await hkdf(ikm, "burnbox e2e v1 text key")),
      file: await aesKey(await hkdf(ikm, "burnbox e2e v1 file key")),
      serverPassphrase,
    };
  }

  const TEXT_AAD = encoder.encode("burnbox e2e v1 text");

  /** `{ciphertext, iv}` of a text. */
  async function encryptText(keys, text) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: TEXT_AAD }, keys.text, encoder.encode(text));
    return { ciphertext: toBase64(new Uint8Array(sealed)), iv: toBase64(iv) };
  }

  /** The text of `{ciphertext, iv}`; throws when the key does not open it. */
  async function decryptText(keys, sealed) {
    const opened = await subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: TEXT_AAD },
      keys.text,
      fromBase64(sealed.ciphertext),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(opened);
  }

  function nonce(prefix, index, last) {
    const out = new Uint8Array(12);
    out.set(prefix);
    new DataView(out.buffer).setUint32(7, index);
    out[11] = last ? 1 : 0;
    return out;
  }

  function preamble(name, type) {
    const fields = [encoder.encode(name).slice(0, 65535), encoder.encode(type).slice(0, 65535)];
    const parts = [];
    for (const field of fields) {
      const length = new Uint8Array(2);
      new DataView(length.buffer).setUint16(0, field.length);
      parts.push(length, field);
    }
    return concat(...parts);
  }

  /**
   * Encrypts a file chunk by chunk (reading it in slices, never whole): a Blob of the
   * encrypted stream. `progress(done, total)` is called as chunks are sealed.
   */
  async function encryptFile(keys, file, progress) {
    const plain = new Blob([preamble(file.name || "file", file.type || "application/octet-stream"), file]);
    const prefix = crypto.getRandomValues(new Uint8Array(7));
    const header = concat(MAGIC, prefix);
    const chunks = Math.max(1, Math.ceil(plain.size / CHUNK));
    const parts = [header];
    for (let i = 0; i < chunks; i++) {
      const slice = new Uint8Array(await plain.slice(i * CHUNK, (i + 1) * CHUNK).arrayBuffer());
      const sealed = await subtle.encrypt(
        { name: "AES-GCM", iv: nonce(prefix, i, i === chunks - 1), additionalData: header },
        keys.file,
        slice,
      );
      parts.push(new Uint8Array(sealed));
      progress?.(i + 1, chunks);
    }
    return new Blob(parts, { type: "application/octet-stream" });
  }

  /**
   * Decrypts an encrypted file from a stream reader as its bytes arrive: `{name, type, blob}`.
   * Throws when a chunk does not authenticate (another key, or changed, cut or extended bytes).
   */
  async function decryptFile(keys, reader, progress) {
    let pending = new Uint8Array(0);
    let header = null;
    let index = 0;
    const plain = [];
    const open = async (sealed, last) => {
      const opened = await subtle.decrypt(
        { name: "AES-GCM", iv: nonce(header.subarray(MAGIC.length), index, last), additionalData: header },
        keys.file,
        sealed,
      );
      index += 1;
      plain.push(new Uint8Array(opened));
    };
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      progress?.(received);
      pending = concat(pending, value);
      if (!header) {
        if (pending.length < HEADER) continue;
        header = pending.slice(0, HEADER);
        if (!MAGIC.every((b, i) => header[i] === b)) throw new Error("not an encrypted burnbox file");
        pending = pending.slice(HEADER);
      }
      while (pending.length > CHUNK + TAG) {
        await open(pending.slice(0, CHUNK + TAG), false);
        pending = pending.slice(CHUNK + TAG);
      }
    }
    if (!header || pending.length < TAG) throw new Error("the file is cut short");
    await open(pending, true);
    const stream = new Blob(plain);
    const start = new Uint8Array(await stream.slice(0, 4 + 2 * 65535).arrayBuffer());
    const view = new DataView(start.buffer);
    const nameLength = view.getUint16(0);
    const name = new TextDecoder().decode(start.subarray(2, 2 + nameLength));
    const typeLength = view.getUint16(2 + nameLength);
    const type = new TextDecoder().decode(start.subarray(4 + nameLength, 4 + nameLength + typeLength));
    return { name, type, blob: stream.slice(4 + nameLength + typeLength, stream.size, "application/octet-stream") };
  }

  return { newLinkKey, fragmentOf, keyFromFragment, deriveKeys, encryptText, decryptText, encryptFile, decryptFile };
})();
