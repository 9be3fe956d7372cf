// Small conveniences of the pages, shown only when this script runs (every page
// works without it): copy buttons, and "Show password".
"use strict";
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      var said = document.querySelector("[data-copied]");
      if (said) {
        said.hidden = false;
      }
    });
  });
});
document.querySelectorAll("[data-toggle-password]").forEach(function (box) {
  var field = document.getElementById(box.getAttribute("data-toggle-password"));
  if (!field) {
    return;
  }
  box.parentElement.hidden = false;
  box.addEventListener("change", function () {
    field.type = box.checked ? "text" : "password";
  });
});
