/*
 * Quote finder page: phrase search with filters, highlights and pagination;
 * copy as a referenced quotation or as plain text; export of selected quotes
 * as Markdown and CSV; and the quote check panel (POST /v1/verify).
 * Shares its reference and copy helpers with widget.js (window.BriefingQA).
 * Document text is only ever set with textContent.
 */
(() => {
  "use strict";
  const Q = window.BriefingQA;
  const { h } = Q;
  const API = location.origin;
  const PAGE_SIZE = 10;

  const $ = (id) => document.getElementById(id);
  const form = $("search-form"), qInput = $("q"), docSelect = $("doc"), sectionSelect = $("section"), kindSelect = $("kind");
  const area = $("results-area"), resultsEl = $("results"), titleEl = $("results-title"), pager = $("pagination"), status = $("search-status");
  const selCount = $("selection-count"), exportMd = $("export-md"), exportCsv = $("export-csv"), clearSel = $("clear-selection");

  let docs = new Map();
  const selected = new Map(); // passage id -> passage (kept across pages and searches)
  let lastState = null;

  function say(text) {
    status.textContent = "";
    setTimeout(() => { status.textContent = text; }, 50);
  }

  // ---- API key: when the service requires keys (BRIEFING_QA_API_KEYS), the
  // first 401 shows a form for a read key, kept for this tab only
  // (sessionStorage) and passed to the chat widget on the page too.
  const KEY_STORE = "briefing-qa-api-key";
  const keyForm = $("key-form"), keyInput = $("api-key"), keyError = $("key-error");
  const chat = document.querySelector("briefing-qa-chat");
  let apiKey = "";
  try { apiKey = sessionStorage.getItem(KEY_STORE) || ""; } catch (_) { /* storage blocked */ }
  if (apiKey && chat) chat.setAttribute("api-key", apiKey);

  function headers(extra) {
    const hd = { Accept: "application/json", ...(extra || {}) };
    if (apiKey) hd["X-API-Key"] = apiKey;
    return hd;
  }

  class KeyNeeded extends Error {}

  async function call(path, init) {
    const resp = await fetch(API + path, { ...(init || {}), headers: headers((init || {}).headers) });
    if (resp.status === 401) {
      askForKey(apiKey ? "That key was not accepted. Check it and try again." : "");
      throw new KeyNeeded("This service needs an API key: enter it above.");
    }
    if (!resp.ok) throw new Error(await Q.problemMessage(resp));
    return Q.absoluteUrls(await resp.json(), API);
  }

  const getJSON = (path) => call(path);

  function askForKey(error) {
    const wasHidden = keyForm.hidden;
    keyForm.hidden = false;
    keyError.hidden = !error;
    keyError.textContent = error ? `Error: ${error}` : "";
    if (error) keyInput.setAttribute("aria-invalid", "true");
    else keyInput.removeAttribute("aria-invalid");
    if (wasHidden || error) keyInput.focus();
  }

  keyForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    if (!key) { askForKey("Enter the API key your intranet team gave you."); return; }
    apiKey = key;
    try { sessionStorage.setItem(KEY_STORE, key); } catch (_) { /* tab only */ }
    if (chat) chat.setAttribute("api-key", key);
    try {
      await loadDocuments();
    } catch (err) {
      return; // a 401 has shown the form again, with its error
    }
    keyForm.hidden = true;
    keyInput.value = "";
    say("API key accepted.");
    await applyState(readState());
    // To the search box, unless the reader has already moved on (typing in
    // the chat widget while the key was checked): never take focus from
    // where someone is typing.
    const at = document.activeElement;
    if (!at || at === document.body || keyForm.contains(at)) qInput.focus();
  });

  // ---- state in the address bar, so results can be shared and the back button works
  function readState() {
    const p = new URLSearchParams(location.search);
    return {
      q: p.get("q") || "", document_id: p.get("document_id") || "", section: p.get("section") || "",
      kind: p.get("kind") || "", page: Math.max(1, parseInt(p.get("page"), 10) || 1),
    };
  }

  function stateUrl(s) {
    const p = new URLSearchParams();
    for (const k of ["q", "document_id", "section", "kind"]) if (s[k]) p.set(k, s[k]);
    if (s.page > 1) p.set("page", String(s.page));
    const qs = p.toString();
    return location.pathname + (qs ? "?" + qs : "") + "#find";
  }

  function formState(page) {
    return { q: qInput.value.trim(), document_id: docSelect.value, section: sectionSelect.disabled ? "" : sectionSelect.value,
      kind: kindSelect.value, page: page || 1 };
  }

  // ---- documents and sections ----------------------------------------------
  async function loadDocuments() {
    const body = await getJSON("/v1/documents");
    docs = new Map(body.documents.map((d) => [d.id, d]));
    const list = $("doc-list");
    docSelect.replaceChildren(docSelect.options[0]);
    list.replaceChildren();
    for (const d of docs.values()) {
      docSelect.append(h("option", { value: d.id }, d.title));
      list.append(h("li", {}, `${d.publisher || "Unknown publisher"} (${d.year || "n.d."}) `, h("i", {}, d.title),
        d.url ? [". ", h("a", { href: d.url }, "Source", h("span", { class: "vh" }, `: ${d.title}`))] : ""));
    }
  }

  async function loadSections(docId, selectedPath) {
    sectionSelect.replaceChildren(h("option", { value: "" }, "All sections"));
    if (!docId) {
      sectionSelect.disabled = true;
      $("section-hint").textContent = "Choose a document first.";
      return;
    }
    const d = await getJSON(`/v1/documents/${encodeURIComponent(docId)}`);
    const walk = (nodes, path) => {
      for (const n of nodes) {
        const p = [...path, n.title];
        // A leading separator anchors the path at the top: the section
        // chosen, not a namesake deeper in the tree ("Introduction › Neglect").
        const value = Q.SEP.trim() + " " + p.join(Q.SEP);
        sectionSelect.append(h("option", { value, selected: value === selectedPath }, "\u00a0\u00a0".repeat(p.length - 1) + (p.length > 1 ? "– " : "") + n.title));
        walk(n.children || [], p);
      }
    };
    walk(d.section_tree || [], []);
    sectionSelect.disabled = false;
    $("section-hint").textContent = "Results from this section and the sections inside it.";
  }

  // ---- search ------------------------------------------------------------------
  async function search(state, opts) {
    lastState = state;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String((state.page - 1) * PAGE_SIZE) });
    if (state.q) params.set("q", state.q);
    if (state.document_id) params.set("document_id", state.document_id);
    if (state.section) params.set("section", state.section);
    if (state.kind) params.set("kind", state.kind);
    area.hidden = false;
    area.setAttribute("aria-busy", "true");
    titleEl.textContent = "Searching…";
    say("Searching…");
    let body;
    try {
      body = await getJSON(`/v1/search?${params}`);
    } catch (err) {
      resultsEl.replaceChildren();
      pager.replaceChildren();
      titleEl.textContent = "The search could not be completed";
      resultsEl.append(h("li", { class: "result" }, h("p", {}, err.message || "The service could not be reached."),
        h("button", { type: "button", class: "button secondary", onclick: () => search(state, opts) }, "Try again")));
      say(`The search could not be completed. ${err.message || ""}`);
      area.removeAttribute("aria-busy");
      return;
    }
    area.removeAttribute("aria-busy");
    renderResults(body, state);
    if (opts && opts.focus) titleEl.focus();
  }

  function describeFilters(state) {
    const bits = [];
    if (state.document_id && docs.get(state.document_id)) bits.push(`in ${docs.get(state.document_id).title}`);
    if (state.section) bits.push(`section ${state.section}`);
    if (state.kind) bits.push(`kind: ${Q.KIND_LABELS[state.kind] || state.kind}`);
    return bits.join(", ");
  }

  function renderResults(body, state) {
    const total = body.total;
    const first = (state.page - 1) * PAGE_SIZE + 1;
    const last = first + body.results.length - 1;
    const what = state.q ? `for ${state.q}` : "";
    const filters = describeFilters(state);
    // A word no passage uses, one letter from the documents' own: offer their spelling.
    const better = body.did_you_mean;
    const offer = $("did-you-mean");
    offer.hidden = !better;
    offer.replaceChildren(...(better ? ["Did you mean ", h("a", { href: stateUrl({ ...state, q: better, page: 1 }), onclick: (e) => {
      e.preventDefault();
      const s = { ...state, q: better, page: 1 };
      qInput.value = better;
      history.pushState(s, "", stateUrl(s));
      search(s, { focus: true });
    } }, better), "?"] : []));
    if (!total) {
      titleEl.textContent = "No quotes found";
      resultsEl.replaceChildren(h("li", { class: "result empty" },
        h("p", {}, `No passage ${[what, filters].filter(Boolean).join(", ")} was found.`),
        h("p", {}, "Check the spelling, use fewer words, or remove a filter. An exact phrase in double quotes must appear word for word.")));
      pager.replaceChildren();
      say(`No quotes found ${what}.${better ? ` Did you mean ${better}?` : ""}`);
      return;
    }
    titleEl.textContent = total === 1 ? "1 quote found" : `${total} quotes found` + (total > PAGE_SIZE ? ` (showing ${first} to ${last})` : "");
    resultsEl.replaceChildren(...body.results.map((p) => renderResult(p)));
    renderPager(total, state);
    say(`${total} ${total === 1 ? "quote" : "quotes"} found ${what}${filters ? ", " + filters : ""}. Showing ${first} to ${last}.${better ? ` Did you mean ${better}?` : ""}`);
  }

  function renderResult(p) {
    const c = p.citation;
    const doc = docs.get(c.document_id);
    const n = p.rank;
    const box = h("input", { type: "checkbox", checked: selected.has(p.id), "data-select": p.id });
    const li = h("li", { class: "result" + (selected.has(p.id) ? " is-selected" : ""), "data-passage-id": p.id });
    box.addEventListener("change", () => {
      if (box.checked) selected.set(p.id, p); else selected.delete(p.id);
      li.classList.toggle("is-selected", box.checked);
      updateSelection();
    });
    const meta = [];
    if (c.pages) meta.push(Q.pagesLabel(c.pages, true).replace(/^p/, "P"));
    if (p.also_in && p.also_in.length) meta.push("Also in: " + p.also_in.map((a) => Q.breadcrumb(a) + (a.pages ? ` (${Q.pagesLabel(a.pages)})` : "")).join("; "));
    const copyRef = h("button", { type: "button", class: "button secondary small", "data-copy": "reference" }, "Copy with reference", h("span", { class: "vh" }, ` (result ${n})`));
    const copyPlain = h("button", { type: "button", class: "button secondary small", "data-copy": "plain" }, "Copy text only", h("span", { class: "vh" }, ` (result ${n})`));
    copyRef.addEventListener("click", () => doCopy(copyRef, Q.quotationWithReference(p.quote, c, doc), "Quote and reference copied."));
    copyPlain.addEventListener("click", () => doCopy(copyPlain, { text: p.quote }, "Quote copied as plain text."));
    li.append(
      h("div", { class: "result-head" },
        h("h4", {}, h("span", { class: "vh" }, `Result ${n}: `), (c.section_path || []).join(Q.SEP) || c.document_title,
          h("span", { class: "doc-title" }, c.document_title)),
        p.kind && p.kind !== "text" ? h("span", { class: "tag" }, Q.KIND_LABELS[p.kind] || p.kind) : null),
      h("blockquote", { class: "quote", cite: c.url || null, "data-quote": "" }, Q.renderQuote(p.quote, p.highlights)),
      meta.length ? h("p", { class: "meta" }, meta.join(" · ")) : null,
      h("div", { class: "result-actions" },
        h("label", { class: "select-box" }, box, "Select", h("span", { class: "vh" }, ` result ${n} for export`)),
        copyRef, copyPlain,
        c.url ? h("a", { href: c.url, target: "_blank", rel: "noopener" }, "Open in the source", h("span", { class: "vh" }, ` (result ${n}, opens in a new tab)`)) : null));
    return li;
  }

  async function doCopy(button, content, message) {
    const label = button.firstChild;
    const was = label.textContent;
    try {
      await Q.copyText(content.text, content.html);
      button.dataset.copied = content.text;
      label.textContent = "Copied";
      say(message);
      setTimeout(() => { label.textContent = was; }, 2500);
    } catch (_) {
      say("Copying failed. Select the text and copy it yourself.");
    }
  }

  function renderPager(total, state) {
    const pages = Math.ceil(total / PAGE_SIZE);
    pager.replaceChildren();
    if (pages <= 1) return;
    const link = (page, text, rel) => {
      const s = { ...state, page };
      const a = h("a", { href: stateUrl(s), rel: rel || null, "data-page": page }, text);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        history.pushState(s, "", stateUrl(s));
        search(s, { focus: true });
      });
      return a;
    };
    const items = [];
    if (state.page > 1) items.push(link(state.page - 1, "‹ Previous", "prev"));
    const shown = new Set([1, pages, state.page - 1, state.page, state.page + 1].filter((x) => x >= 1 && x <= pages));
    let prev = 0;
    for (const n of [...shown].sort((a, b) => a - b)) {
      if (n - prev > 1) items.push(h("span", { "aria-hidden": "true" }, "…"));
      items.push(n === state.page
        ? h("span", { class: "current", "aria-current": "page" }, h("span", { class: "vh" }, "Page "), String(n))
        : link(n, [h("span", { class: "vh" }, "Page "), String(n)]));
      prev = n;
    }
    if (state.page < pages) items.push(link(state.page + 1, "Next ›", "next"));
    pager.append(h("ul", {}, items.map((i) => h("li", {}, i))));
  }

  // ---- selection and export ------------------------------------------------------
  function updateSelection() {
    const n = selected.size;
    selCount.textContent = n === 0 ? "No quotes selected" : n === 1 ? "1 quote selected" : `${n} quotes selected`;
    for (const b of [exportMd, exportCsv, clearSel]) b.disabled = n === 0;
  }

  function mdEscape(s) {
    return s.replace(/([\\`*_[\]<>#|])/g, "\\$1");
  }

  function toMarkdown(items) {
    const date = new Date().toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
    const out = ["# Quotes from safeguarding guidance", "", `Exported from Briefing QA on ${date}. Each quote is word for word from its source.`, ""];
    for (const p of items) {
      const c = p.citation, doc = docs.get(c.document_id);
      out.push(`## ${mdEscape(Q.breadcrumb(c))}`, "");
      for (const line of p.quote.split("\n")) out.push(line.trim() ? `> ${mdEscape(line)}` : ">");
      out.push("", Q.inTextCitation(c, doc), "");
      let ref = Q.reference(c, doc);
      if (doc) ref = ref.replace(doc.title + ".", `*${mdEscape(doc.title)}*.`);
      out.push(ref, "");
      if (c.url) out.push(`Link to the passage: <${c.url}>`, "");
    }
    return out.join("\n");
  }

  function csvCell(v) {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+@\t\r]/.test(s)) s = "'" + s; // keep spreadsheets from running a cell as a formula
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function toCsv(items) {
    const head = ["quote", "document", "publisher", "year", "section", "pages", "kind", "reference", "link", "document_id", "start", "end"];
    const rows = [head];
    for (const p of items) {
      const c = p.citation, doc = docs.get(c.document_id) || {};
      rows.push([p.quote, c.document_title, doc.publisher || "", doc.year || "n.d.", (c.section_path || []).join(Q.SEP),
        c.pages ? (c.pages[0] === c.pages[1] ? c.pages[0] : `${c.pages[0]}–${c.pages[1]}`) : "", Q.KIND_LABELS[p.kind] || p.kind,
        Q.reference(c, docs.get(c.document_id)), c.url || "", c.document_id, p.source_offsets[0], p.source_offsets[1]]);
    }
    return "\ufeff" + rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
  }

  function download(name, type, content) {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function selectedInOrder() {
    return [...selected.values()];
  }

  exportMd.addEventListener("click", () => {
    download("quotes.md", "text/markdown;charset=utf-8", toMarkdown(selectedInOrder()));
    say(`${selected.size} ${selected.size === 1 ? "quote" : "quotes"} exported as Markdown.`);
  });
  exportCsv.addEventListener("click", () => {
    download("quotes.csv", "text/csv;charset=utf-8", toCsv(selectedInOrder()));
    say(`${selected.size} ${selected.size === 1 ? "quote" : "quotes"} exported as CSV.`);
  });
  clearSel.addEventListener("click", () => {
    selected.clear();
    resultsEl.querySelectorAll("input[data-select]").forEach((b) => { b.checked = false; b.closest(".result").classList.remove("is-selected"); });
    updateSelection();
    say("Selection cleared.");
    qInput.focus();
  });

  // ---- quote check ---------------------------------------------------------------
  const vForm = $("verify-form"), vQuote = $("verify-quote"), vResult = $("verify-result"), vError = $("verify-error");

  function where(c) {
    return [Q.breadcrumb(c), c.pages ? Q.pagesLabel(c.pages, true) : null].filter(Boolean).join(", ");
  }

  function sourceActions(text, c, label) {
    const doc = docs.get(c.document_id);
    const copy = h("button", { type: "button", class: "button secondary small", "data-copy": "reference" }, "Copy with reference", h("span", { class: "vh" }, label ? ` (${label})` : ""));
    copy.addEventListener("click", () => doCopy(copy, Q.quotationWithReference(text, c, doc), "Quote and reference copied."));
    return h("div", { class: "result-actions" }, copy,
      c.url ? h("a", { href: c.url, target: "_blank", rel: "noopener" }, "Open in the source", h("span", { class: "vh" }, " (opens in a new tab)")) : null);
  }

  // The source span of an elided quote, with the parts the quote keeps marked.
  function markedParts(m) {
    const bq = h("blockquote", { class: "quote", "data-source-text": "" });
    const base = m.source_offsets[0];
    let at = 0;
    for (const [s, e] of m.parts) {
      if (s - base > at) bq.append(m.text.slice(at, s - base));
      bq.append(h("mark", {}, m.text.slice(s - base, e - base)));
      at = e - base;
    }
    return bq;
  }

  function renderVerdict(v) {
    if (v.found) {
      const elided = v.matches.some((m) => m.parts && m.parts.length);
      const items = v.matches.map((m, i) => h("li", { "data-match": "" },
        h("p", {}, h("strong", {}, where(m.citation)), `, characters ${m.source_offsets[0]}–${m.source_offsets[1]}.`),
        m.parts && m.parts.length
          ? [h("p", {}, "The parts your quote keeps are marked; the source reads in full:"), markedParts(m)]
          : m.identical ? null : [h("p", {}, "Only spacing, quote marks, dashes or bullets differ. The source reads:"),
            h("blockquote", { class: "quote" }, m.text)],
        sourceActions(m.text, m.citation, `place ${i + 1}`)));
      const where_ = v.matches.length === 1 ? "in one place" : `in ${v.matches.length} places`;
      return h("div", { class: "verdict found", "data-verdict": elided ? "found-elided" : "found" },
        h("h3", { tabindex: "-1" }, elided ? "Found, with words left out" : "Found word for word"),
        h("p", {}, elided ? `Each part of the quote stands word for word, in order, ${where_}:` : `The quote stands exactly ${where_}:`),
        h("ul", {}, items));
    }
    if (!v.closest) {
      return h("div", { class: "verdict not-found", "data-verdict": "not-found" },
        h("h3", { tabindex: "-1" }, "Not found in the guidance"),
        h("p", {}, "This quote is not in the documents, and no passage is close to it. Check where it came from before using it."));
    }
    const c = v.closest;
    const diff = h("p", { class: "diff", "data-diff": "" });
    c.differences.forEach((d, i) => {
      if (i) diff.append(" ");
      if (d.op === "equal") diff.append(d.source);
      if (d.op === "changed" || d.op === "inserted") diff.append(h("del", {}, h("span", { class: "vh" }, "[your quote has: "), d.quote, h("span", { class: "vh" }, "]")));
      if (d.op === "changed") diff.append(" ");
      if (d.op === "changed" || d.op === "deleted") diff.append(h("ins", {}, h("span", { class: "vh" }, "[the source has: "), d.source, h("span", { class: "vh" }, "]")));
    });
    const changes = c.differences.filter((d) => d.op !== "equal").length;
    // Words are matched blind to case: a quote typed in capitals differs only there.
    const norm = (t) => t.toLowerCase().replace(/\s+/g, " ").trim();
    const caseOnly = c.differences.every((d) => d.op === "equal" || (d.op === "changed" && norm(d.quote) === norm(d.source)));
    return h("div", { class: "verdict not-found", "data-verdict": "closest" },
      h("h3", { tabindex: "-1" }, "Not found word for word"),
      caseOnly
        ? h("p", { "data-case-only": "" }, `The same words are in ${where(c.citation)}, with different capitals:`)
        : h("p", {}, `The closest passage is in ${where(c.citation)} (${Math.round(c.similarity * 100)}% of the words match). `,
          changes === 1 ? "There is 1 difference:" : `There are ${changes} differences:`),
      h("p", { class: "legend" }, h("del", {}, "Struck through"), ": in your quote, not in the source. ",
        h("ins", {}, "Underlined"), ": in the source, not in your quote."),
      diff,
      h("h4", {}, "The source reads"),
      h("blockquote", { class: "quote", "data-source-text": "" }, c.text),
      sourceActions(c.text, c.citation));
  }

  vForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const quote = vQuote.value;
    if (!quote.trim()) {
      vError.hidden = false;
      vError.replaceChildren(h("span", { class: "vh" }, "Error: "), "Paste a quote to check.");
      vQuote.setAttribute("aria-invalid", "true");
      vQuote.setAttribute("aria-describedby", "verify-error");
      vQuote.focus();
      return;
    }
    vError.hidden = true;
    vQuote.removeAttribute("aria-invalid");
    vQuote.removeAttribute("aria-describedby");
    vResult.replaceChildren(h("p", {}, "Checking the quote…"));
    try {
      const verdict = await call("/v1/verify", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ quote }),
      });
      vResult.replaceChildren(renderVerdict(verdict));
    } catch (err) {
      vResult.replaceChildren(h("div", { class: "verdict not-found", "data-verdict": "error" },
        h("h3", { tabindex: "-1" }, "The quote could not be checked"), h("p", {}, err.message || "The service could not be reached.")));
    }
  });

  // ---- wiring ----------------------------------------------------------------------
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const s = formState(1);
    history.pushState(s, "", stateUrl(s));
    search(s, { focus: true });
  });
  docSelect.addEventListener("change", () => loadSections(docSelect.value, "").catch(() => {}));

  async function applyState(s, opts) {
    qInput.value = s.q;
    docSelect.value = s.document_id;
    kindSelect.value = s.kind;
    await loadSections(s.document_id, s.section).catch(() => {});
    if (s.q || s.document_id || s.section || s.kind) await search(s, opts);
    else { area.hidden = true; lastState = null; }
  }

  window.addEventListener("popstate", () => applyState(readState(), { focus: true }));

  loadDocuments()
    .catch((err) => { if (!(err instanceof KeyNeeded)) say("The list of documents could not be loaded."); })
    .then(() => applyState(readState()));
  updateSelection();
})();
