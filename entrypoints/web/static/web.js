// Progressive enhancement of the pages; every page works without it.
//
// A scan form (data-scan="<id of its list>") sends each code in the background and adds the
// answer (one line, rendered by the server) to the top of its list, so the screen keeps its
// earlier lines and the cursor stays in the scan field. A USB scanner types a code and Enter,
// and may do so again before the server has answered: the field is emptied as soon as a code
// is taken, and the codes are sent one after another, in the order they were scanned.
"use strict";

(function () {
  var announcer = document.getElementById("announcer");

  function say(words) {
    if (announcer) {
      announcer.textContent = words;
    }
  }

  function enhance(form) {
    var field = form.querySelector("[data-scan-field]");
    var list = document.getElementById(form.getAttribute("data-scan"));
    var sending = Promise.resolve();
    if (!field || !list || !window.fetch) {
      return; // the form posts as a plain form
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!field.value.trim()) {
        return;
      }
      var body = new FormData(form); // the code as scanned, with the form's CSRF token
      field.value = "";
      field.focus();
      sending = sending.then(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-Scan": "line" },
        })
          .then(function (response) {
            var location = response.headers.get("X-Location");
            if (location) {
              window.location.assign(location); // signed out meanwhile: the whole page
              return null;
            }
            return response.text();
          })
          .then(function (line) {
            if (line) {
              list.insertAdjacentHTML("afterbegin", line);
            }
          })
          .catch(function () {
            say("The server could not be reached; scan that item again.");
          });
      });
    });
  }

  document.querySelectorAll("form[data-scan]").forEach(enhance);

  // After an action (a payment, a renewal) the page says what happened: unless the page puts
  // the cursor in a field of its own, it starts at that message, read out first, and Tab goes
  // on from there.
  var said = document.querySelector("[data-focus]");
  if (said && !document.querySelector("[autofocus]")) {
    said.focus();
  }
})();
