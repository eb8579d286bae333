// A call's page: refresh while the call is being analysed; save a coach's judgement without reloading
// the report (so the recording keeps playing).
(function () {
  "use strict";
  var t = window.callcoachText;
  var pending = document.getElementById("pending");
  if (pending) {
    var status = pending.getAttribute("data-status");
    if (status === "queued" || status === "processing") setTimeout(function () { location.reload(); }, 3000);
  }
  var forms = document.querySelectorAll("form.finding");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var saved = form.querySelector(".saved");
      var data = new URLSearchParams(new FormData(form));
      saved.textContent = t("findings.saving");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          saved.textContent = result.ok ? t("findings.saved") : t("findings.not_saved", { error: result.body.error || t("js.server_error") });
          form.classList.toggle("judged", result.ok);
        })
        .catch(function () { saved.textContent = t("findings.not_saved", { error: t("findings.network") }); });
    });
  });
})();
