// Subscribes this browser to Web Push for saved-search alerts (only when the worker asks).
// Its words come from Django's JavaScript catalog (/jsi18n/, loaded before this file).
(function () {
  var section = document.getElementById("push");
  var button = document.getElementById("push-allow");
  var status = document.getElementById("push-status");
  if (!section || !button) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = gettext("This browser cannot receive notifications.");
    button.disabled = true;
    return;
  }
  function keyBytes(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  button.addEventListener("click", function () {
    navigator.serviceWorker.register(section.dataset.workerUrl, { scope: "/" })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(section.dataset.vapidKey),
        });
      })
      .then(function (subscription) {
        return fetch(section.dataset.subscribeUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify(subscription.toJSON()),
        });
      })
      .then(function (response) {
        status.textContent = response.ok
          ? gettext("Notifications are on in this browser.")
          : gettext("The subscription was refused.");
      })
      .catch(function (error) {
        status.textContent = interpolate(gettext("Notifications could not be turned on: %(reason)s"), { reason: error.message }, true);
      });
  });
})();
