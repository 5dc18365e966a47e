/* The little JavaScript the pages need; everything works as plain forms without it
   except the task frame, which needs scripts to hand its answers over. */
(function () {
  "use strict";

  // Countdown for the time allotted. The server enforces the deadline; this only shows it.
  function startTimers() {
    // The words come from the page, in the reader's language; without them the page's own
    // text (the deadline) stays.
    document.querySelectorAll(".timer[data-deadline][data-left][data-up]").forEach(function (timer) {
      var deadline = Date.parse(timer.getAttribute("data-deadline"));
      if (isNaN(deadline)) { return; }
      function tick() {
        var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
        var minutes = Math.floor(left / 60), seconds = left % 60;
        timer.textContent = left > 0
          ? timer.getAttribute("data-left")
              .replace("{m}", String(minutes)).replace("{s}", (seconds < 10 ? "0" : "") + seconds)
          : timer.getAttribute("data-up");
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
    // The task takes the keyboard focus when it opens, so the worker starts on its first field
    // (issue 25.6): once the frame first speaks, it is focused and told to focus its first field.
    var focusGiven = false;
    function focusTask() {
      if (focusGiven) { return; }
      focusGiven = true;
      var active = document.activeElement;
      if (active && active !== document.body && active !== frame) { return; }
      frame.focus();
      frame.contentWindow.postMessage({type: "coop:focus"}, "*");
    }
    window.addEventListener("message", function (event) {
      if (!frame || event.source !== frame.contentWindow) { return; }
      var data = event.data;
      // The frame tells its content's height; the frame grows to it, within bounds
      // (issue 25.5), so the task reads without a second scroll bar.
      if (data && data.type === "coop:height" && typeof data.height === "number" && isFinite(data.height)) {
        var height = Math.min(6000, Math.max(320, Math.ceil(data.height) + 4));
        frame.style.height = height + "px";
        focusTask();
        return;
      }
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

  // The menu folds into a "Menu" disclosure on a phone and stays open on wider screens.
  function compactMenu() {
    var menu = document.getElementById("site-menu");
    if (!menu || !window.matchMedia) { return; }
    var narrow = window.matchMedia("(max-width: 40rem)");
    function fit() { menu.open = !narrow.matches; }
    fit();
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
  }

  // Tables reflow into one card per row on a phone: each cell is labelled with its
  // column's heading (CSS shows the label); wider screens keep the table, which scrolls
  // (focusable, so it scrolls from the keyboard too) if it still does not fit.
  function reflowTables() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var table = box.querySelector("table");
      if (!table || !table.tHead) { return; }
      var headings = [];
      var row = table.tHead.rows[table.tHead.rows.length - 1];
      for (var i = 0; i < row.cells.length; i++) { headings.push(row.cells[i].textContent.trim()); }
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        for (var j = 0; j < tr.cells.length && j < headings.length; j++) {
          if (!tr.cells[j].hasAttribute("data-label")) { tr.cells[j].setAttribute("data-label", headings[j]); }
        }
      });
      table.classList.add("reflow");
      if (!box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var caption = table.caption ? table.caption.textContent.trim() : "";
        box.setAttribute("aria-label", caption || headings.join(", "));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    guessTimeZone();
    compactMenu();
    reflowTables();
    startTimers();
    bridgeTaskFrame();
    selectAll();
  });
})();
