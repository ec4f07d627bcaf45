// Progressive enhancement for admin pages; every page also works without JavaScript.
(function () {
  "use strict";

  // Ask before destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // Show only the schedule fields that apply to the chosen kind of wave.
  var radios = document.querySelectorAll(".wave-form input[name='schedule']");
  function syncSchedule() {
    var chosen = document.querySelector(".wave-form input[name='schedule']:checked");
    var kind = chosen ? chosen.value : "on_date";
    document.querySelectorAll(".schedule-part").forEach(function (part) {
      var kinds = part.getAttribute("data-schedule").split(" ");
      part.hidden = kinds.indexOf(kind) === -1;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", syncSchedule); });
  if (radios.length) { syncSchedule(); }
})();
