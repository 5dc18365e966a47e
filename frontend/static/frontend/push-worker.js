// Web Push service worker: shows the co-op's alerts and opens the inbox entry on click.
self.addEventListener("push", (event) => {
  const data = event.data ? event.data.json() : {};
  event.waitUntil(
    self.registration.showNotification(data.title || "Co-op crowdwork", {
      body: data.body || "",
      data: { url: data.url || "/inbox/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(clients.openWindow(event.notification.data.url));
});
