// dtehub: the live progress of an import uploaded in the web app (/app/import/{id}).
// Polls the import's progress (a small JSON of dtehub's own) every second, shows its counters, and
// loads the page again once the import has ended, so that the report appears. No other origin, no library.
(function () {
  "use strict";
  var box = document.getElementById("avance");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress");
  var names = ["read", "documents", "notes", "alreadyPresent", "attached", "refused", "skipped"];

  function number(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("es-CL");
  }

  function show(progress) {
    names.forEach(function (name) {
      var cell = document.getElementById("cifra-" + name);
      if (cell) {
        cell.textContent = number(progress[name]);
      }
    });
    var total = document.getElementById("cifra-total");
    if (total) {
      total.textContent = number(progress.total);
    }
    var bar = document.getElementById("barra");
    if (bar && progress.total) {
      bar.max = progress.total;
      bar.value = progress.read;
      bar.textContent = number(progress.read) + " de " + number(progress.total);
    }
    if (progress.state !== "queued" && progress.state !== "running") {
      window.location.replace(window.location.pathname); // the report, without the "started" message
      return;
    }
    window.setTimeout(poll, 1000);
  }

  function poll() {
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(show)
      .catch(function () {
        window.setTimeout(poll, 5000); // the server restarting, or the network: try again later
      });
  }

  window.setTimeout(poll, 1000);
})();
