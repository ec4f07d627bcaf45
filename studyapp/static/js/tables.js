/* Tables wider than their box scroll inside it (GOV.UK's pattern): such a box becomes a named group that a
   keyboard can focus to scroll it, named after its table's caption or the nearest heading before it (a group,
   not a region: the heading often names its section's region already, and landmarks need unique names). */
(function () {
  "use strict";

  function nameOf(wrap, index) {
    var table = wrap.querySelector("table");
    var caption = table && table.caption;
    if (caption) {
      caption.id = caption.id || "table-caption-" + index;
      return caption.id;
    }
    var node = wrap;
    while (node && node !== document.body) {
      var sibling = node.previousElementSibling;
      while (sibling) {
        var heading = /^H[1-6]$/.test(sibling.tagName) ? sibling : sibling.querySelector("h1, h2, h3, h4, h5, h6");
        if (heading) {
          heading.id = heading.id || "table-heading-" + index;
          return heading.id;
        }
        sibling = sibling.previousElementSibling;
      }
      node = node.parentElement;
    }
    return null;
  }

  function update() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap, index) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        var label = nameOf(wrap, index);
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "group");
        if (label) wrap.setAttribute("aria-labelledby", label);
      } else if (wrap.getAttribute("role") === "group") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-labelledby");
      }
    });
  }

  update();
  window.addEventListener("resize", update);
})();
