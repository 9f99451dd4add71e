// The app's only script: the passphrase meter, job progress, and "hide everything" (Esc).
"use strict";
(function () {
  const csrf = document.body.dataset.csrf;

  function hideAll(event) {
    document.body.classList.add("hidden-all");
    document.querySelectorAll("img").forEach(function (img) { img.remove(); });
    if (event) { return; }
    document.getElementById("hide-form").submit();
  }
  const hideForm = document.getElementById("hide-form");
  if (hideForm) { hideForm.addEventListener("submit", hideAll); }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hideAll(null); }
  });

  const pass = document.getElementById("passphrase");
  const meter = document.getElementById("meter-bar");
  const said = document.getElementById("strength");
  if (pass && meter && said) {
    let timer = null;
    pass.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const body = new URLSearchParams({ passphrase: pass.value, csrf: csrf,
          title: (document.getElementById("title") || {}).value || "" });
        fetch("/strength", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (s) {
            meter.style.width = ((s.score + 1) * 20) + "%";
            meter.classList.toggle("good", !s.weak);
            said.textContent = s.weak ? s.text : "";
            said.dataset.score = String(s.score);
          });
      }, 200);
    });
  }

  const job = document.getElementById("job");
  if (job && job.dataset.state === "running") {
    const bar = document.getElementById("job-bar");
    const events = new EventSource("/events/" + job.dataset.job);
    events.onmessage = function (msg) {
      const s = JSON.parse(msg.data);
      if (s.total) { bar.max = s.total; bar.value = s.done; }
      if (s.state !== "running") { events.close(); window.location.reload(); }
    };
    events.onerror = function () { events.close(); setTimeout(function () { window.location.reload(); }, 500); };
  }
})();
