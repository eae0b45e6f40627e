// The outbox of the forms marked `data-outbox` (the treasurer's meeting, the officer's
// follow-up visit): a form saved with no network is kept on the phone (IndexedDB) with
// its Idempotency-Key and sent when the network returns. The server's idempotency makes
// "exactly once" true however often it is sent. The phone computes no money: the server
// reads the whole form again and answers "sent" or the form with its errors.
"use strict";
(function () {
  const DB_NAME = "ledger-outbox";
  const STORE = "meetings";
  const USED_KEYS = "ledger-used-keys";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }

  const all = () => withStore("readonly", (store) => store.getAll());
  const put = (entry) => withStore("readwrite", (store) => store.put(entry));
  const remove = (key) => withStore("readwrite", (store) => store.delete(key));

  function usedKeys() {
    try { return JSON.parse(localStorage.getItem(USED_KEYS) || "[]"); } catch (e) { return []; }
  }

  function markUsed(key) {
    const keys = usedKeys().filter((k) => k !== key).slice(-50);
    keys.push(key);
    localStorage.setItem(USED_KEYS, JSON.stringify(keys));
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function panel() { return document.getElementById("outbox"); }

  function show(state, count) {
    const box = panel();
    if (!box) return;
    box.hidden = !state;
    box.dataset.state = state || "";
    box.querySelector(".outbox-text").textContent = state ? box.dataset[state] + (count > 1 ? " (" + count + ")" : "") : "";
    box.querySelector(".outbox-open").hidden = state !== "attention";
  }

  async function refresh() {
    const entries = await all();
    const attention = entries.filter((e) => e.state === "attention");
    const waiting = entries.filter((e) => e.state === "waiting");
    if (attention.length) show("attention", attention.length);
    else if (waiting.length) show("waiting", waiting.length);
    else if (sessionStorage.getItem("ledger-sent")) show("sent", 1);
    else show("", 0);
  }

  let sending = false;
  async function sendWaiting() {
    if (sending || !navigator.onLine) return;
    sending = true;
    try {
      for (const entry of await all()) {
        if (entry.state !== "waiting") continue;
        let response;
        try {
          response = await fetch(entry.url, {
            method: "POST",
            body: new URLSearchParams(entry.body),
            headers: { "HX-Request": "true" },
            credentials: "same-origin",
          });
        } catch (e) {
          break; // still no network: try again when it returns
        }
        if (response.ok && response.headers.get("HX-Redirect")) {
          await remove(entry.key);
          sessionStorage.setItem("ledger-sent", "1");
        } else if (response.status >= 400 && response.status < 500) {
          entry.state = "attention";
          entry.answer = await response.text();
          await put(entry);
        }
      }
    } finally {
      sending = false;
      await refresh();
    }
  }

  async function openAttention() {
    const entry = (await all()).find((e) => e.state === "attention");
    if (!entry) return;
    const answer = new DOMParser().parseFromString(entry.answer, "text/html").getElementById("main");
    const main = document.getElementById("main");
    if (answer && main) {
      main.replaceWith(answer);
      if (window.htmx) window.htmx.process(answer);
      prepareForm();
    }
  }

  function keep(form) {
    const body = Array.from(new FormData(form).entries()).filter(([, v]) => typeof v === "string");
    body.push(["step", "save"]);
    const key = form.elements.idempotency_key.value;
    markUsed(key);
    return put({ key: key, url: form.action, body: body, state: "waiting", at: Date.now() })
      .then(() => { sessionStorage.removeItem("ledger-sent"); return refresh(); });
  }

  function prepareForm() {
    const form = document.querySelector("form[data-outbox]");
    if (!form) return;
    const key = form.elements.idempotency_key;
    // A form opened from the phone's copy carries the key of a record already kept: a new
    // one needs its own key.
    if (usedKeys().includes(key.value)) key.value = newKey();
    const keepButton = document.getElementById("keep");
    const offline = () => { if (keepButton) keepButton.hidden = navigator.onLine; };
    offline();
    window.addEventListener("online", offline);
    window.addEventListener("offline", offline);
    form.addEventListener("submit", (event) => {
      const saving = event.submitter && event.submitter.value === "save";
      form.dataset.step = saving ? "save" : "review";
      if (saving && !navigator.onLine) {
        event.preventDefault();
        event.stopImmediatePropagation();
        keep(form);
      } else if (saving) {
        markUsed(key.value);
      }
    }, true);
    // Online when pressed, but the request never reached the server: keep it too.
    form.addEventListener("htmx:sendError", () => { if (form.dataset.step === "save") keep(form); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    prepareForm();
    const open = document.querySelector("#outbox .outbox-open");
    if (open) open.addEventListener("click", openAttention);
    const signOut = document.getElementById("sign-out");
    if (signOut && navigator.serviceWorker && navigator.serviceWorker.controller) {
      signOut.addEventListener("submit", () => navigator.serviceWorker.controller.postMessage("signed-out"));
    }
    refresh().then(sendWaiting);
  });
  window.addEventListener("online", sendWaiting);
  document.addEventListener("htmx:afterSwap", prepareForm);
})();
