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
      var options = { baseUrl: root.pathname, excerptLength: 40 };
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

  // Pagefind marks hits with <mark>; keep those and nothing else of the excerpt's markup.
  function excerptHtml(excerpt) {
    var plain = String(excerpt).replace(/<mark>/g, "\u0001").replace(/<\/mark>/g, "\u0002")
      .replace(/<[^>]*>/g, "");
    var div = document.createElement("div");
    div.innerHTML = plain;                          // decode entities only (no tags left)
    return escapeHtml(div.textContent).replace(/\u0001/g, "<mark>").replace(/\u0002/g, "</mark>");
  }

  var PAGE = 10;                                   // results shown at a time: each loads a fragment

  function more(found, shown, mine) {
    var next = found.results.slice(shown, shown + PAGE);
    return Promise.all(next.map(function (r) { return r.data(); })).then(function (pages) {
      if (mine !== latest) { return; }
      list.insertAdjacentHTML("beforeend", pages.map(function (p) {
        // Pagefind indexed letters/<code>.html (build.write_search_source): the page is letters/<code>/
        var href = p.url.replace(/\/letters\/([^/]+)\.html$/, "/letters/$1/");
        return '<li><a class="search-result-link" href="' + escapeHtml(href) + '">' +
          escapeHtml((p.meta && p.meta.title) || href) + "</a><p>" + excerptHtml(p.excerpt) + "</p></li>";
      }).join(""));
      var count = shown + pages.length;
      status.textContent = found.results.length
        ? "找到 " + found.results.length + " 封来信" + (found.results.length > count ? "，显示前 " + count + " 封" : "") + "。"
        : "";
      moreButton.hidden = found.results.length <= count;
      moreButton.onclick = function () { more(found, count, mine); };
    });
  }

  function show(query) {
    var mine = ++latest;
    list.innerHTML = "";
    moreButton.hidden = true;
    if (!query.trim()) { status.textContent = ""; return; }
    status.textContent = "正在搜索……";
    load().then(function (pf) { return pf.search(query); }).then(function (found) {
      if (mine !== latest) { return null; }
      if (!found.results.length) {
        status.textContent = "没有找到包含“" + query + "”的来信。";
        return null;
      }
      return more(found, 0, mine);
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
