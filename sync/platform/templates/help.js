// Residents' calls for staff (issue 17) on the fleet page: the list is
// asked for twice a second, so a call shows within about half a second of the
// kiosk's button; a two-tone sound repeats while any call is open, until a
// member of staff acknowledges it ("我去处理"). Browsers start audio only
// after a click on the page, so when the sound is blocked a button asks
// for that click. Text goes in with textContent only: kiosk-supplied site
// names are never markup.
(function () {
  "use strict";
  var box = document.getElementById("help-calls");
  if (!box) {
    return;
  }
  var list = document.getElementById("help-list");
  var enable = document.getElementById("help-sound-enable");
  var csrfInput = document.querySelector('input[name="csrf"]');
  var csrf = csrfInput ? csrfInput.value : "";
  var audio = null;
  var ringing = false;
  var timer = null;

  function context() {
    if (!audio) {
      var C = window.AudioContext || window.webkitAudioContext;
      if (C) {
        audio = new C();
      }
    }
    return audio;
  }

  function beep() {
    var a = context();
    if (!a || a.state !== "running") {
      soundState();
      return;
    }
    [880, 660].forEach(function (freq, i) {
      var o = a.createOscillator();
      var g = a.createGain();
      var t = a.currentTime + i * 0.3;
      o.type = "sine";
      o.frequency.value = freq;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.4, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.5);
      o.connect(g);
      g.connect(a.destination);
      o.start(t);
      o.stop(t + 0.55);
    });
  }

  // data-sound says what staff hear: off (no call), on, or blocked (a
  // call is open but the browser holds the sound back until a click).
  function soundState() {
    var state = "off";
    if (ringing) {
      var a = context();
      state = a && a.state === "running" ? "on" : "blocked";
    }
    box.setAttribute("data-sound", state);
    enable.hidden = state !== "blocked";
  }

  function ring(on) {
    ringing = on;
    if (on && !timer) {
      beep();
      timer = setInterval(beep, 2000);
    } else if (!on && timer) {
      clearInterval(timer);
      timer = null;
    }
    soundState();
  }

  enable.addEventListener("click", function () {
    var a = context();
    if (a) {
      a.resume().then(function () {
        soundState();
        if (ringing) {
          beep();
        }
      });
    }
  });

  function ack(seq, button) {
    button.disabled = true;
    fetch("/office/help/" + seq + "/ack", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Requested-With": "fetch" },
      body: "csrf=" + encodeURIComponent(csrf)
    }).then(poll, poll);
  }

  function render(calls) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    calls.forEach(function (c) {
      var row = document.createElement("li");
      row.className = "help-call";
      row.id = "help-" + c.seq;
      row.setAttribute("data-kiosk", c.kiosk);
      var text = document.createElement("span");
      text.textContent = c.kiosk + (c.site ? "（" + c.site + "）" : "") + " 在「" + c.screen_label + "」界面呼叫工作人员，" +
        c.at + "，已等 " + c.waiting + " 秒 ";
      var button = document.createElement("button");
      button.type = "button";
      button.id = "help-ack-" + c.seq;
      button.textContent = "我去处理";
      button.addEventListener("click", function () {
        ack(c.seq, button);
      });
      row.appendChild(text);
      row.appendChild(button);
      list.appendChild(row);
    });
    // The kiosk's own row in the fleet table says so too.
    // Its "正常" is hidden while it has a call open.
    Array.prototype.forEach.call(document.querySelectorAll(".alert-help"), function (b) {
      b.parentNode.removeChild(b);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".alerts .ok"), function (ok) {
      ok.hidden = false;
    });
    calls.forEach(function (c) {
      var row = document.getElementById("kiosk-" + c.kiosk);
      var cell = row && row.querySelector(".alerts");
      if (cell && !cell.querySelector(".alert-help")) {
        var badge = document.createElement("span");
        badge.className = "alert alert-help";
        badge.textContent = "呼叫工作人员";
        cell.insertBefore(badge, cell.firstChild);
        var ok = cell.querySelector(".ok");
        if (ok) {
          ok.hidden = true;
        }
      }
    });
    box.hidden = calls.length === 0;
    box.setAttribute("data-open", String(calls.length));
    ring(calls.length > 0);
  }

  function poll() {
    fetch("/office/help", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (calls) {
        if (Array.isArray(calls)) {
          render(calls);
        }
      })
      .catch(function () {});
  }

  poll();
  setInterval(poll, 500);
})();
