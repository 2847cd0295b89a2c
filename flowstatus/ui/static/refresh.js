// While the page says something is provisioning (data-refresh-ms on #content),
// fetch it again and swap in the new #content; stop once nothing is.
(function () {
  "use strict";

  function content() {
    return document.getElementById("content");
  }

  function schedule() {
    var main = content();
    var delay = main ? Number(main.dataset.refreshMs) : 0;
    if (delay > 0) {
      window.setTimeout(refresh, delay);
    }
  }

  function refresh() {
    fetch(window.location.href, {headers: {Accept: "text/html"}, cache: "no-store", credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content");
        var main = content();
        if (fresh && main) {
          main.replaceWith(document.adoptNode(fresh));
          document.title = fresh.dataset.title || document.title;
        }
        schedule();
      })
      .catch(function () {
        // Keep the last good content, say so, and try again.
        var live = document.getElementById("live");
        if (live) {
          live.textContent = "Refresh failed; retrying.";
          live.classList.add("stale");
        }
        schedule();
      });
  }

  document.addEventListener("DOMContentLoaded", schedule);
})();
