/* Status lookup (在线查询): WebCrypto only, algorithm in docs/lookup.md.
 * PBKDF2-HMAC-SHA256(query code, salt ‖ letter code) → HKDF id / key (build salt) → shard → AES-GCM. */
(function () {
  "use strict";
  var ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  var script = document.currentScript;
  var base = new URL("../lookup/", script ? script.src : window.location.href);
  var enc = new TextEncoder();
  var metaPromise = null;

  function normaliseLetter(text) {
    var raw = String(text).replace(/[\s\-－—_]/g, "").toUpperCase();
    var m = /^([A-Z]{2,6})([0-9]{4})([0-9]{5})$/.exec(raw);
    return m ? m[1] + "-" + m[2] + "-" + m[3] : "";
  }

  function normaliseQuery(text) {
    var raw = String(text).replace(/[\s\-－—_]/g, "").toUpperCase();
    if (raw.length !== 12) return "";
    for (var i = 0; i < raw.length; i++) if (ALPHABET.indexOf(raw[i]) < 0) return "";
    return raw;
  }

  function hexToBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return out;
  }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  function meta() {
    if (!metaPromise) {
      metaPromise = fetch(new URL("meta.json", base), { cache: "reload" }).then(function (r) {
        if (!r.ok) throw new Error("meta");
        return r.json();
      });
      metaPromise.catch(function () { metaPromise = null; });
    }
    return metaPromise;
  }

  async function hkdf(ikm, salt, info, bytes) {
    var key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
    var bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: salt, info: enc.encode(info) }, key, bytes * 8);
    return new Uint8Array(bits);
  }

  function shardName(id, prefixBits) {
    var head = ((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) >>> 0;
    var index = prefixBits === 0 ? 0 : Math.floor(head / Math.pow(2, 32 - prefixBits));
    var digits = Math.ceil(prefixBits / 4);
    var hex = index.toString(16);
    while (hex.length < digits) hex = "0" + hex;
    return hex + ".bin";
  }

  function same(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  async function lookup(letterText, queryText) {
    var letter = normaliseLetter(letterText);
    var query = normaliseQuery(queryText);
    if (!letter || !query) return null;
    var m = await meta();
    if (m.format !== "letterbox-lookup" || m.version !== 3) return null;
    var buildSalt = hexToBytes(m.hkdf.salt);              /* fresh at every build */
    var salt = concat(hexToBytes(m.kdf.salt), enc.encode(letter));
    var password = await crypto.subtle.importKey("raw", enc.encode(query), "PBKDF2", false, ["deriveBits"]);
    var idBytes = m.hkdf.id_bytes, nonceBytes = m.cipher.nonce_bytes, size = m.entry_bytes;
    for (var k = 0; k < m.kdf.iterations.length; k++) {
      var slow = new Uint8Array(await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: m.kdf.iterations[k] }, password, 256));
      var id = await hkdf(slow, buildSalt, m.hkdf.id_info, idBytes);
      // reload, never revalidated: a shard is rewritten in place (`letterbox lookup-refresh`, a build)
      // at a fixed size, so a copy from the same second has the same Last-Modified and ETag and a
      // revalidation would answer 304 with the old status, for as long as the shard stays unchanged
      var response = await fetch(new URL("shards/" + shardName(id, m.prefix_bits), base), { cache: "reload" });
      if (!response.ok) continue;
      var data = new Uint8Array(await response.arrayBuffer());
      for (var start = 0; start + size <= data.length; start += size) {
        if (!same(data.subarray(start, start + idBytes), id)) continue;
        var keyBytes = await hkdf(slow, buildSalt, m.hkdf.key_info, m.hkdf.key_bytes);
        var key = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["decrypt"]);
        try {
          var plain = await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: data.slice(start + idBytes, start + idBytes + nonceBytes), additionalData: id },
            key, data.slice(start + idBytes + nonceBytes, start + size));
          return JSON.parse(new TextDecoder().decode(plain));
        } catch (e) {
          /* not this entry */
        }
      }
    }
    return null;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function dateZh(iso) {
    var p = String(iso).split("-");
    return p.length === 3 ? +p[0] + "年" + +p[1] + "月" + +p[2] + "日" : String(iso);
  }

  /* Calendar days from the day after the deadline to today (China time), 0 when not late. */
  function daysLate(iso) {
    var today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
    var diff = (Date.parse(today + "T00:00:00Z") - Date.parse(String(iso) + "T00:00:00Z")) / 86400000;
    return diff > 0 && isFinite(diff) ? Math.round(diff) : 0;
  }

  /* What happens next, in the writer's words (docs/lookup.md). */
  function nextStep(status, late) {
    var steps = {
      received: "信箱办公室将对来信分类，并决定直接答复、转办或呈领导批示。",
      classified: "信箱办公室将直接答复、转交承办单位或呈领导批示。",
      escalated: "来信已呈区政府领导批示，批示后交承办单位办理。",
      transferred: "承办单位正在办理，办结后答复经审核公开或告知您。",
      answered: "承办单位已答复，信箱办公室审核后答复您。",
      reviewing: "复查复核机关正在办理，将出具书面意见。",
      closed: "已办结。对办理结果不满意的，可在办结后 30 日内评价“不满意”，来信将列入退回重办名单。",
      archived: "已办结归档。",
      rejected: "来信不予受理，理由见上。如有新的情况，可重新来信。"
    };
    var text = steps[status] || "";
    if (late > 0) text += "已超过办理期限，信箱办公室将督促承办单位尽快办结；您也可以致电询问。";
    return text;
  }

  function show(result, entry, letter) {
    result.textContent = "";
    if (!entry) {
      result.appendChild(el("p", "未找到：请核对信件编码和查询码。", "lookup-not-found"));
      result.setAttribute("data-status", "not-found");
      return;
    }
    result.appendChild(el("h2", "信件 " + letter + " 的办理情况"));
    var table = el("table", null, "lookup-table");
    function row(label, value, cls) {
      if (value === null || value === undefined || value === "") return;
      var tr = el("tr");
      tr.appendChild(el("th", label));
      var td = el("td", null, cls);
      if (value instanceof Node) td.appendChild(value); else td.textContent = value;
      tr.appendChild(td);
      table.appendChild(tr);
    }
    var open = ["received", "classified", "escalated", "transferred", "answered", "reviewing"].indexOf(entry.status) >= 0;
    var late = open && entry.deadline ? daysLate(entry.deadline) : 0;
    var badge = el("span", entry.status_zh, "lookup-badge lookup-badge--" + (late > 0 ? "overdue" : entry.status));
    if (late > 0) {
      var wrap = el("span");
      wrap.appendChild(badge);
      wrap.appendChild(el("span", "已逾期 " + late + " 天（自办理期限次日起按日历日计）", "lookup-badge lookup-badge--overdue-days"));
      badge = wrap;
    }
    row("办理状态", badge, "lookup-status");
    row("收信日期", entry.received && dateZh(entry.received));
    row("承办单位", (entry.units || []).join("、"));
    row("办理期限", entry.deadline && (dateZh(entry.deadline) +
        (entry.deadline_provisional ? "（暂定：当年节假日安排公布后可能调整）" : "")));
    row("已同意延期", entry.extension_days ? entry.extension_days + " " + (entry.extension_unit || "个工作日") : "");
    row("不予受理理由", entry.reject_reason);
    row("答复日期", entry.answered && dateZh(entry.answered));
    if (entry.link && /^\.\.\/letters\/[A-Z0-9-]+\/$/.test(entry.link)) {
      var a = el("a", "查看公开的来信与答复");
      a.href = new URL(entry.link, base).href;
      row("公开页面", a);
    }
    result.appendChild(table);
    var next = nextStep(entry.status, late);
    if (next) result.appendChild(el("p", "下一步：" + next, "lookup-next"));
    var contact = result.getAttribute("data-contact");
    if (contact) result.appendChild(el("p", "如有疑问，请联系" + contact + "。", "lookup-contact"));
    /* 告知书 (notices): shown in full, also for a letter whose answer is not published (art. 13);
     * a text cut to fit the entry ends with a note saying so (docs/lookup.md). */
    if ((entry.notices && entry.notices.length) || entry.notices_omitted) {
      result.appendChild(el("h3", "告知书"));
      if (entry.notices_omitted) {
        result.appendChild(el("p", "另有 " + entry.notices_omitted + " 份较早的告知书未能在此显示，请向信箱办公室索取。",
                              "lookup-notices-omitted"));
      }
      (entry.notices || []).forEach(function (item) {
        var box = el("section", null, "lookup-notice");
        box.appendChild(el("h4", item[1] + "（" + dateZh(item[0]) + "）"));
        String(item[2] || "").split("\n").forEach(function (line) {
          box.appendChild(el("p", line));
        });
        result.appendChild(box);
      });
    }
    if (entry.timeline && entry.timeline.length) {
      result.appendChild(el("h3", "办理经过"));
      var list = el("ol", null, "lookup-timeline");
      entry.timeline.forEach(function (item) {
        var li = el("li");
        li.appendChild(el("span", dateZh(item[0]), "lookup-date"));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", item[1], "lookup-step"));
        list.appendChild(li);
      });
      result.appendChild(list);
    }
    result.setAttribute("data-status", entry.status);
  }

  /* 评价 (feedback): shown under a closed or archived letter when the page was built with the
   * intake service's URL (data-endpoint); posts the codes the writer looked the letter up with. */
  var RATINGS = ["满意", "基本满意", "不满意"];
  var MAX_COMMENT = 500;
  var CLOSING_STEPS = ["审核通过、答复办结", "直接答复办结"];
  var FEEDBACK_STEP = "来信人评价";

  function alreadyRated(entry) {
    var closing = -1, rated = -1;
    (entry.timeline || []).forEach(function (item, i) {
      if (CLOSING_STEPS.indexOf(item[1]) >= 0) closing = i;
      if (item[1] === FEEDBACK_STEP) rated = i;
    });
    return rated > closing;
  }

  function feedbackForm() {
    var form = document.getElementById("feedback-form");
    if (!form) return null;
    var fieldset = document.getElementById("feedback-rating");
    var ratingError = document.getElementById("feedback-rating-error");
    var comment = form.elements.comment;
    var count = document.getElementById("feedback-count");
    var button = document.getElementById("feedback-submit");
    var status = document.getElementById("feedback-status");
    var office = form.getAttribute("data-office") || "信箱办公室";
    var base = form.getAttribute("data-endpoint") || "";
    if (base.charAt(base.length - 1) !== "/") base += "/";
    var endpoint = new URL("api/feedback", new URL(base, window.location.href)).href;
    var codes = null;
    var busy = false;
    var locked = false;

    function radios() { return Array.prototype.slice.call(form.querySelectorAll('input[name="rating"]')); }

    function chosen() {
      var checked = form.querySelector('input[name="rating"]:checked');
      return checked ? checked.value : "";
    }

    function say(result, text) {
      status.setAttribute("data-result", result);
      status.textContent = text;
    }

    function ratingProblem(text) {
      ratingError.textContent = text || "";
      radios().forEach(function (r) { r.setAttribute("aria-invalid", text ? "true" : "false"); });
    }

    function lock(on) {
      locked = on;
      radios().forEach(function (r) { r.disabled = on; });
      comment.disabled = on;
      button.disabled = on;
    }

    function countChars() { count.textContent = Array.from(comment.value.trim()).length + " / " + MAX_COMMENT; }

    comment.addEventListener("input", countChars);
    radios().forEach(function (r) { r.addEventListener("change", function () { ratingProblem(""); }); });

    async function explain(answer, rating) {
      if (!answer) {
        say("network", "无法连接信箱服务，评价未保存。请检查网络后再点击“提交评价”。");
        return;
      }
      var data = null;
      try { data = await answer.json(); } catch (e) { data = null; }
      var code = answer.status;
      if (code === 200 || code === 201) {
        lock(true);
        var text = "评价已提交：" + ((data && data.rating) || rating) + "。感谢您的评价！";
        if (data && data.reopen) text += "这封信已列入" + office + "的退回重办名单。";
        say("ok", text);
      } else if (code === 403) {
        say("forbidden", "信件编码或查询码不对，评价未保存。请核对两个编码后重新查询。");
      } else if (code === 409) {
        lock(true);
        say("conflict", "这封信现在不能评价：已经评价过（每封信只能评价一次），或已重新办理、尚未办结。本次评价未保存。");
      } else if (code === 422) {
        var problems = (data && data.problems) || [];
        var messages = problems.map(function (p) { return p.message; }).filter(Boolean);
        problems.forEach(function (p) { if (p.field === "rating") ratingProblem(p.message); });
        say("invalid", "评价未保存：" + (messages.join(" ") || "所填内容不符合要求，请改正后重试。"));
      } else if (code === 413) {
        say("invalid", "评价意见太长，评价未保存。请删减到 " + MAX_COMMENT + " 字以内后重试。");
      } else if (code === 429) {
        var wait = parseInt(answer.headers.get("Retry-After") || "", 10);
        var minutes = wait > 0 ? Math.ceil(wait / 60) : 10;
        say("busy", "提交过于频繁，评价未保存。请 " + minutes + " 分钟后再试。");
      } else if (code === 503) {
        say("busy", "系统繁忙，评价暂未保存。请稍后再点击“提交评价”。");
      } else {
        say("error", "评价未能提交（错误代码 " + code + "），请稍后再试，或致电、来函" + office + "。");
      }
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (busy || locked || !codes) return;
      var rating = chosen();
      var text = comment.value.trim();
      if (RATINGS.indexOf(rating) < 0) {
        ratingProblem("请选择“满意”“基本满意”或“不满意”中的一项。");
        say("invalid", "评价未提交：请先选择评价。");
        radios()[0].focus();
        return;
      }
      if (Array.from(text).length > MAX_COMMENT) {
        say("invalid", "评价意见不能超过 " + MAX_COMMENT + " 字，请删减后再提交。");
        comment.focus();
        return;
      }
      var data = { letter_code: codes.letter_code, query_code: codes.query_code, rating: rating };
      if (text) data.comment = text;
      busy = true;
      button.disabled = true;
      say("sending", "正在提交评价……");
      var answer = null;
      try {
        answer = await fetch(endpoint, {
          method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(data)
        });
      } catch (e) {
        answer = null;
      }
      try {
        await explain(answer, rating);
      } finally {
        busy = false;
        if (!locked) button.disabled = false;
      }
    });

    return {
      hide: function () {
        codes = null;
        form.hidden = true;
      },
      offer: function (entry, letter, query) {
        codes = null;
        form.reset();
        countChars();
        ratingProblem("");
        say("", "");
        lock(false);
        if (!entry || !letter || !query || (entry.status !== "closed" && entry.status !== "archived")) {
          form.hidden = true;
          return;
        }
        codes = { letter_code: letter, query_code: query };
        form.hidden = false;
        if (alreadyRated(entry)) {
          lock(true);
          say("rated", "这封信已经评价过，感谢您的评价。每封信只能评价一次。");
        }
      }
    };
  }

  /* 复查 / 复核 (《信访工作条例》第三十五、三十六条): offered under a closed letter whose entry
   * names a review still open (entry.review: kind, last day, reviewing body) on a page built
   * with the intake service's URL; posts the codes, the kind and the reason to api/review. */
  var MAX_REVIEW = 2000;

  function todayIso() {
    var d = new Date();
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }

  function reviewForm() {
    var form = document.getElementById("review-form");
    if (!form) return null;
    var title = document.getElementById("review-title");
    var intro = document.getElementById("review-intro");
    var text = form.elements.text;
    var count = document.getElementById("review-count");
    var error = document.getElementById("review-error");
    var button = document.getElementById("review-submit");
    var status = document.getElementById("review-status");
    var base = form.getAttribute("data-endpoint") || "";
    if (base.charAt(base.length - 1) !== "/") base += "/";
    var endpoint = new URL("api/review", new URL(base, window.location.href)).href;
    var request = null;
    var busy = false;

    function say(result, message) {
      status.setAttribute("data-result", result);
      status.textContent = message;
    }

    function problem(message) {
      error.textContent = message || "";
      text.setAttribute("aria-invalid", message ? "true" : "false");
    }

    function lock(on) {
      text.disabled = on;
      button.disabled = on;
    }

    function countChars() { count.textContent = Array.from(text.value.trim()).length + " / " + MAX_REVIEW; }
    text.addEventListener("input", function () { countChars(); problem(""); });

    async function explain(answer, kind) {
      if (!answer) {
        say("network", "无法连接信箱服务，申请未提交。请检查网络后再点击“提交申请”。");
        return;
      }
      var data = null;
      try { data = await answer.json(); } catch (e) { data = null; }
      var code = answer.status;
      if (code === 201) {
        lock(true);
        say("ok", kind + "申请已提交。复查复核机关将在 30 日内作出意见，届时可在本页查看。");
      } else if (code === 403) {
        say("forbidden", "信件编码或查询码不对，申请未提交。请核对两个编码后重新查询。");
      } else if (code === 409) {
        lock(true);
        say("conflict", (data && data.error) || ("这封信现在不能申请" + kind + "。"));
      } else if (code === 422) {
        var messages = ((data && data.problems) || []).map(function (p) { return p.message; }).filter(Boolean);
        say("invalid", "申请未提交：" + (messages.join(" ") || "所填内容不符合要求，请改正后重试。"));
      } else if (code === 429) {
        var wait = parseInt(answer.headers.get("Retry-After") || "", 10);
        say("busy", "提交过于频繁，申请未提交。请 " + (wait > 0 ? Math.ceil(wait / 60) : 10) + " 分钟后再试。");
      } else if (code === 503) {
        say("busy", "系统繁忙，申请暂未提交。请稍后再点击“提交申请”。");
      } else {
        say("error", "申请未能提交（错误代码 " + code + "），请稍后再试，或书面向复查复核机关提出。");
      }
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (busy || !request || text.disabled) return;
      var reason = text.value.trim();
      if (!reason || Array.from(reason).length > MAX_REVIEW) {
        problem(reason ? "申请理由不能超过 " + MAX_REVIEW + " 字。" : "请写明申请理由。");
        say("invalid", "申请未提交：请先写明申请理由。");
        text.focus();
        return;
      }
      busy = true;
      button.disabled = true;
      say("sending", "正在提交申请……");
      var answer = null;
      try {
        answer = await fetch(endpoint, {
          method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ letter_code: request.letter_code, query_code: request.query_code,
                                 kind: request.kind, text: reason })
        });
      } catch (e) {
        answer = null;
      }
      try {
        await explain(answer, request.kind);
      } finally {
        busy = false;
        if (!text.disabled) button.disabled = false;
      }
    });

    return {
      hide: function () {
        request = null;
        form.hidden = true;
      },
      offer: function (entry, letter, query) {
        request = null;
        form.reset();
        countChars();
        problem("");
        say("", "");
        lock(false);
        var review = entry && entry.review;
        if (!review || !letter || !query || (review.kind !== "复查" && review.kind !== "复核") ||
            !/^\d{4}-\d{2}-\d{2}$/.test(String(review.until)) || review.until < todayIso()) {
          form.hidden = true;
          return;
        }
        request = { letter_code: letter, query_code: query, kind: review.kind };
        title.textContent = "申请" + review.kind;
        intro.textContent = "对" + (review.kind === "复查" ? "处理意见" : "复查意见") + "不服的，可在 " +
          dateZh(review.until) + "（含当日）前向" + (review.body || "复查复核机关") + "申请" + review.kind +
          "。" + (review.kind === "复查" ? "对复查意见仍不服的，可在收到复查意见之日起 30 日内申请复核。" :
          "复核意见为最终意见。");
        form.hidden = false;
      }
    };
  }

  function init() {
    var form = document.getElementById("lookup-form");
    var letterInput = document.getElementById("letter-code");
    var queryInput = document.getElementById("query-code");
    var result = document.getElementById("lookup-result");
    var button = document.getElementById("lookup-submit");
    if (!form || !letterInput || !queryInput || !result) return;
    var feedback = feedbackForm();
    var review = reviewForm();
    var given = new URLSearchParams(window.location.search).get("code");
    if (given) letterInput.value = given.trim();
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var typed = [letterInput.value, queryInput.value];
      button.disabled = true;
      if (feedback) feedback.hide();
      if (review) review.hide();
      result.setAttribute("data-status", "loading");
      result.textContent = "正在查询……";
      var entry = null;
      try {
        entry = await lookup(letterInput.value, queryInput.value);
      } catch (e) {
        entry = null;
      }
      show(result, entry, normaliseLetter(letterInput.value));
      if (feedback) feedback.offer(entry, normaliseLetter(typed[0]), normaliseQuery(typed[1]));
      if (review) review.offer(entry, normaliseLetter(typed[0]), normaliseQuery(typed[1]));
      button.disabled = false;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
