/* The little JavaScript the pages need; everything works as plain forms without it
   except the task frame, which needs scripts to hand its answers over. */
(function () {
  "use strict";

  // Countdown for the time allotted. The server enforces the deadline; this only shows it.
  function startTimers() {
    document.querySelectorAll(".timer[data-deadline]").forEach(function (timer) {
      var deadline = Date.parse(timer.getAttribute("data-deadline"));
      if (isNaN(deadline)) { return; }
      function tick() {
        var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
        var minutes = Math.floor(left / 60), seconds = left % 60;
        // The words come from the page, in the reader's language.
        timer.textContent = left > 0
          ? (timer.getAttribute("data-left") || "{m} min {s} s")
              .replace("{m}", String(minutes)).replace("{s}", (seconds < 10 ? "0" : "") + seconds)
          : (timer.getAttribute("data-up") || "time is up");
        timer.classList.toggle("low", left < 120);
        if (left > 0) { setTimeout(tick, 1000); }
      }
      tick();
    });
  }

  // Answers from the sandboxed task frame. Only a message from that frame's own window
  // is taken (its origin is "null": it is sandboxed), and it only fills the worker's own
  // CSRF-protected form for this assignment.
  function bridgeTaskFrame() {
    var form = document.getElementById("answers-form");
    if (!form) { return; }
    var frame = document.getElementById(form.getAttribute("data-task-frame"));
    window.addEventListener("message", function (event) {
      if (!frame || event.source !== frame.contentWindow) { return; }
      var data = event.data;
      if (!data || data.type !== "coop:answers" || typeof data.answers !== "object") { return; }
      form.elements.answers.value = JSON.stringify(data.answers);
      form.submit();
    });
  }

  // "Select all" for bulk review.
  function selectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-select-all");
        document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
  }

  // A time zone not chosen yet: the browser's own (Intl), if the list offers it.
  function guessTimeZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    if (!zone) { return; }
    document.querySelectorAll('select[data-guess-time-zone="yes"]').forEach(function (select) {
      if (select.querySelector('option[value="' + zone + '"]')) { select.value = zone; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    guessTimeZone();
    startTimers();
    bridgeTaskFrame();
    selectAll();
  });
})();
