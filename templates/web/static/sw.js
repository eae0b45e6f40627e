// The service worker: the app shell and the pages a treasurer or an officer has opened stay
// on the phone, so the group's home, the meeting form, a household's page and its visit form
// open with no network. It never answers a POST:
// a meeting or a visit saved offline waits in the outbox (outbox.js) and goes to the server, which
// keeps the books, when the network returns.
"use strict";
const SHELL = "shell-v1";
const PAGES = "pages-v1";
const SHELL_FILES = ["/static/app.css", "/static/htmx.min.js", "/static/outbox.js", "/static/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL && n !== PAGES).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function isPage(url) {
  return (
    url.pathname === "/home" ||
    url.pathname.startsWith("/groups/") ||
    url.pathname === "/households" ||
    url.pathname.startsWith("/households/")
  );
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(new URL(request.url).pathname, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(new URL(request.url).pathname);
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request);
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event.request));
  } else if (isPage(url) && !event.request.headers.get("HX-Request")) {
    event.respondWith(networkFirst(event.request));
  }
});

self.addEventListener("message", (event) => {
  if (event.data === "signed-out") {
    event.waitUntil(caches.delete(PAGES));
  }
});
