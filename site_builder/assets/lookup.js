/* Status lookup (在线查询): WebCrypto only, algorithm in docs/lookup.md.
 * PBKDF2-HMAC-SHA256(query code, salt ‖ letter code) → HKDF id / key → shard → AES-GCM. */
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
      metaPromise = fetch(new URL("meta.json", base), { cache: "no-cache" }).then(function (r) {
        if (!r.ok) throw new Error("meta");
        return r.json();
      });
      metaPromise.catch(function () { metaPromise = null; });
    }
    return metaPromise;
  }

  async function hkdf(ikm, info, bytes) {
    var key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
    var bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(info) }, key, bytes * 8);
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
    if (m.format !== "letterbox-lookup" || m.version !== 1) return null;
    var salt = concat(hexToBytes(m.kdf.salt), enc.encode(letter));
    var password = await crypto.subtle.importKey("raw", enc.encode(query), "PBKDF2", false, ["deriveBits"]);
    var idBytes = m.hkdf.id_bytes, nonceBytes = m.cipher.nonce_bytes, size = m.entry_bytes;
    for (var k = 0; k < m.kdf.iterations.length; k++) {
      var slow = new Uint8Array(await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: m.kdf.iterations[k] }, password, 256));
      var id = await hkdf(slow, m.hkdf.id_info, idBytes);
      var response = await fetch(new URL("shards/" + shardName(id, m.prefix_bits), base));
      if (!response.ok) continue;
      var data = new Uint8Array(await response.arrayBuffer());
      for (var start = 0; start + size <= data.length; start += size) {
        if (!same(data.subarray(start, start + idBytes), id)) continue;
        var keyBytes = await hkdf(slow, m.hkdf.key_info, m.hkdf.key_bytes);
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
    row("办理状态", entry.status_zh, "lookup-status");
    row("收信日期", entry.received && dateZh(entry.received));
    row("承办单位", (entry.units || []).join("、"));
    row("办理期限", entry.deadline && dateZh(entry.deadline));
    row("已同意延期", entry.extension_days ? entry.extension_days + " 个工作日" : "");
    row("不予受理理由", entry.reject_reason);
    row("答复日期", entry.answered && dateZh(entry.answered));
    if (entry.link && /^\.\.\/letters\/[A-Z0-9-]+\/$/.test(entry.link)) {
      var a = el("a", "查看公开的来信与答复");
      a.href = new URL(entry.link, base).href;
      row("公开页面", a);
    }
    result.appendChild(table);
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

  function init() {
    var form = document.getElementById("lookup-form");
    var letterInput = document.getElementById("letter-code");
    var queryInput = document.getElementById("query-code");
    var result = document.getElementById("lookup-result");
    var button = document.getElementById("lookup-submit");
    if (!form || !letterInput || !queryInput || !result) return;
    var given = new URLSearchParams(window.location.search).get("code");
    if (given) letterInput.value = given.trim();
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      result.setAttribute("data-status", "loading");
      result.textContent = "正在查询……";
      var entry = null;
      try {
        entry = await lookup(letterInput.value, queryInput.value);
      } catch (e) {
        entry = null;
      }
      show(result, entry, normaliseLetter(letterInput.value));
      button.disabled = false;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
