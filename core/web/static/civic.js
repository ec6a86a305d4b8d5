// civic: small enhancements only. Every page and form works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // a form with errors: move focus to the summary so screen readers announce it
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }

    // the voting code may come in the link of the text message (after #: never sent to the server)
    var code = document.querySelector("input[data-code-from-link]");
    var fromLink = (window.location.hash || "").replace(/^#/, "").replace(/[^A-Za-z0-9]/g, "").toUpperCase();
    if (code && !code.value && fromLink.length >= 4 && fromLink.length <= 12) { code.value = fromLink; }

    // the live count and budget bar of a ballot
    var ballot = document.querySelector("form[data-ballot]");
    if (ballot) {
      var budget = parseInt(ballot.getAttribute("data-budget-limit") || "0", 10);
      var maxCount = parseInt(ballot.getAttribute("data-max-count") || "0", 10);
      var status = document.getElementById("ballot-status");
      var meter = document.getElementById("ballot-meter");
      var template = status ? status.getAttribute("data-template") : "";
      var over = status ? status.getAttribute("data-over") : "";
      var update = function () {
        var boxes = ballot.querySelectorAll("input[type=checkbox]:checked");
        var cost = 0;
        boxes.forEach(function (b) { cost += parseInt(b.getAttribute("data-cost") || "0", 10); });
        var tooMany = maxCount && boxes.length > maxCount;
        var tooCostly = budget && cost > budget;
        if (status) {
          status.textContent = template.replace("{count}", boxes.length).replace("{cost}", cost.toLocaleString())
            + ((tooMany || tooCostly) ? " " + over : "");
        }
        if (meter) {
          var share = budget ? Math.min(100, Math.round(cost * 100 / budget)) : (maxCount ? Math.min(100, Math.round(boxes.length * 100 / maxCount)) : 0);
          meter.firstElementChild.style.width = share + "%";
          meter.classList.toggle("over", !!(tooMany || tooCostly));
        }
      };
      ballot.addEventListener("change", update);
      update();
    }

    // filter a long list of options as one types (complaint categories)
    document.querySelectorAll("input[data-filter-for]").forEach(function (filter) {
      var target = document.getElementById(filter.getAttribute("data-filter-for"));
      if (!target) { return; }
      filter.addEventListener("input", function () {
        var words = filter.value.trim().toLowerCase();
        target.querySelectorAll("option").forEach(function (option) {
          option.hidden = words !== "" && option.textContent.toLowerCase().indexOf(words) === -1 && option.value !== "";
        });
      });
    });
  });
})();
