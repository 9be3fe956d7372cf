// Copy buttons of the admin console: shown only when this script runs (the
// field stays selectable without it).
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
