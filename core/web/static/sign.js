// civic: signing in the browser (loaded only by pages that sign).
//
// A committee member's Ed25519 key pair is made here with WebCrypto, its private half not
// extractable, and kept in this browser's IndexedDB. To sign, the page first asks the server for
// the exact bytes (RFC 8785 JSON of the text as the server will store it: the "prepare" answer),
// signs those bytes, and posts the form with the signature; the server rebuilds the same bytes
// and verifies. The page never builds the signed text itself, so spaces and line breaks cannot
// break a signature.
const DB_NAME = "civic-signing";
const STORE = "keys";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const keyName = (account) => "ad_review:" + account;
const loadKey = (account) => withStore("readonly", (s) => s.get(keyName(account)));
const saveKey = (account, pair) => withStore("readwrite", (s) => s.put(pair, keyName(account)));

function toBase64(buffer) {
  let text = "";
  new Uint8Array(buffer).forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// the same fingerprint as the server's signing.fingerprint: SHA-256 of the raw public key,
// its first 10 bytes in groups of four hex digits
async function fingerprint(publicKey) {
  const raw = await crypto.subtle.exportKey("raw", publicKey);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const hex = Array.from(digest.slice(0, 10), (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  return hex.match(/.{4}/g).join(" ");
}

function say(element, text) {
  if (element) { element.textContent = text || ""; }
}

async function showBrowserKey() {
  const box = document.querySelector("[data-key-status]");
  if (!box) { return; }
  const shown = box.querySelector("[data-browser-fingerprint]");
  const pair = await loadKey(box.dataset.account).catch(() => undefined);
  if (!pair) { say(shown, shown.dataset.none); return; }
  const mine = await fingerprint(pair.publicKey);
  say(shown, mine);
  const registered = document.querySelector("[data-registered-fingerprint]");
  if (registered && registered.textContent.trim() !== mine) {
    const warning = document.createElement("p");
    warning.textContent = box.dataset.mismatch;
    box.appendChild(warning);
  }
}

function makeKeyForm(form) {
  const status = form.querySelector("[data-sign-status]");
  const button = form.querySelector("[data-needs-js]");
  button.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(status, status.dataset.working);
    try {
      const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      await saveKey(form.dataset.account, pair);
      form.querySelector("input[name=public_key]").value = toBase64(await crypto.subtle.exportKey("raw", pair.publicKey));
      form.submit();
    } catch (error) {
      say(status, status.dataset.unsupported + " (" + error + ")");
      button.disabled = false;
    }
  });
}

function signForm(form, status) {
  const button = form.querySelector("[data-needs-js]");
  button.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(status, status.dataset.working);
    try {
      const body = new URLSearchParams(new FormData(form));
      body.delete("signature");
      const answer = await fetch(form.dataset.sign, {
        method: "POST", body, credentials: "same-origin", headers: { "Accept": "application/json" },
      });
      if (!answer.ok) {
        form.submit(); // the server names what is missing on the form again
        return;
      }
      const prepared = await answer.json();
      const pair = await loadKey(form.dataset.account);
      if (!pair) {
        say(status, status.dataset.noKey);
        button.disabled = false;
        return;
      }
      const signature = await crypto.subtle.sign("Ed25519", pair.privateKey, fromBase64(prepared.message));
      form.querySelector("input[name=signature]").value = toBase64(signature);
      form.submit();
    } catch (error) {
      say(status, status.dataset.failed + " (" + error + ")");
      button.disabled = false;
    }
  });
}

const pageStatus = document.querySelector("main > [data-sign-status]");
document.querySelectorAll("form[data-make-key]").forEach(makeKeyForm);
document.querySelectorAll("form[data-sign]").forEach((form) => signForm(form, pageStatus));
showBrowserKey();
