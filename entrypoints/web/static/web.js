// Progressive enhancement of the pages; every page works without it.
//
// Scan forms (data-scan) are posted by htmx and each answer (a result or a refusal, as one
// line) is added to the page; the scanner then types the next code into the same field, so
// the field is emptied and keeps the focus.
"use strict";

document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-scan")) {
    return;
  }
  var field = form.querySelector("[data-scan-field]");
  if (field) {
    field.value = "";
    field.focus();
  }
});

// The server could not be reached: say so where results are read out.
document.addEventListener("htmx:sendError", function () {
  var announcer = document.getElementById("announcer");
  if (announcer) {
    announcer.textContent = "The server could not be reached; nothing was done. Try again.";
  }
});
