// dtehub: the live progress of a SII sync run on /app/sii.
// Asks the run's progress (a small JSON of dtehub's own) every two seconds, shows its figures, and
// reloads the page once the run has ended, so that its result and messages appear. No other origin,
// no library.
(function () {
  "use strict";
  var box = document.getElementById("avance");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress");
  var names = ["periodsDone", "periodsTotal", "documentsCreated", "documentsUpdated", "xmlsFetched"];

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
    var state = document.getElementById("estado-en-curso");
    if (state) {
      state.textContent = progress.stateName;
    }
    var bar = document.getElementById("barra");
    if (bar) {
      bar.max = progress.periodsTotal || 1;
      bar.value = progress.periodsDone;
      bar.textContent = number(progress.periodsDone) + " de " + number(progress.periodsTotal);
    }
    if (!progress.active) {
      window.location.assign("/app/sii");
      return;
    }
    window.setTimeout(poll, 2000);
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

  window.setTimeout(poll, 2000);
})();
