/*
 * Admin page: sign in with an admin key (kept for this tab, sessionStorage),
 * the library as a table, upload (file input or drag and drop) with a
 * progress bar while the job runs, attribution edits, removal after a
 * confirmation, and the recent changes with their errors in plain words.
 * Every text from the server is set with textContent (window.BriefingQA.h).
 */
(() => {
  "use strict";
  const Q = window.BriefingQA;
  const { h } = Q;
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = "briefing-qa-admin-key";
  const ACTIONS = { upload: "Upload", remove: "Remove", edit: "Edit attribution" };
  const OUTCOMES = { added: "Added", replaced: "Replaced", removed: "Removed", edited: "Attribution edited", unchanged: "No change" };
  const FIELDS = ["title", "publisher", "year", "url", "licence"];

  let key = "";
  try { key = sessionStorage.getItem(KEY_STORE) || ""; } catch (_) { /* storage blocked */ }
  let docs = [];
  let busy = false;
  let editing = null, removing = null;

  class SignInNeeded extends Error {}

  function announce(text) {
    const el = $("announce");
    el.textContent = "";
    setTimeout(() => { el.textContent = text; }, 50);
  }

  async function api(path, init) {
    const headers = { Accept: "application/json", ...((init && init.headers) || {}) };
    if (key) headers["X-API-Key"] = key;
    const resp = await fetch(path, { ...(init || {}), headers });
    if (resp.status === 401 || resp.status === 403) {
      const msg = await Q.problemMessage(resp);
      showSignIn(key ? (resp.status === 401 ? "That key was not accepted. Check it and try again." : msg) : "");
      throw new SignInNeeded(msg);
    }
    if (!resp.ok) throw new Error(await Q.problemMessage(resp));
    return resp.json();
  }

  // ---- signing in -----------------------------------------------------------
  function showSignIn(error) {
    $("signed-in").hidden = true;
    $("key-form").hidden = false;
    const err = $("key-error"), input = $("admin-key");
    err.hidden = !error;
    err.replaceChildren(...(error ? [h("span", { class: "vh" }, "Error: "), error] : []));
    if (error) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    input.focus();
  }

  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = $("admin-key").value.trim();
    if (!value) { showSignIn("Enter an admin key."); return; }
    key = value;
    try { sessionStorage.setItem(KEY_STORE, key); } catch (_) { /* tab only */ }
    await start(true);
  });

  $("sign-out").addEventListener("click", () => {
    key = "";
    try { sessionStorage.removeItem(KEY_STORE); } catch (_) { /* ignore */ }
    $("admin-key").value = "";
    showSignIn("");
  });

  async function start(focus) {
    try {
      await Promise.all([loadLibrary(), loadJobs()]);
    } catch (err) {
      if (!(err instanceof SignInNeeded)) announce(`The library could not be loaded. ${err.message}`);
      return;
    }
    $("key-form").hidden = true;
    $("signed-in").hidden = false;
    if (focus) $("library-title").focus();
  }

  // ---- the library -------------------------------------------------------------
  const dateFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
  const when = (iso) => (iso ? dateFmt.format(new Date(iso)) : "–");

  async function loadLibrary() {
    const body = await api("/v1/admin/documents");
    docs = body.documents;
    $("max-mb").textContent = String(body.max_file_mb);
    const n = docs.length;
    $("library-summary").textContent = `${n} ${n === 1 ? "document" : "documents"} in ${body.corpus}.`;
    $("library-rows").replaceChildren(...docs.map(renderRow));
  }

  function renderRow(d) {
    const note = d.status !== "indexed" ? h("span", { class: "state note" }, d.status) : null;
    const inLibrary = d.status !== "not in the library folder";
    return h("tr", { "data-doc": d.id },
      h("td", {}, h("span", { class: "doc-title" }, d.title), h("span", { class: "doc-file" }, d.file), note),
      h("td", {}, d.publisher || "–"),
      h("td", {}, d.year || "n.d."),
      h("td", { class: "num" }, d.pages === null || d.pages === undefined ? "–" : String(d.pages)),
      h("td", { class: "num" }, String(d.chunks)),
      h("td", {}, when(d.added)),
      h("td", {}, inLibrary ? h("div", { class: "row-actions" },
        h("button", { type: "button", class: "button secondary small", "data-edit": d.id, onclick: () => openEdit(d) },
          "Edit", h("span", { class: "vh" }, ` attribution of ${d.title}`)),
        h("button", { type: "button", class: "button secondary small", "data-remove": d.id, onclick: () => askRemove(d) },
          "Remove", h("span", { class: "vh" }, ` ${d.title}`))) : null));
  }

  // ---- jobs ----------------------------------------------------------------------
  async function loadJobs() {
    const body = await api("/v1/admin/jobs?limit=20");
    $("job-rows").replaceChildren(...body.jobs.map((j) => {
      const outcome = j.result && OUTCOMES[j.result.outcome];
      const result = j.state === "failed"
        ? [h("span", { class: "state failed" }, "Failed"), " ", j.error || ""]
        : j.state === "done" ? [h("span", { class: "state done" }, outcome || "Done")]
          : [h("span", { class: `state ${j.state}` }, j.state === "queued" ? "Waiting" : "Running"), " ", j.stage];
      return h("tr", { "data-job": j.job_id, "data-state": j.state },
        h("td", {}, when(j.created)), h("td", {}, ACTIONS[j.action] || j.action),
        h("td", {}, j.file || j.document_id || "–"), h("td", {}, result));
    }));
  }

  function percent(p) { return Math.round((p || 0) * 100); }

  async function follow(jobId, what) {
    busy = true;
    const panel = $("current-job"), bar = $("job-progress"), stage = $("job-stage"), err = $("job-error");
    panel.hidden = false;
    err.hidden = true;
    $("job-what").textContent = what;
    bar.value = 0;
    stage.textContent = "Waiting for its turn";
    stage.dataset.state = "queued";
    let last = "";
    let job;
    for (;;) {
      try {
        job = await api(`/v1/admin/jobs/${encodeURIComponent(jobId)}`);
      } catch (e) {
        if (e instanceof SignInNeeded) { busy = false; return null; }
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      bar.value = percent(job.progress);
      bar.setAttribute("aria-valuetext", `${percent(job.progress)}%: ${job.stage}`);
      if (job.state === "done" || job.state === "failed") break;
      stage.dataset.state = job.state;
      const text = job.state === "queued" ? "Waiting for its turn" : `${job.stage[0].toUpperCase()}${job.stage.slice(1)}`;
      if (text !== last) { stage.textContent = text; last = text; }
      await new Promise((r) => setTimeout(r, 400));
    }
    busy = false;
    if (job.state === "done") {
      bar.value = 100;
      const outcome = OUTCOMES[job.result && job.result.outcome] || "Done";
      stage.textContent = `Done: ${outcome.toLowerCase()}. The service answers from the new library now.`;
      stage.dataset.state = "done";
    } else {
      stage.textContent = "The change failed. The library is as it was.";
      stage.dataset.state = "failed";
      err.replaceChildren(h("p", {}, job.error || "The change failed."));
      err.hidden = false;
    }
    await Promise.all([loadLibrary(), loadJobs()]).catch(() => {});
    return job;
  }

  // ---- upload ------------------------------------------------------------------------
  const fileInput = $("file"), zone = $("dropzone");
  function showChosen() {
    const f = fileInput.files[0];
    $("file-chosen").textContent = f ? `Chosen: ${f.name} (${(f.size / 1e6).toFixed(f.size < 1e5 ? 2 : 1)} MB)` : "";
  }
  fileInput.addEventListener("change", showChosen);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("is-over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("is-over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("is-over");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      fileInput.files = e.dataTransfer.files;
      showChosen();
    }
  });

  function formError(id, message, focusEl) {
    const el = $(id);
    el.hidden = !message;
    el.replaceChildren(...(message ? [h("span", { class: "vh" }, "Error: "), message] : []));
    if (message && focusEl) focusEl.focus();
  }

  $("upload").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = fileInput.files[0];
    if (!f) { formError("upload-error", "Choose a file to upload.", fileInput); return; }
    formError("upload-error", "");
    const data = new FormData();
    data.append("file", f, f.name);
    for (const name of FIELDS) {
      const v = $(`up-${name}`).value.trim();
      if (v) data.append(name, v);
    }
    const button = $("upload-button");
    button.disabled = true;
    try {
      $("job-stage").dataset.state = "sending";
      const accepted = await api("/v1/admin/documents", { method: "POST", body: data });
      $("upload").reset();
      showChosen();
      $("job-title").focus();
      announce(`Uploading ${f.name}.`);
      const job = await follow(accepted.job_id, `Adding ${f.name} to the library`);
      if (job) announce(job.state === "done" ? `${f.name}: done.` : `${f.name} could not be added: ${job.error}`);
    } catch (err) {
      if (!(err instanceof SignInNeeded)) formError("upload-error", err.message, fileInput);
    } finally {
      button.disabled = false;
    }
  });

  // ---- edit ----------------------------------------------------------------------------
  function openEdit(d) {
    editing = d;
    $("confirm").hidden = true;
    const form = $("edit-form");
    form.hidden = false;
    $("edit-file").textContent = `File: ${d.file}`;
    $("edit-title-input").value = d.title || "";
    for (const name of FIELDS.slice(1)) $(`edit-${name}`).value = d[name] || "";
    formError("edit-error", "");
    $("edit-title").focus();
  }

  function closePanels(focusDoc) {
    $("edit-form").hidden = true;
    $("confirm").hidden = true;
    const btn = focusDoc && document.querySelector(`[data-edit="${CSS.escape(focusDoc)}"]`);
    if (btn) btn.focus(); else $("library-title").focus();
    editing = removing = null;
  }

  $("edit-cancel").addEventListener("click", () => closePanels(editing && editing.id));
  $("edit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const d = editing;
    if (!d) return;
    const title = $("edit-title-input").value.trim();
    if (!title) { formError("edit-error", "Enter a title.", $("edit-title-input")); return; }
    const changes = {};
    if (title !== d.title) changes.title = title;
    for (const name of FIELDS.slice(1)) {
      const v = $(`edit-${name}`).value.trim();
      if (v !== (d[name] || "")) changes[name] = v;
    }
    if (!Object.keys(changes).length) { formError("edit-error", "Nothing has changed."); return; }
    try {
      $("job-stage").dataset.state = "sending";
      const accepted = await api(`/v1/admin/documents/${encodeURIComponent(d.id)}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(changes),
      });
      $("edit-form").hidden = true;
      editing = null;
      $("job-title").focus();
      await follow(accepted.job_id, `Editing the attribution of ${title}`);
    } catch (err) {
      if (!(err instanceof SignInNeeded)) formError("edit-error", err.message);
    }
  });

  // ---- remove ----------------------------------------------------------------------------
  function askRemove(d) {
    removing = d;
    $("edit-form").hidden = true;
    $("confirm").hidden = false;
    $("confirm-text").textContent = `“${d.title}” (${d.file}) will be taken out of the library and will no longer be quoted in answers. This cannot be undone here: to bring it back, upload the file again.`;
    $("confirm-title").focus();
  }

  $("confirm-cancel").addEventListener("click", () => closePanels(removing && removing.id));
  $("confirm-remove").addEventListener("click", async () => {
    const d = removing;
    if (!d) return;
    $("confirm").hidden = true;
    removing = null;
    try {
      $("job-stage").dataset.state = "sending";  // not the last change's "done" while this one is sent
      const accepted = await api(`/v1/admin/documents/${encodeURIComponent(d.id)}`, { method: "DELETE" });
      $("job-title").focus();
      await follow(accepted.job_id, `Removing ${d.title}`);
    } catch (err) {
      if (!(err instanceof SignInNeeded)) {
        $("current-job").hidden = false;
        $("job-error").replaceChildren(h("p", {}, err.message));
        $("job-error").hidden = false;
      }
    }
  });

  // Keep the recent changes fresh while another tab or an integration works.
  setInterval(() => { if (!busy && !$("signed-in").hidden) loadJobs().catch(() => {}); }, 10000);

  if (key) start(false); else showSignIn("");
})();
