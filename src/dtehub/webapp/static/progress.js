// dtehub: the live progress of a job on a web app page (an import on /app/import/{id}, a SII sync run on
// /app/sii). The page says everything in its markup, on the element with id "avance":
//   data-progress   where to ask the job's progress (a small JSON of dtehub's own)
//   data-every      how often to ask, in milliseconds
//   data-bar-value, data-bar-max   the JSON fields the <progress id="barra"> shows (left as it is while
//                   the maximum is unknown or zero)
//   data-while      the job goes on while the JSON's "state" is one of these (space separated)
//   data-then       where to go once it has ended, so that its result appears
// Inside it, an element with data-count="field" shows that field as a number (es-CL), one with
// data-text="field" shows it as it comes. No other origin, no library.
(function () {
  "use strict";
  var box = document.getElementById("avance");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress");
  var every = Number(box.getAttribute("data-every")) || 2000;
  var barValue = box.getAttribute("data-bar-value");
  var barMax = box.getAttribute("data-bar-max");
  var goingOn = (box.getAttribute("data-while") || "").split(" ");
  var then = box.getAttribute("data-then");

  function number(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("es-CL");
  }

  function show(progress) {
    Array.prototype.forEach.call(box.querySelectorAll("[data-count]"), function (cell) {
      cell.textContent = number(progress[cell.getAttribute("data-count")]);
    });
    Array.prototype.forEach.call(box.querySelectorAll("[data-text]"), function (cell) {
      cell.textContent = progress[cell.getAttribute("data-text")];
    });
    var bar = document.getElementById("barra");
    if (bar && barMax && progress[barMax]) {
      bar.max = progress[barMax];
      bar.value = progress[barValue];
      bar.textContent = number(progress[barValue]) + " de " + number(progress[barMax]);
    }
    if (goingOn.indexOf(progress.state) < 0) {
      window.location.replace(then); // the result, without the "started" message
      return;
    }
    window.setTimeout(poll, every);
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

  window.setTimeout(poll, every);
})();
