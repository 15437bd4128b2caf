// The board's search page on Pagefind's JavaScript API (no UI bundle): a labelled form, a
// result list and a status line read out by screen readers. Offline: only this site's files.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = new URL("../", script.src);           // the site root, wherever it is hosted
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var moreButton = document.getElementById("search-more");
  var engine = null;
  var latest = 0;

  function load() {
    if (!engine) {
      // One Pagefind bundle per part of the letters (build.search_bundles, listed in
      // pagefind-parts.json): the first is loaded, the others merged into its search.
      var options = { baseUrl: root.pathname, excerptLength: 30 };
      engine = fetch(new URL("pagefind-parts.json", root).href, { cache: "no-cache" }).then(function (response) {
        if (!response.ok) { throw new Error("pagefind-parts.json: " + response.status); }
        return response.json();
      }).then(function (bundles) {
        var bundle = function (name) { return new URL(name + "/", root).pathname; };
        return import(new URL(bundles[0] + "/pagefind.js", root).href).then(function (pf) {
          return pf.options(options).then(function () {
            return Promise.all(bundles.slice(1).map(function (name) {
              return pf.mergeIndex(bundle(name), options);
            }));
          }).then(function () { return pf; });
        });
      });
    }
    return engine;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Words a citizen adds to a subject that the letters do not use ("停车难" is about 停车) and
  // words the letters use for what a citizen calls otherwise. Applied before segmenting.
  var SYNONYMS = [
    [/停车难|停车位难找|没地方停车/g, "停车"], [/看病难|就医难/g, "看病"], [/上学难|入学难/g, "入学"],
    [/暖气不热|暖气|供热/g, "供暖"], [/噪声|扰民|吵闹|太吵|很吵/g, "噪音"], [/路灯坏了|路灯不亮/g, "路灯"],
    [/下水道/g, "排水"], [/垃圾清运|垃圾站/g, "垃圾"]
  ];
  // Words that say nothing of the subject: dropped from a query of several words.
  var STOP = ["的", "了", "吗", "呢", "啊", "吧", "和", "与", "及", "在", "是", "有", "没有", "没",
    "不", "很", "太", "难", "多", "少", "差", "乱", "问题", "请问", "怎么", "怎么办", "为什么",
    "如何", "反映", "关于", "情况", "一下", "我", "我们", "你们"];

  // The query's words: the browser's segmenter (as Pagefind's own), synonyms first, words that
  // say nothing of the subject dropped, and single characters dropped beside longer words
  // (Pagefind matches a word's beginning: "难" would match every 难以).
  function terms(query) {
    var q = query;
    SYNONYMS.forEach(function (s) { q = q.replace(s[0], " " + s[1] + " "); });
    var words = [];
    if (typeof Intl !== "undefined" && Intl.Segmenter) {
      var seg = new Intl.Segmenter("zh", { granularity: "word" });
      Array.from(seg.segment(q)).forEach(function (s) { if (s.isWordLike) { words.push(s.segment); } });
    } else {
      words = q.split(/\s+/).filter(Boolean);
    }
    var kept = words.filter(function (w) { return STOP.indexOf(w) < 0; });
    var long = kept.filter(function (w) { return w.length > 1 || !/[\u3400-\u9fff]/.test(w); });
    var out = long.length ? long : kept;
    return out.filter(function (w, i) { return out.indexOf(w) === i; });
  }

  // A clean excerpt: the sentence of the letter or reply that holds a word Pagefind matched
  // (its excerpt marks them), cut near the match when long; else the letter's first sentence.
  var SENTENCE = /[^。！？；!?;]+[。！？；!?;]?/g;

  function markedWords(excerpt) {
    var found = [];
    String(excerpt).replace(/<mark>([\s\S]*?)<\/mark>/g, function (_, w) {
      var div = document.createElement("div");
      div.innerHTML = w;
      var text = div.textContent.trim();
      if (text && found.indexOf(text) < 0) { found.push(text); }
      return "";
    });
    return found;
  }

  function excerptHtml(page, words) {
    var title = (page.meta && page.meta.title) || "";
    var content = String(page.content || "");
    if (title && content.indexOf(title) === 0) { content = content.slice(title.length); }
    var sentences = (content.replace(/^[.\s]+/, "").match(SENTENCE) || [])
      .map(function (t) { return t.replace(/^[.\s]+/, "").trim(); }).filter(Boolean);
    var hit = sentences.find(function (t) {
      return words.some(function (w) { return t.indexOf(w) >= 0; });
    }) || sentences[0] || "";
    var limit = 90;
    if (hit.length > limit) {
      var at = Math.max(0, Math.min.apply(null, words.map(function (w) {
        var i = hit.indexOf(w); return i < 0 ? hit.length : i;
      }).concat([hit.length])) - 30);
      hit = (at > 0 ? "……" : "") + hit.slice(at, at + limit) + (at + limit < hit.length ? "……" : "");
    }
    var html = escapeHtml(hit);
    words.slice().sort(function (x, y) { return y.length - x.length; }).forEach(function (w) {
      var safe = escapeHtml(w);
      html = html.split(safe).join("\u0001" + safe + "\u0002");
    });
    return html.replace(/\u0001/g, "<mark>").replace(/\u0002/g, "</mark>");
  }

  var PAGE = 10;                                   // results shown at a time: each loads a fragment

  function more(found, shown, mine, note) {
    var next = found.results.slice(shown, shown + PAGE);
    return Promise.all(next.map(function (r) { return r.data(); })).then(function (pages) {
      if (mine !== latest) { return; }
      list.insertAdjacentHTML("beforeend", pages.map(function (p) {
        // Pagefind indexed letters/<code>.html (build.write_search_source): the page is letters/<code>/
        var href = p.url.replace(/\/letters\/([^/]+)\.html$/, "/letters/$1/");
        var facts = p.meta && p.meta.facts ? '<p class="search-result-facts">' + escapeHtml(p.meta.facts) + "</p>" : "";
        return '<li><a class="search-result-link" href="' + escapeHtml(href) + '">' +
          escapeHtml((p.meta && p.meta.title) || href) + "</a>" + facts +
          '<p class="search-result-excerpt">' + excerptHtml(p, markedWords(p.excerpt).concat(found.words)) + "</p></li>";
      }).join(""));
      var count = shown + pages.length;
      status.textContent = found.results.length
        ? note + "找到 " + found.results.length + " 封来信" + (found.results.length > count ? "，显示前 " + count + " 封" : "") + "。"
        : "";
      moreButton.hidden = found.results.length <= count;
      moreButton.onclick = function () { more(found, count, mine, note); };
    });
  }

  // All the query's words first; when no letter has them all, the letters with any of them,
  // those with more of the words first (a citizen's phrase is not the letters' wording).
  function find(pf, words) {
    return pf.search(words.join(" ")).then(function (all) {
      if (all.results.length || words.length < 2) { return { results: all.results, words: words, partial: false }; }
      return Promise.all(words.map(function (w) { return pf.search(w); })).then(function (each) {
        var seen = {};
        each.forEach(function (found) {
          found.results.forEach(function (r) {
            var s = seen[r.id] || (seen[r.id] = { result: r, hits: 0, score: 0 });
            s.hits += 1; s.score += r.score;
          });
        });
        var merged = Object.keys(seen).map(function (k) { return seen[k]; });
        merged.sort(function (x, y) { return y.hits - x.hits || y.score - x.score; });
        return { results: merged.map(function (s) { return s.result; }), words: words, partial: true };
      });
    });
  }

  function show(query) {
    var mine = ++latest;
    list.innerHTML = "";
    moreButton.hidden = true;
    if (!query.trim()) { status.textContent = ""; return; }
    status.textContent = "正在搜索……";
    var words = terms(query);
    if (!words.length) { words = [query.trim()]; }
    load().then(function (pf) { return find(pf, words); }).then(function (found) {
      if (mine !== latest) { return null; }
      if (!found.results.length) {
        status.textContent = "没有找到包含“" + query + "”的来信。可换一个说法，或按类别、月份浏览。";
        return null;
      }
      var note = found.partial ? "没有同时包含“" + words.join("”“") + "”的来信；按包含其中词语的多少排列，" : "";
      return more(found, 0, mine, note);
    }).catch(function () {
      status.textContent = "搜索暂时不可用。可按类别或月份浏览。";
    });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { show(input.value); }, 250);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    show(input.value);
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { input.value = q; show(q); }
})();
