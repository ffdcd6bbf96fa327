/*
 * Briefing QA chat widget: <briefing-qa-chat>.
 *
 *   <script src="https://briefing-qa.example/widget.js" defer></script>
 *   <briefing-qa-chat heading="Ask the safeguarding guidance" passages="3"></briefing-qa-chat>
 *
 * A web component with an open Shadow DOM, so intranet CSS cannot break it
 * and accessibility checkers can still see inside. No build step, no network
 * access but the Briefing QA API it was loaded from (or `api-base`).
 *
 * It never shows text that is not from the documents: every quote is the
 * API's `quote` (an exact slice of a source document), rendered with
 * textContent; the only other text is this file's own interface wording and
 * the configured safety notice.
 *
 * Attributes (all optional):
 *   api-base        API base URL (default: where widget.js was loaded from)
 *   heading         title shown at the top (alias: title)
 *   heading-level   2..6, the level of that title (default 2)
 *   passages        how many passages to show, 1..20 (default 3)
 *   document-ids    only search these documents (comma separated ids)
 *   api-key         a read key, sent as X-API-Key, when the API requires keys
 *                   (BRIEFING_QA_API_KEYS); it is visible to anyone who can see the page
 *   safety-notice   the notice shown when a question suggests a child is in immediate danger
 *   danger-phrases  phrases that show it (comma or semicolon separated; a phrase
 *                   matches anywhere in the question, case-insensitively)
 * Server defaults for the last two come from GET /v1/widget-config
 * (BRIEFING_QA_SAFETY_NOTICE, BRIEFING_QA_DANGER_PHRASES); attributes win.
 *
 * It also defines window.BriefingQA: the reference and copy helpers the
 * quote finder page shares with the widget.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const SCRIPT_BASE = script && script.src ? new URL(".", new URL(script.src, location.href)).href.replace(/\/$/, "") : location.origin;

  const DEFAULT_NOTICE =
    "If a child is in immediate danger, call 999. Otherwise, contact your local children’s social care team or your designated safeguarding lead.";
  const DEFAULT_DANGER_PHRASES = [
    "immediate danger", "in danger now", "in danger right now", "in danger tonight", "at risk right now", "at risk tonight",
    "being hurt right now", "being hurt now", "is being hurt", "being abused right now", "being abused now",
    "going to kill", "threatened to kill", "threatening to kill", "kill himself", "kill herself", "kill themselves",
    "suicid", "unsafe tonight", "not safe tonight", "not safe at home tonight", "not safe to go home",
    "scared to go home", "afraid to go home", "locked in", "missing tonight", "overdose",
  ];
  const KIND_LABELS = {
    key_message: "Key message", learning_points: "Learning points", reflective_questions: "Reflective questions",
    example: "Example", table: "Table", text: "Text",
  };
  const SEP = " › ";

  // ---- helpers shared with the quote finder page ----------------------------

  /** An element with attributes; string children become text nodes (never HTML). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function splitList(value) {
    return String(value || "").split(/[;,]/).map((s) => s.trim()).filter(Boolean);
  }

  // Mirrors analysis.fold on the server: its character table (quote marks,
  // dashes, bullets, invisible characters) comes with /v1/widget-config, and
  // white space, NFKC and case are folded here; tests/data/analysis_vectors.json
  // holds the cases both must agree on.
  let FOLD = {};

  function fold(s) {
    let out = "";
    for (const ch of String(s)) {
      let rep = FOLD[ch];
      if (rep === undefined) rep = ch.codePointAt(0) > 127 ? ch.normalize("NFKC") : ch;
      out += /^[\s\x00-\x1f\x7f-\x9f]/.test(rep) ? " " : rep;
    }
    return out.replace(/\s+/g, " ").trim().toLowerCase();
  }

  function suggestsDanger(question, phrases) {
    const q = fold(question);
    return phrases.some((p) => p && q.includes(fold(p).trim()));
  }

  function pagesLabel(pages, long) {
    if (!pages) return "";
    if (pages[0] === pages[1]) return (long ? "page " : "p. ") + pages[0];
    return (long ? "pages " : "pp. ") + pages[0] + "–" + pages[1];
  }

  function accessedDate(d) {
    return (d || new Date()).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  }

  /** The place in the source without the text fragment (for a section rather than a passage). */
  function sectionUrl(url) {
    return url ? url.replace(/:~:.*$/, "").replace(/#$/, "") : url;
  }

  function breadcrumb(citation) {
    return [citation.document_title, ...(citation.section_path || [])].join(SEP);
  }

  /** Harvard-like reference: Publisher (Year) Title. Section: a › b. p. N. Available at: URL (Accessed: date).
   *  `doc` is the document's metadata from /v1/documents; without it, the API's own one-line reference is used. */
  function reference(citation, doc, opts) {
    const accessed = accessedDate(opts && opts.date);
    if (!doc) {
      const ref = citation.reference.replace(/\.?\s*$/, "");
      return /Available at:/.test(ref) ? `${ref} (Accessed: ${accessed}).` : `${ref}.`;
    }
    const parts = [`${doc.publisher || "Unknown publisher"} (${doc.year || "n.d."}) ${doc.title}.`];
    if (citation.section_path && citation.section_path.length) parts.push(`Section: ${citation.section_path.join(SEP)}.`);
    if (citation.pages) parts.push(`${pagesLabel(citation.pages)}.`);
    if (doc.url) parts.push(`Available at: ${doc.url} (Accessed: ${accessed}).`);
    return parts.join(" ");
  }

  /** (Publisher, Year, p. N) */
  function inTextCitation(citation, doc) {
    const who = doc ? doc.publisher || "Unknown publisher" : citation.document_title;
    const bits = [who, doc ? doc.year || "n.d." : null, citation.pages ? pagesLabel(citation.pages) : null].filter(Boolean);
    return `(${bits.join(", ")})`;
  }

  /** The quotation with its reference, as plain text and as HTML (for Word and slides). */
  function quotationWithReference(quote, citation, doc, opts) {
    const ref = reference(citation, doc, opts);
    const cite = inTextCitation(citation, doc);
    const text = `“${quote}”\n${cite}\n\n${ref}`;
    const box = h("div", {});
    const bq = h("blockquote", {});
    quote.split(/\n{2,}/).forEach((para) => {
      const p = h("p", {});
      para.split("\n").forEach((line, i) => { if (i) p.append(h("br")); p.append(line); });
      bq.append(p);
    });
    box.append(bq, h("p", {}, cite));
    const refP = h("p", {});
    if (doc) {
      refP.append(`${doc.publisher || "Unknown publisher"} (${doc.year || "n.d."}) `, h("i", {}, doc.title), ref.slice(`${doc.publisher || "Unknown publisher"} (${doc.year || "n.d."}) ${doc.title}`.length));
    } else {
      refP.append(ref);
    }
    box.append(refP);
    return { text, html: box.innerHTML };
  }

  /** Copy to the clipboard (rich text where the browser allows); resolves to the plain text copied. */
  async function copyText(text, html) {
    try {
      if (html && window.ClipboardItem && navigator.clipboard && navigator.clipboard.write) {
        await navigator.clipboard.write([new ClipboardItem({
          "text/plain": new Blob([text], { type: "text/plain" }),
          "text/html": new Blob([html], { type: "text/html" }),
        })]);
        return text;
      }
    } catch (_) { /* fall through to plain text */ }
    try {
      await navigator.clipboard.writeText(text);
      return text;
    } catch (_) {
      // Older browsers and non-secure pages: a hidden text area and execCommand.
      const ta = h("textarea", { readonly: true, "aria-hidden": "true", style: "position:fixed;top:0;left:-9999px;opacity:0" });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      const ok = document.execCommand && document.execCommand("copy");
      ta.remove();
      if (!ok) throw new Error("copy failed");
      return text;
    }
  }

  /** The quote as text nodes, with the highlighted spans in <mark>. Never innerHTML. */
  function renderQuote(quote, highlights, markLabel) {
    const frag = document.createDocumentFragment();
    const spans = (highlights || []).filter((s) => s[0] < s[1]).sort((a, b) => a[0] - b[0]);
    let pos = 0;
    for (const [s, e] of spans) {
      if (s < pos) continue;
      if (s > pos) frag.append(quote.slice(pos, s));
      const mark = h("mark", {}, quote.slice(s, e));
      if (markLabel) mark.dataset.label = markLabel;
      frag.append(mark);
      pos = e;
    }
    if (pos < quote.length) frag.append(quote.slice(pos));
    return frag;
  }

  function jsonHeaders(key, extra) {
    const headers = { Accept: "application/json", ...(extra || {}) };
    if (key) headers["X-API-Key"] = key;
    return headers;
  }

  const documentCache = new Map();
  /** Document metadata (publisher, year, url...) by id, fetched once per API. */
  // Cached per base URL and key: a page that is given a key later (the quote
  // finder asks for one on a 401) must not keep the empty answer it had before.
  const cacheKey = (base, key) => `${base}\n${key || ""}`;

  function fetchDocuments(base, key) {
    const ck = cacheKey(base, key);
    if (!documentCache.has(ck)) {
      const p = fetch(`${base}/v1/documents`, { headers: jsonHeaders(key) })
        .then((r) => (r.ok ? r.json() : { documents: [] }))
        .then((b) => new Map((b.documents || []).map((d) => [d.id, d])))
        .catch(() => { documentCache.delete(ck); return new Map(); });
      documentCache.set(ck, p);
    }
    return documentCache.get(ck);
  }

  const configCache = new Map();
  function fetchConfig(base, key) {
    const ck = cacheKey(base, key);
    if (!configCache.has(ck)) {
      configCache.set(ck, fetch(`${base}/v1/widget-config`, { headers: jsonHeaders(key) })
        .then((r) => (r.ok ? r.json() : {}))
        .then((c) => { if (c && c.fold) FOLD = c.fold; return c; })
        .catch(() => ({})));
    }
    return configCache.get(ck);
  }

  /**
   * Citation links made relative by the service (it was reached by a host it
   * does not vouch for: no BRIEFING_QA_PUBLIC_URL, not in
   * BRIEFING_QA_ALLOWED_HOSTS) point at the service, not at this page:
   * put the API base before every "url" that starts with one "/".
   */
  function absoluteUrls(data, base) {
    if (Array.isArray(data)) { data.forEach((x) => absoluteUrls(x, base)); return data; }
    if (data && typeof data === "object") {
      for (const [k, v] of Object.entries(data)) {
        if (k === "url" && typeof v === "string" && v.startsWith("/") && !v.startsWith("//")) {
          data[k] = base.replace(/\/+$/, "") + v; // the API base already holds any path prefix
        } else if (v && typeof v === "object") absoluteUrls(v, base);
      }
    }
    return data;
  }

  /** A request that got no answer at all: fetch rejected (network down, or a CORS refusal). */
  class Unreachable extends Error {
    constructor(apiBase) {
      super(unreachableMessage(apiBase));
      this.name = "Unreachable";
    }
  }

  /**
   * Why a service may not be reached. Across origins the usual cause is CORS:
   * the service only answers the origins in BRIEFING_QA_CORS_ORIGINS, and the
   * browser hides its refusal, so name this page's origin and the setting.
   */
  function unreachableMessage(apiBase) {
    let origin = null;
    try { origin = new URL(apiBase, location.href).origin; } catch (_) { /* not a URL */ }
    if (origin && origin !== location.origin) {
      return `The service at ${origin} could not be reached. It may be down, or this page's origin ` +
        `(${location.origin}) may not be allowed: set BRIEFING_QA_CORS_ORIGINS on the service to include it.`;
    }
    return "The service could not be reached. Check your connection and try again.";
  }

  /** A message for a failed request: the problem+json title and detail where there is one. */
  async function problemMessage(resp) {
    try {
      const body = await resp.json();
      if (body && body.title) return body.detail ? `${body.title}: ${body.detail}` : body.title;
    } catch (_) { /* not JSON */ }
    return `The service answered ${resp.status}.`;
  }

  window.BriefingQA = Object.freeze({
    h, reference, inTextCitation, quotationWithReference, copyText, renderQuote, breadcrumb, pagesLabel,
    sectionUrl, fetchDocuments, problemMessage, absoluteUrls, KIND_LABELS, SEP, DEFAULT_NOTICE, DEFAULT_DANGER_PHRASES,
    suggestsDanger, fold, foldLoaded: () => Object.keys(FOLD).length > 0, apiBase: SCRIPT_BASE,
  });

  // ---- the element -----------------------------------------------------------

  const CSS = `
:host { all: initial; display: block; contain: content;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: max(16px, 1rem); line-height: 1.5; color: #0b0c0c; text-align: left; }
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
.box { background: #fff; border: 1px solid #b1b4b6; border-top: 5px solid #1d70b8; padding: 16px; max-width: 100%;
  /* Set here as well as on :host, which the page's own rules can override. */
  color: #0b0c0c; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: max(16px, 1rem); font-weight: 400; font-style: normal; line-height: 1.5; text-align: left;
  letter-spacing: normal; word-spacing: normal; text-transform: none; text-indent: 0; }
.title { font-size: 1.375em; line-height: 1.25; font-weight: 700; margin: 0 0 8px; }
p { margin: 0 0 12px; }
.intro { color: #383f43; }
label { display: block; font-weight: 700; margin-bottom: 4px; }
.hint { color: #505a5f; margin-bottom: 8px; }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: stretch; }
input[type=text] { font: inherit; flex: 1 1 14em; min-width: 0; min-height: 44px; padding: 6px 8px;
  border: 2px solid #0b0c0c; border-radius: 0; background: #fff; color: #0b0c0c; }
input[type=text][aria-invalid=true] { border-color: #d4351c; border-width: 3px; }
.field-error { color: #d4351c; font-weight: 700; margin: 0 0 6px; }
button, .button { font: inherit; font-weight: 600; min-height: 44px; padding: 8px 16px; border: 2px solid transparent;
  border-radius: 0; cursor: pointer; background: #00703c; color: #fff; box-shadow: 0 2px 0 #002d18; }
button:hover { background: #005a30; }
button.secondary { background: #f3f2f1; color: #0b0c0c; box-shadow: 0 2px 0 #929191; font-weight: 400; min-height: 40px; padding: 6px 12px; }
button.secondary:hover { background: #dbdad9; }
button[aria-disabled=true] { opacity: .7; cursor: progress; }
a { color: #1d70b8; text-decoration: underline; text-underline-offset: .15em; text-decoration-thickness: max(1px, .0625rem); }
a:visited { color: #4c2c92; }
a:hover { color: #003078; text-decoration-thickness: max(3px, .1875rem); }
:focus { outline: 3px solid transparent; }
input[type=text]:focus { outline: 3px solid #ffdd00; outline-offset: 0; box-shadow: inset 0 0 0 2px #0b0c0c; }
button:focus-visible, .button:focus-visible { outline: 3px solid transparent; background: #ffdd00; color: #0b0c0c; box-shadow: 0 2px 0 #0b0c0c; border-color: #ffdd00; }
a:focus-visible { outline: 3px solid transparent; color: #0b0c0c; background: #ffdd00; box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; text-decoration: none; }
[tabindex="-1"]:focus { outline: none; }
.turns { list-style: none; margin: 16px 0 0; padding: 0; }
.new-conversation { margin-top: 12px; }
.context-note { margin: 0 0 12px; color: #484949; font-style: italic; }
.turn { border-top: 1px solid #b1b4b6; padding-top: 16px; margin-top: 16px; }
.turn:first-child { border-top: 0; margin-top: 0; }
.asked { font-size: 1.125em; line-height: 1.3; font-weight: 700; margin: 0 0 12px; overflow-wrap: anywhere; }
.asked .label { font-weight: 400; color: #505a5f; }
.notice { display: flex; gap: 12px; align-items: flex-start; border: 4px solid #d4351c; padding: 12px; margin: 0 0 16px; background: #fff; }
.notice .icon { flex: none; display: inline-flex; align-items: center; justify-content: center; width: 34px; height: 34px;
  border-radius: 50%; background: #0b0c0c; color: #fff; font-weight: 700; font-size: 1.5em; line-height: 1; }
.notice p { margin: 0; font-weight: 700; }
.loading { display: flex; gap: 10px; align-items: center; color: #0b0c0c; }
.spinner { width: 20px; height: 20px; border: 3px solid #b1b4b6; border-top-color: #1d70b8; border-radius: 50%; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; border-top-color: #b1b4b6; } }
.summary { color: #383f43; }
.passages { list-style: none; margin: 0; padding: 0; }
.passage { margin: 0 0 20px; }
figure { margin: 0; }
blockquote { display: block; font-style: normal; margin: 0 0 8px; padding: 4px 0 4px 14px; border-left: 5px solid #b1b4b6; white-space: pre-line; overflow-wrap: anywhere; }
mark { background: #fff2a8; color: #0b0c0c; box-shadow: inset 0 -2px 0 #b58900; padding: 0 1px; }
figcaption { font-size: .9375em; color: #383f43; margin: 0 0 6px; }
figcaption p { margin: 0 0 2px; }
.crumb { font-weight: 700; color: #0b0c0c; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-top: 8px; }
.abstain { border-left: 5px solid #505a5f; padding: 4px 0 4px 14px; }
.abstain .lead { font-weight: 700; font-size: 1.125em; }
.abstain ul { margin: 0 0 8px; padding-left: 20px; }
.abstain li { margin-bottom: 6px; overflow-wrap: anywhere; }
.error { border-left: 5px solid #d4351c; padding: 4px 0 4px 14px; }
.error .lead { font-weight: 700; color: #0b0c0c; }
.vh { position: absolute !important; width: 1px !important; height: 1px !important; margin: 0 !important; padding: 0 !important;
  overflow: hidden !important; clip: rect(0 0 0 0) !important; clip-path: inset(50%) !important; border: 0 !important; white-space: nowrap !important; }
@media (max-width: 400px) { .box { padding: 12px; } }
@media (forced-colors: active) { mark { forced-color-adjust: none; background: Mark; color: MarkText; } .box { border-color: CanvasText; } }
`;

  let sheet = null;
  function styles() {
    if (sheet === null) {
      try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch (_) { sheet = false; }
    }
    return sheet;
  }

  let counter = 0;

  class BriefingQAChat extends HTMLElement {
    constructor() {
      super();
      this.uid = `bqa${++counter}`;
      this.root = this.attachShadow({ mode: "open" });
      this.turnCount = 0;
      this.busy = false;
      this.serverConfig = {};
    }

    get apiBase() { return (this.getAttribute("api-base") || SCRIPT_BASE).replace(/\/+$/, ""); }
    get heading() { return this.getAttribute("heading") || this.getAttribute("title") || "Ask the safeguarding guidance"; }
    get headingLevel() { const n = parseInt(this.getAttribute("heading-level"), 10); return n >= 2 && n <= 5 ? n : 2; }
    get passages() { const n = parseInt(this.getAttribute("passages"), 10); return Number.isFinite(n) ? Math.min(20, Math.max(1, n)) : 3; }
    get apiKey() { return this.getAttribute("api-key") || ""; }
    get documentIds() { return splitList(this.getAttribute("document-ids")); }
    get safetyNotice() { return this.getAttribute("safety-notice") || this.serverConfig.safety_notice || DEFAULT_NOTICE; }
    get dangerPhrases() {
      const attr = splitList(this.getAttribute("danger-phrases"));
      if (attr.length) return attr;
      return (this.serverConfig.danger_phrases && this.serverConfig.danger_phrases.length) ? this.serverConfig.danger_phrases : DEFAULT_DANGER_PHRASES;
    }

    static get observedAttributes() { return ["heading", "title", "heading-level", "api-key"]; }
    attributeChangedCallback(name) {
      if (name === "api-key") { if (this.isConnected) this.loadServerData(); return; }
      if (this.titleEl) this.renderTitle();
    }

    connectedCallback() {
      if (!this.built) this.build();
      this.loadServerData();
    }

    loadServerData() {
      fetchConfig(this.apiBase, this.apiKey).then((c) => { this.serverConfig = c || {}; });
      fetchDocuments(this.apiBase, this.apiKey);
    }

    build() {
      this.built = true;
      const s = styles();
      if (s) this.root.adoptedStyleSheets = [s];
      else this.root.append(h("style", {}, CSS));
      const id = (x) => `${this.uid}-${x}`;
      this.titleEl = h("div");
      this.input = h("input", { type: "text", id: id("q"), name: "question", autocomplete: "off", maxlength: "2000",
        "aria-describedby": id("hint"), spellcheck: "true" });
      this.errorEl = h("p", { class: "field-error", id: id("err"), hidden: true });
      this.askButton = h("button", { type: "submit" }, "Ask");
      this.form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); this.ask(this.input.value); } },
        h("label", { for: id("q") }, "Your question"),
        h("p", { class: "hint", id: id("hint") }, "For example: What does the guidance say about the impact of poverty on neglect?"),
        this.errorEl,
        h("div", { class: "row" }, this.input, this.askButton));
      // Earlier questions of this conversation, sent as `context` so that a
      // follow-up ("what about babies?") is answered in their light.
      this.history = [];
      this.newButton = h("button", { type: "button", class: "secondary new-conversation", hidden: true,
        onclick: () => this.newConversation() }, "New conversation");
      this.turnsEl = h("ol", { class: "turns", "aria-label": "Answers, newest first" });
      this.status = h("div", { class: "vh", role: "status", "aria-live": "polite", "aria-atomic": "true" });
      this.box = h("section", { class: "box", "aria-labelledby": id("title") },
        this.titleEl,
        h("p", { class: "intro" }, "Answers are exact quotes from the guidance documents, with references. This tool does not give advice or write answers of its own."),
        this.form, this.newButton, this.status, this.turnsEl);
      this.root.append(this.box);
      this.renderTitle();
    }

    renderTitle() {
      const t = h("h" + this.headingLevel, { class: "title", id: `${this.uid}-title` }, this.heading);
      this.titleEl.replaceChildren(t);
    }

    announce(text) {
      // Cleared first so that the same words said twice are heard twice.
      this.status.textContent = "";
      setTimeout(() => { this.status.textContent = text; }, 50);
    }

    /** Forget the earlier questions: the next one is answered alone. */
    newConversation() {
      this.history = [];
      this.turnsEl.replaceChildren();
      this.newButton.hidden = true;
      this.announce("New conversation. Earlier questions are forgotten.");
      this.input.focus();
    }

    /** Ask a question (also callable from the page: element.ask("...")). */
    async ask(raw) {
      const question = String(raw || "").trim();
      if (!question) {
        this.errorEl.hidden = false;
        this.errorEl.replaceChildren(h("span", { class: "vh" }, "Error: "), "Enter a question.");
        this.input.setAttribute("aria-invalid", "true");
        this.input.setAttribute("aria-describedby", `${this.uid}-err ${this.uid}-hint`);
        this.input.focus();
        return;
      }
      if (this.busy) return;
      this.input.value = ""; // the question stays on screen as "You asked"
      this.errorEl.hidden = true;
      this.input.removeAttribute("aria-invalid");
      this.input.setAttribute("aria-describedby", `${this.uid}-hint`);

      const n = ++this.turnCount;
      const sub = "h" + Math.min(6, this.headingLevel + 1);
      const turn = h("li", { class: "turn", "aria-busy": "true", "data-turn": n });
      turn.append(h(sub, { class: "asked" }, h("span", { class: "label" }, "You asked: "), question));
      let noticeText = null;
      if (suggestsDanger(question, this.dangerPhrases)) {
        noticeText = this.safetyNotice;
        turn.append(h("div", { class: "notice", role: "alert", "data-safety-notice": "" },
          h("span", { class: "icon", "aria-hidden": "true" }, "!"),
          h("p", {}, h("span", { class: "vh" }, "Important: "), noticeText)));
      }
      const body = h("div", { class: "body" },
        h("p", { class: "loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Searching the guidance…"));
      turn.append(body);
      this.turnsEl.prepend(turn);
      this.busy = true;
      this.askButton.setAttribute("aria-disabled", "true");
      this.askButton.textContent = "Searching…";
      if (!noticeText) this.announce("Searching the guidance…");

      try {
        const payload = { question, top_k: this.passages };
        if (this.documentIds.length) payload.document_ids = this.documentIds;
        if (this.history.length) payload.context = this.history.slice(-5);
        const ctrl = new AbortController();
        const timer = setTimeout(() => ctrl.abort(), 30000);
        let resp;
        try {
          resp = await fetch(`${this.apiBase}/v1/ask`, {
            method: "POST", headers: jsonHeaders(this.apiKey, { "Content-Type": "application/json" }),
            body: JSON.stringify(payload), signal: ctrl.signal,
          });
        } catch (e) {
          throw e && e.name === "AbortError" ? e : new Unreachable(this.apiBase);
        } finally { clearTimeout(timer); }
        if (!resp.ok) throw new Error(await problemMessage(resp));
        const answer = absoluteUrls(await resp.json(), this.apiBase);
        const docs = await fetchDocuments(this.apiBase, this.apiKey);
        this.history.push(question);
        this.newButton.hidden = false;
        const used = answer.context_used || [];
        const note = used.length ? [h("p", { class: "context-note", "data-context-note": "" },
          "Answering in the light of your earlier question: ", h("q", {}, used[used.length - 1]))] : [];
        // Words taken for typos: say what they were read as, so a wrong guess shows.
        const fixes = answer.corrections || [];
        if (fixes.length) {
          const parts = ["Read "];
          fixes.forEach((f, i) => parts.push(...(i ? [", "] : []), h("q", {}, f.typed), " as ", h("q", {}, f.read_as)));
          note.push(h("p", { class: "context-note", "data-read-as": "" }, ...parts, "."));
        }
        body.replaceChildren(...note, ...this.renderAnswer(answer, docs, n));
        this.announce(this.summaryFor(answer, question, noticeText));
        this.dispatchEvent(new CustomEvent("briefing-qa:answer", { detail: answer, bubbles: true, composed: true }));
      } catch (err) {
        const msg = err && err.name === "AbortError" ? "The service took too long to answer." : (err && err.message) || "The service could not be reached.";
        const retry = h("button", { type: "button", class: "secondary", onclick: () => { turn.remove(); this.ask(question); } }, "Try again");
        body.replaceChildren(h("div", { class: "error", "data-error": "" },
          h("p", { class: "lead" }, "Sorry, the answer could not be loaded."),
          h("p", {}, msg),
          retry));
        this.announce(`Sorry, the answer could not be loaded. ${msg}`);
      } finally {
        turn.removeAttribute("aria-busy");
        this.busy = false;
        this.askButton.removeAttribute("aria-disabled");
        this.askButton.textContent = "Ask";
      }
    }

    summaryFor(answer, question, noticeText) {
      const pre = noticeText ? `Important: ${noticeText} ` : "";
      if (answer.abstained || !answer.passages.length) {
        return `${pre}The documents do not answer this question. ${answer.passages.length ? "The closest sections are listed." : ""}`;
      }
      const first = answer.passages[0];
      const hl = (first.highlights || [])[0];
      const best = hl ? first.quote.slice(hl[0], hl[1]) : "";
      const count = answer.passages.length === 1 ? "1 quoted passage" : `${answer.passages.length} quoted passages`;
      return `${pre}Answer: ${count}. The first is from ${breadcrumb(first.citation)}${best ? `. Best matching sentence: ${best}` : "."}`;
    }

    renderAnswer(answer, docs, n) {
      if (answer.abstained || !answer.passages.length) return [this.renderAbstention(answer)];
      const list = h("ol", { class: "passages" });
      answer.passages.forEach((p, i) => list.append(this.renderPassage(p, docs, n, i)));
      const count = answer.passages.length === 1 ? "1 passage" : `${answer.passages.length} passages`;
      return [h("p", { class: "summary" }, `${count} from the guidance, best match first. The sentences that best match your question are highlighted.`), list];
    }

    renderAbstention(answer) {
      const seen = new Set();
      const items = [];
      for (const p of answer.passages) {
        const c = p.citation;
        const key = breadcrumb(c);
        if (seen.has(key)) continue;
        seen.add(key);
        const url = sectionUrl(c.url);
        const label = breadcrumb(c) + (c.pages ? ` (${pagesLabel(c.pages)})` : "");
        items.push(h("li", {}, url ? h("a", { href: url, target: "_blank", rel: "noopener" }, label, h("span", { class: "vh" }, " (opens in a new tab)")) : label));
      }
      return h("div", { class: "abstain", "data-abstained": "" },
        h("p", { class: "lead" }, "The documents do not answer this question."),
        h("p", { "data-missing": answer.missing || null }, answer.missing
          ? `It asks for ${answer.missing}, and the guidance gives none where it speaks of this, so no passage is shown. The closest sections:`
          : "Nothing in the guidance matches it closely enough to quote, so no passage is shown. Try other words, or look at the closest sections:"),
        items.length ? h("ul", {}, items) : h("p", {}, "No section comes close."));
    }

    renderPassage(p, docs, n, i) {
      const c = p.citation;
      const doc = docs.get(c.document_id);
      const meta = [];
      if (c.pages) meta.push(pagesLabel(c.pages, true).replace(/^p/, "P"));
      if (p.kind && p.kind !== "text") meta.push(KIND_LABELS[p.kind] || p.kind);
      const also = (p.also_in || []).map((a) => breadcrumb(a) + (a.pages ? ` (${pagesLabel(a.pages)})` : ""));
      const copyBtn = h("button", { type: "button", class: "secondary", "data-copy": "" }, "Copy quote with reference",
        h("span", { class: "vh" }, ` (passage ${i + 1})`));
      copyBtn.addEventListener("click", async () => {
        const { text, html } = quotationWithReference(p.quote, c, doc);
        try {
          await copyText(text, html);
          copyBtn.dataset.copied = text;
          copyBtn.firstChild.textContent = "Copied";
          this.announce("Quote and reference copied.");
          this.dispatchEvent(new CustomEvent("briefing-qa:copy", { detail: { text }, bubbles: true, composed: true }));
          setTimeout(() => { copyBtn.firstChild.textContent = "Copy quote with reference"; }, 2500);
        } catch (_) {
          this.announce("Copying failed. Select the quote and copy it yourself.");
        }
      });
      const actions = h("div", { class: "actions" });
      if (c.url) {
        actions.append(h("a", { href: c.url, target: "_blank", rel: "noopener", "data-source-link": "" },
          "Open in the source", h("span", { class: "vh" }, ` (passage ${i + 1}, opens in a new tab)`)));
      }
      actions.append(copyBtn);
      return h("li", { class: "passage", "data-passage-id": p.id },
        h("figure", { "aria-label": `Passage ${i + 1}` },
          h("figcaption", {},
            h("p", { class: "crumb" }, h("span", { class: "vh" }, `Passage ${i + 1}, from: `), breadcrumb(c)),
            meta.length ? h("p", { class: "meta" }, meta.join(" · ")) : null,
            also.length ? h("p", { class: "also" }, `Also in: ${also.join("; ")}`) : null),
          h("blockquote", { cite: c.url || null, "data-quote": "" }, renderQuote(p.quote, p.highlights))),
        actions);
    }
  }

  if (!customElements.get("briefing-qa-chat")) customElements.define("briefing-qa-chat", BriefingQAChat);
})();
