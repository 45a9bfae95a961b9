"use strict";
// The live page: one EventSource on /api/events; each event lights a stage.
(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const live = body.dataset.live === "true";
  const wakeThreshold = parseFloat(body.dataset.wakeThreshold) || 0.5;
  const vadThreshold = parseFloat(body.dataset.vadThreshold) || 0.5;
  const STAGES = ["wake", "endpoint", "stt", "router", "action", "tts"];
  const WINDOW_S = 30;
  const seen = (window.hearthSeen = {}); // event type -> when this page last handled one (ms)
  const counts = (window.hearthCounts = {});
  const levels = [];
  let turnId = null;
  let drawPending = false;

  function stage(key) {
    return $("stages").querySelector('[data-stage="' + key + '"]');
  }
  function setStage(key, cls, text) {
    const li = stage(key);
    if (!li) return;
    li.classList.remove("now", "done", "failed", "skipped");
    if (cls) li.classList.add(cls);
    li.querySelector(".status").textContent = text;
  }
  function stageIs(key, cls) {
    const li = stage(key);
    return li && li.classList.contains(cls);
  }
  function ms(value) {
    if (typeof value !== "number") return "";
    return (value < 10 ? value.toFixed(1) : Math.round(value)) + " ms";
  }
  function say(text) {
    $("announce").textContent = text;
  }
  function newTurn(id) {
    turnId = id;
    STAGES.forEach((key) => setStage(key, "", "waiting"));
    ["transcript", "intent", "reply", "outcome"].forEach((id) => ($(id).textContent = "–"));
    $("turn-link").textContent = "";
  }
  function logLine(ev) {
    const log = $("log");
    const li = document.createElement("li");
    const when = new Date((ev.ts || Date.now() / 1000) * 1000).toLocaleTimeString();
    const detail = ev.text || ev.state || ev.intent || ev.outcome || ev.code || ev.reason || "";
    li.textContent = when + " " + ev.type + (detail ? ": " + detail : "");
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 50) log.removeChild(log.lastChild);
  }

  function apply(ev) {
    if (ev.turn && ev.turn !== turnId && ev.type !== "level") newTurn(ev.turn);
    switch (ev.type) {
      case "state":
        $("state").textContent = ev.state;
        if (ev.state === "listening" && stageIs("wake", "done")) setStage("endpoint", "now", "listening…");
        if (ev.state !== "listening" && ev.state !== "thinking" && ev.state !== "speaking" && !levels.length) {
          $("hearing").textContent = "–";
        }
        break;
      case "wake":
        setStage("wake", "done", "score " + Number(ev.score).toFixed(2));
        setStage("endpoint", "now", "listening…");
        say("Wake word heard");
        break;
      case "listen":
        setStage("wake", "done", "without the wake word (" + ev.trigger + ")");
        setStage("endpoint", "now", "listening…");
        break;
      case "speech_end":
        if (ev.speech_s > 0) {
          setStage("endpoint", "done", ev.reason + ", " + Number(ev.speech_s).toFixed(2) + " s of speech");
          setStage("stt", "now", "transcribing…");
        } else {
          setStage("endpoint", "failed", ev.reason);
        }
        break;
      case "transcript":
        if (!stageIs("wake", "done")) setStage("wake", "done", "typed, no wake word");
        if (!stageIs("endpoint", "done")) setStage("endpoint", "skipped", "not needed");
        setStage("stt", "done", ev.stt_ms > 0 ? ms(ev.stt_ms) : "typed text");
        setStage("router", "now", "deciding…");
        $("transcript").textContent = ev.text || "(nothing heard)";
        say("Heard: " + (ev.text || "nothing"));
        break;
      case "llm":
        setStage("router", "now", "language model " + ms(ev.llm_ms));
        break;
      case "intent":
        setStage("router", "done", ev.layer + " · " + ms(ev.router_ms));
        $("intent").textContent = ev.intent + " (" + ev.layer + ")";
        setStage("action", "now", "…");
        break;
      case "action":
        setStage("action", "done", (ev.messages || []).map((m) => m[0]).join(", ") + " · " + ms(ev.publish_ms));
        break;
      case "error":
        if (ev.entity_id) setStage("action", "failed", ev.code);
        $("outcome").textContent = ev.code + ": " + ev.message;
        break;
      case "reply":
        if (!stageIs("action", "done") && !stageIs("action", "failed")) setStage("action", "skipped", "no action");
        if (!stageIs("router", "done")) setStage("router", "done", "answered");
        $("reply").textContent = $("reply").textContent === "–" ? ev.text : $("reply").textContent + " " + ev.text;
        setStage("tts", "now", "speaking…");
        say("Reply: " + ev.text);
        break;
      case "speech_start":
        setStage("tts", "now", "first audio after " + ms(ev.tts_ms));
        break;
      case "speech_end_reply":
        setStage("tts", "done", "spoke " + Number(ev.audio_s).toFixed(1) + " s");
        break;
      case "turn_end":
        STAGES.forEach((key) => {
          const li = stage(key);
          if (li.classList.contains("now")) setStage(key, "done", li.querySelector(".status").textContent);
          else if (!li.className.match(/done|failed|skipped/)) setStage(key, "skipped", "not needed");
        });
        $("outcome").textContent = ev.outcome;
        $("turn-link").innerHTML = "";
        const a = document.createElement("a");
        a.href = "/turns/" + encodeURIComponent(ev.turn);
        a.textContent = "This turn, stage by stage";
        $("turn-link").appendChild(a);
        say("Turn finished: " + ev.outcome);
        break;
      case "level":
        addLevel(ev);
        break;
      default:
        break;
    }
    if (ev.type !== "level") logLine(ev);
    seen[ev.type] = Date.now();
    counts[ev.type] = (counts[ev.type] || 0) + 1;
  }

  function replay(snapshot) {
    if (snapshot.state) $("state").textContent = snapshot.state;
    const events = snapshot.turn && snapshot.turn.length ? snapshot.turn : snapshot.last || [];
    events.forEach(apply);
    if (snapshot.level) addLevel(snapshot.level);
  }

  function addLevel(ev) {
    levels.push({ t: Date.now() / 1000, wake: ev.wake, vad: ev.vad });
    const cutoff = Date.now() / 1000 - WINDOW_S;
    while (levels.length && levels[0].t < cutoff) levels.shift();
    const speaking = ev.speaking === true || (typeof ev.vad === "number" && ev.vad >= vadThreshold);
    $("hearing").textContent = speaking ? "speech" : "no speech";
    $("level-note").textContent =
      typeof ev.wake === "number" ? "Wake word score now " + ev.wake.toFixed(2) + "." : "";
    if (!drawPending) {
      drawPending = true;
      window.requestAnimationFrame(draw);
    }
  }

  function draw() {
    drawPending = false;
    const canvas = $("levels");
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    const style = getComputedStyle(document.documentElement);
    ctx.clearRect(0, 0, w, h);
    const now = Date.now() / 1000;
    const x = (t) => w - ((now - t) / WINDOW_S) * w;
    const y = (v) => h - 4 - v * (h - 8);
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = style.getPropertyValue("--fail");
    ctx.beginPath();
    ctx.moveTo(0, y(wakeThreshold));
    ctx.lineTo(w, y(wakeThreshold));
    ctx.stroke();
    ctx.setLineDash([]);
    [["vad", "--done"], ["wake", "--s0"]].forEach(([key, colour]) => {
      ctx.strokeStyle = style.getPropertyValue(colour);
      ctx.lineWidth = 2;
      ctx.beginPath();
      let started = false;
      levels.forEach((p) => {
        if (typeof p[key] !== "number") return;
        if (started) ctx.lineTo(x(p.t), y(p[key]));
        else ctx.moveTo(x(p.t), y(p[key]));
        started = true;
      });
      ctx.stroke();
    });
  }

  const snapshotEl = $("snapshot");
  if (snapshotEl) {
    try {
      replay(JSON.parse(snapshotEl.textContent));
    } catch (err) {
      /* an unreadable snapshot: start empty */
    }
  }
  if (!live) {
    $("level-note").textContent = "Not live: no audio levels without the running assistant.";
    return;
  }
  const source = new EventSource("/api/events");
  window.hearthSource = source;
  source.onmessage = (message) => {
    let ev;
    try {
      ev = JSON.parse(message.data);
    } catch (err) {
      return;
    }
    if (ev.type === "hello") {
      seen.hello = Date.now();
      $("mode").textContent = "Live: events stream from the running assistant.";
      replay(ev);
      return;
    }
    if (ev.type === "dropped") {
      fetch("/api/live", { credentials: "same-origin" })
        .then((r) => r.json())
        .then(replay)
        .catch(() => {});
      return;
    }
    apply(ev);
  };
  source.onerror = () => {
    $("mode").textContent = "Connection to the assistant lost; trying again…";
  };
})();
