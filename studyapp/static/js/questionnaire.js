// Questionnaire pages: save answers while the participant taps and types, show or hide questions that
// depend on an answer on the same page, and move focus to the error summary. The pages work without it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave-url");
  var status = form.querySelector(".qnav__status");
  var timer = null;
  var dirty = false;
  var inFlight = false;
  var retryDelay = 2000;

  function say(kind) {
    if (!status) { return; }
    status.textContent = status.getAttribute("data-" + kind) || "";
    status.classList.toggle("qnav__status--failed", kind === "failed");
  }

  // Only answers go to the autosave: fields of hidden questions are left out.
  function answers() {
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name === "action" || field.disabled) { return; }
      var question = field.closest(".question");
      if (question && question.hidden) { return; }
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) { return; }
      data.append(field.name, field.value);
    });
    return data;
  }

  function save() {
    timer = null;
    if (inFlight) { dirty = true; return; }
    dirty = false;
    inFlight = true;
    say("saving");
    fetch(url, { method: "POST", body: answers(), credentials: "same-origin" })
      .then(function (response) {
        inFlight = false;
        if (response.ok) {
          retryDelay = 2000;
          say("saved");
          if (dirty) { schedule(300); }
        } else if (response.status >= 500 || response.status === 429) {
          retry();
        } else {
          say("failed");
        }
      })
      .catch(function () { inFlight = false; retry(); });
  }

  function retry() {
    dirty = true;
    say("failed");
    schedule(retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function schedule(delay) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, delay);
  }

  function applyConditions() {
    form.querySelectorAll("[data-show-if]").forEach(function (question) {
      var source = question.getAttribute("data-show-if");
      var wanted = question.getAttribute("data-show-values").split(" ");
      var chosen = form.querySelector('input[name="' + source + '"]:checked');
      question.hidden = !(chosen && wanted.indexOf(chosen.value) !== -1);
    });
  }

  form.addEventListener("change", function (event) {
    applyConditions();
    dirty = true;
    schedule(event.target.type === "radio" ? 150 : 600);
  });
  form.addEventListener("input", function (event) {
    if (event.target.type === "radio") { return; }
    dirty = true;
    schedule(900);
  });
  form.addEventListener("submit", function () {
    if (timer) { clearTimeout(timer); timer = null; }
    dirty = false;
  });
  window.addEventListener("online", function () { if (dirty) { schedule(100); } });
  // Closing the tab or switching apps: hand the last changes to the browser to deliver.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && dirty && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, answers())) { dirty = false; }
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !navigator.onLine) { event.preventDefault(); event.returnValue = ""; }
  });

  applyConditions();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
