/* The composition form's live preview: the prompt its particles render to, in the order shown,
   before saving. The server renders it (PromptCompositionAdmin.preview_view, with the same
   services and rendering as the API); this script only collects the form's choices. */
"use strict";
(function () {
  const DELAY_MS = 250;

  function previewUrl() {
    return window.location.pathname.replace(/\/(add|[^/]+\/change)\/?$/, "/preview/");
  }

  function chosenParticleIds(group) {
    const ids = [];
    group.querySelectorAll("tbody tr.form-row:not(.empty-form)").forEach(function (row) {
      const deleted = row.querySelector('input[name$="-DELETE"]');
      const select = row.querySelector('select[name$="-particle"]');
      if (select && select.value && !(deleted && deleted.checked)) {
        ids.push(select.value);
      }
    });
    return ids;
  }

  function build(group) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "module aligned composition-preview";
    fieldset.innerHTML =
      '<h2>Preview <span class="preview-state">(as the form stands, not saved yet)</span></h2>' +
      '<div class="form-row"><pre class="rendered-prompt live-preview" aria-live="polite"></pre>' +
      '<p class="help preview-status"></p></div>';
    group.insertAdjacentElement("afterend", fieldset);
    return fieldset;
  }

  function start() {
    const group = document.getElementById("items-group");
    const form = group && group.closest("form");
    if (!form) {
      return;
    }
    const fieldset = build(group);
    const output = fieldset.querySelector("pre.live-preview");
    const status = fieldset.querySelector(".preview-status");
    let timer = null;
    let latest = 0;

    async function refresh() {
      const body = new URLSearchParams();
      chosenParticleIds(group).forEach(function (id) { body.append("particle_ids", id); });
      const isSystem = form.querySelector("#id_is_system");
      if (isSystem && isSystem.checked) {
        body.append("is_system", "on");
      }
      const organization = form.querySelector("#id_organization_id");
      body.append("organization_id", organization ? organization.value : "");
      const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      const request = ++latest;
      fieldset.classList.add("loading");
      try {
        const response = await fetch(previewUrl(), {
          method: "POST",
          headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
          credentials: "same-origin",
          body: body,
        });
        const data = await response.json();
        if (request !== latest) {
          return; // a newer change is on its way
        }
        output.textContent = data.renderedPrompt;
        output.hidden = !data.renderedPrompt;
        status.textContent = data.errors.length
          ? data.errors.join(" ")
          : data.characters.toLocaleString("en") + " of " + data.maxCharacters.toLocaleString("en") + " characters.";
        status.classList.toggle("errornote", data.errors.length > 0);
      } catch (error) {
        status.textContent = "The preview could not be loaded: " + error;
      } finally {
        fieldset.classList.remove("loading");
      }
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    }

    // The particle boxes are select2 widgets: their change events are jQuery's.
    window.django.jQuery(form).on("change", "#items-group select, #items-group input, #id_is_system, #id_organization_id", schedule);
    document.addEventListener("formset:added", schedule);
    document.addEventListener("formset:removed", schedule);
    // django-admin-sortable2 moves the rows themselves when one is dragged.
    new MutationObserver(schedule).observe(group.querySelector("tbody"), {childList: true});
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
