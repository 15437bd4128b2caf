/* 写信 (article 6): checks that mirror the intake service's, then POST <intake_url>/api/letters.
 * One idempotency key per letter: a retry after a network error or a double click never makes
 * two letters. Nothing is kept in the browser's storage; the codes are shown once. */
(function () {
  "use strict";
  var FIELDS = ["name", "phone", "email", "address", "title", "body", "follows_up"];
  var LABELS = { name: "姓名", phone: "电话", email: "电子邮箱", address: "地址", title: "标题",
    body: "正文", follows_up: "前信编码", agree: "须知" };
  // Article 6(2) is said once, in the status line above the button, not after every field.
  var ARTICLE_6 = "姓名、电话、地址、电子邮箱须如实填写（办法第六条第二项），否则按无效信件处理。";

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function length(text) { return Array.from(text).length; }

  function checkText(value, label, min, max, required) {
    var text = value.trim();
    if (!text) return label + "不能为空。";
    var n = length(text);
    if (n < min || n > max) return label + "长度应在 " + min + " 到 " + max + " 个字之间。";
    return "";
  }

  function checkPhone(value) {
    var missing = checkText(value, "电话", 1, 30, true);
    if (missing) return missing;
    var digits = value.replace(/[\s\-()（）]/g, "").replace(/^(\+86|0086)/, "");
    var mobile = /^1[3-9][0-9]{9}$/.test(digits);
    var landline = /^0[1-9][0-9]{1,2}[0-9]{7,8}$/.test(digits);
    return mobile || landline ? "" : "电话不是有效的电话号码：应为 11 位手机号码或带区号的固定电话（如 0372-5123456）。";
  }

  function checkEmail(value) {
    var missing = checkText(value, "电子邮箱", 3, 254, true);
    if (missing) return missing;
    return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value.trim()) ? "" : "电子邮箱不是有效的电子邮箱地址（应如 name@example.com）。";
  }

  function checkName(value) {
    var problem = checkText(value, "姓名", 2, 30, true);
    if (problem) return problem;
    return /[0-9@#<>\/\\]/.test(value) ? "姓名应为真实姓名，不能含数字或符号。" : "";
  }

  function normaliseLetter(text) {
    var raw = String(text).replace(/[\s\-－—_]/g, "").toUpperCase();
    var m = /^([A-Z]{2,6})([0-9]{4})([0-9]{5})$/.exec(raw);
    return m ? m[1] + "-" + m[2] + "-" + m[3] : "";
  }

  function checkFollows(value) {
    if (!value.trim()) return "";
    return normaliseLetter(value) ? "" : "前信编码格式不对：应如 LA-2026-00001。";
  }

  var CHECKS = {
    name: checkName, phone: checkPhone, email: checkEmail,
    address: function (v) { return checkText(v, "地址", 4, 200, true); },
    title: function (v) { return checkText(v, "标题", 1, 100, false); },
    body: function (v) { return checkText(v, "正文", 1, 20000, false); },
    follows_up: checkFollows
  };

  function init() {
    var form = document.getElementById("write-form");
    if (!form) return;
    var receipt = document.getElementById("write-receipt");
    var status = document.getElementById("write-status");
    var button = document.getElementById("write-submit");
    var body = form.elements.body;
    var count = document.getElementById("w-count");
    var base = form.getAttribute("data-endpoint") || "";
    if (base.charAt(base.length - 1) !== "/") base += "/";
    var endpoint = new URL("api/letters", new URL(base, window.location.href)).href;
    var key = newKey();
    var busy = false;

    function errorBox(name) { return form.querySelector('.write-error[data-for="' + name + '"]'); }

    function setError(name, message) {
      var box = errorBox(name);
      var input = form.elements[name];
      if (box) box.textContent = message || "";
      if (input && input.setAttribute) input.setAttribute("aria-invalid", message ? "true" : "false");
    }

    function clearErrors() {
      Array.prototype.forEach.call(form.querySelectorAll(".write-error"), function (box) { box.textContent = ""; });
    }

    function check() {
      var first = null;
      FIELDS.forEach(function (name) {
        var message = CHECKS[name](form.elements[name].value);
        setError(name, message);
        if (message && !first) first = name;
      });
      if (!form.elements.agree.checked) {
        setError("agree", "请阅读来信人须知并勾选确认。");
        first = first || "agree";
      } else setError("agree", "");
      return first;
    }

    // errors appear on submit and go away while typing; nothing moves on blur, so a click on
    // the button right after typing is never lost to a layout shift
    FIELDS.forEach(function (name) {
      form.elements[name].addEventListener("input", function () {
        if (errorBox(name).textContent) setError(name, CHECKS[name](form.elements[name].value));
      });
    });
    form.elements.agree.addEventListener("change", function () {
      if (form.elements.agree.checked) setError("agree", "");
    });
    body.addEventListener("input", function () { count.textContent = length(body.value) + " / 20000"; });

    function payload() {
      var data = {};
      FIELDS.forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) data[name] = name === "follows_up" ? normaliseLetter(value) : value;
      });
      var trap = form.elements.website.value;
      if (trap) data.website = trap;
      return data;
    }

    function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

    async function send(data) {
      // network errors and 5xx are retried with the same key and the same content
      var waits = [0, 1000, 3000, 6000];
      var last = null;
      for (var i = 0; i < waits.length; i++) {
        if (waits[i]) {
          status.textContent = "网络不稳定，正在重试（不会重复提交）……";
          await sleep(waits[i]);
        }
        try {
          var answer = await fetch(endpoint, {
            method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
            headers: { "Content-Type": "application/json", "Idempotency-Key": key },
            body: JSON.stringify(data)
          });
          if (answer.status < 500 && answer.status !== 429) return answer;
          last = answer;
          if (answer.status === 429) return answer;
        } catch (e) {
          last = null;
        }
      }
      return last;
    }

    function showReceipt(codes) {
      document.getElementById("receipt-note").textContent = "";
      document.getElementById("receipt-letter").textContent = codes.letter_code;
      document.getElementById("receipt-query").textContent = codes.query_code;
      document.getElementById("receipt-link").href = "../lookup/?code=" + encodeURIComponent(codes.letter_code);
      form.reset();
      count.textContent = "0 / 20000";
      form.hidden = true;
      receipt.hidden = false;
      // On a phone the receipt sits below the writer's rules: bring it into view and put the
      // focus on the once-only query code (a screen reader reads it; the writer copies it).
      var query = document.getElementById("receipt-query");
      receipt.scrollIntoView({ block: "start" });
      query.focus({ preventScroll: true });
    }

    async function explain(answer) {
      var data = null;
      try { data = await answer.json(); } catch (e) { data = null; }
      var problems = (data && data.problems) || [];
      var first = null;
      problems.forEach(function (p) {
        if (FIELDS.indexOf(p.field) >= 0) {
          setError(p.field, p.message);
          first = first || p.field;
        }
      });
      status.textContent = (data && data.error) || "提交未成功（" + answer.status + "），请稍后再试。";
      if (first) form.elements[first].focus();
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (busy) return;
      clearErrors();
      status.textContent = "";
      var first = check();
      if (first) {
        var missing = ["name", "phone", "email", "address"].some(function (n) { return !form.elements[n].value.trim(); });
        status.textContent = "请按提示改正标红的项目。" + (missing ? ARTICLE_6 : "");
        form.elements[first].focus();
        return;
      }
      busy = true;
      button.disabled = true;
      status.textContent = "正在提交……";
      try {
        var answer = await send(payload());
        if (answer && answer.status === 409) {
          var stored = await answer.json();  // an earlier try from this page was stored
          key = newKey();
          status.textContent = "";
          showReceipt(stored);
          document.getElementById("receipt-note").textContent = stored.error || "";
        } else if (answer && answer.status === 201) {
          var codes = await answer.json();
          key = newKey();  // the next letter gets its own key
          status.textContent = "";
          showReceipt(codes);
        } else if (answer) {
          await explain(answer);
        } else {
          status.textContent = "无法连接写信服务。请检查网络后再次点击“提交来信”（不会重复提交）。";
        }
      } finally {
        busy = false;
        button.disabled = false;
      }
    });

    document.getElementById("receipt-print").addEventListener("click", function () { window.print(); });
    document.getElementById("receipt-new").addEventListener("click", function () {
      document.getElementById("receipt-letter").textContent = "";
      document.getElementById("receipt-query").textContent = "";
      receipt.hidden = true;
      form.hidden = false;
      form.elements.name.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
