"use strict";
// Devices and profiles: the two forms post JSON; the reply of an asked command follows on the
// event stream. Without scripts the forms post as plain forms and a page answers.
(function () {
  const $ = (id) => document.getElementById(id);

  function post(path, data) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    }).then((r) => r.json().then((body) => ({ ok: r.ok, body: body })));
  }

  function follow(resultEl) {
    if (document.body.dataset.live !== "true") return;
    const source = new EventSource("/api/events");
    const stop = setTimeout(() => source.close(), 60000);
    source.onmessage = (message) => {
      const ev = JSON.parse(message.data);
      if (ev.type === "transcript") resultEl.textContent = "Heard: " + ev.text;
      if (ev.type === "reply") resultEl.textContent += " · Reply: " + ev.text;
      if (ev.type === "turn_end") {
        resultEl.textContent += " (" + ev.outcome + ")";
        clearTimeout(stop);
        source.close();
      }
    };
  }

  const ask = $("ask-form");
  if (ask) {
    ask.addEventListener("submit", (event) => {
      event.preventDefault();
      const result = $("ask-result");
      result.textContent = "Sending…";
      post("/api/ask", { text: $("ask-text").value }).then(({ ok, body }) => {
        if (!ok) {
          result.textContent = body.error ? body.error.message : "Refused.";
          return;
        }
        result.textContent = "Asked: " + body.text + ". " + body.note;
        follow(result);
      }, () => (result.textContent = "The dashboard did not answer."));
    });
  }

  const profile = $("profile-form");
  if (profile) {
    profile.addEventListener("submit", (event) => {
      event.preventDefault();
      const result = $("profile-result");
      post("/api/profile", { name: $("profile-name").value }).then(({ ok, body }) => {
        if (!ok) {
          result.textContent = body.error ? body.error.message : "Refused.";
          return;
        }
        $("profile-current").textContent = body.current || "none";
        result.textContent = "Profile in use: " + (body.current || "none") + ".";
      }, () => (result.textContent = "The dashboard did not answer."));
    });
  }
})();
