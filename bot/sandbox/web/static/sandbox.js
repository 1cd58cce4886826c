// The sandbox page: polls the emulator's state for changes and sends what the person does.
// No framework: the server renders every part; this swaps them in and posts actions.
"use strict";
(function () {
  const body = document.body;
  const view = {
    person: body.dataset.person,
    channel: body.dataset.channel,
    thread: body.dataset.thread || "",
    version: body.dataset.version,
  };
  let busy = 0;
  const shown = {}; // the HTML last put in each part, as the server sent it

  function status(text) {
    document.getElementById("status").textContent = text || "";
  }

  async function post(path, data) {
    busy += 1;
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Object.assign({ person: view.person }, data)),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        status(typeof answer.detail === "string" ? answer.detail : "That did not work.");
      } else {
        status(answer.note || "");
      }
      return answer;
    } finally {
      busy -= 1;
      await refresh(true);
    }
  }

  function keepModalInput() {
    // What a person typed into an open modal survives a refresh of the same view.
    const form = document.querySelector("[data-modal]");
    if (!form) return null;
    const kept = {
      view: form.dataset.viewId,
      hash: form.dataset.viewHash,
      values: collect(form),
      focus: null,
    };
    const active = document.activeElement;
    if (active && form.contains(active) && active.name) kept.focus = active.name;
    return kept;
  }

  function restoreModalInput(kept) {
    const form = document.querySelector("[data-modal]");
    // An updated view (a new hash) starts from what the bot sent, as in Slack.
    if (!kept || !form || form.dataset.viewId !== kept.view || form.dataset.viewHash !== kept.hash) return;
    for (const [name, values] of Object.entries(kept.values)) {
      const label = form.querySelector(`[data-input][data-block-id="${CSS.escape(name)}"]`);
      if (!label) continue;
      for (const field of label.querySelectorAll("input, textarea, select")) {
        if (field.type === "search") continue;
        if (field.tagName === "SELECT") {
          for (const option of field.options) {
            if (values.includes(option.value)) option.selected = true;
            else if (field.multiple) option.selected = false;
          }
          if (field.dataset.external !== undefined) {
            for (const value of values) {
              if (![...field.options].some((o) => o.value === value)) {
                field.add(new Option(JSON.parse(value).text.text, value, true, true));
              }
            }
          }
        } else if (field.type === "checkbox" || field.type === "radio") {
          field.checked = values.includes(field.value);
        } else {
          field.value = values[0] || "";
        }
      }
    }
    if (kept.focus) {
      const again = form.querySelector(`[name="${CSS.escape(kept.focus)}"]`);
      if (again) again.focus();
    }
  }

  async function refresh(force) {
    const query = new URLSearchParams({
      person: view.person,
      channel: view.channel,
      thread: view.thread,
      since: force ? "" : view.version,
    });
    const response = await fetch(`/sandbox/ui?${query}`);
    if (!response.ok) return;
    const data = await response.json();
    if (!data.parts) return;
    view.version = data.version;
    view.channel = data.current;
    const messages = document.getElementById("messages");
    const atBottom = !messages || messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    const kept = shown.modal === data.parts.modal ? null : keepModalInput();
    for (const name of ["sidebar", "main", "thread", "modal", "clock"]) {
      // A part that did not change is left alone: an open select or a caret stays put.
      if (shown[name] === data.parts[name]) continue;
      document.getElementById(name).innerHTML = data.parts[name];
      shown[name] = data.parts[name];
    }
    restoreModalInput(kept);
    document.getElementById("thread-pane").hidden = !view.thread;
    document.getElementById("composer").hidden = view.channel === "home";
    const fresh = document.getElementById("messages");
    if (fresh && atBottom) fresh.scrollTop = fresh.scrollHeight;
    body.dataset.channel = view.channel;
    body.dataset.thread = view.thread;
  }

  function collect(form) {
    const values = {};
    for (const label of form.querySelectorAll("[data-input]")) {
      const chosen = [];
      for (const field of label.querySelectorAll("input, textarea, select")) {
        if (field.type === "search") continue;
        if (field.tagName === "SELECT") {
          for (const option of field.selectedOptions) if (option.value) chosen.push(option.value);
        } else if (field.type === "checkbox" || field.type === "radio") {
          if (field.checked) chosen.push(field.value);
        } else if (field.value !== "") {
          chosen.push(field.value);
        }
      }
      values[label.dataset.blockId] = chosen;
    }
    return values;
  }

  function container(element) {
    const holder = element.closest("[data-view-id]");
    if (holder && holder.dataset.viewId) return { view_id: holder.dataset.viewId };
    const message = element.closest("[data-ts]");
    return message ? { channel: message.dataset.channel, ts: message.dataset.ts } : {};
  }

  let suggestTimer = null;
  async function suggest(input) {
    const label = input.closest("[data-input]");
    const form = input.closest("[data-modal]");
    const answer = await fetch("/sandbox/suggest", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        person: view.person,
        view_id: form.dataset.viewId,
        block_id: label.dataset.blockId,
        action_id: label.dataset.actionId,
        query: input.value,
      }),
    }).then((r) => r.json());
    const select = label.querySelector("select[data-external]");
    const current = select.value;
    select.innerHTML = '<option value="">—</option>';
    for (const option of answer.options || []) {
      const value = JSON.stringify({ text: option.text, value: option.value });
      select.add(new Option(option.label, value, false, value === current));
    }
    if (current && ![...select.options].some((o) => o.value === current)) {
      select.add(new Option(JSON.parse(current).text.text, current, true, true));
    }
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("a, button");
    if (!target) return;
    if (target.dataset.nav) {
      event.preventDefault();
      view.channel = target.dataset.nav;
      view.thread = "";
      if (view.channel === "home") await post("/sandbox/home", {});
      else await refresh(true);
    } else if (target.dataset.openThread) {
      event.preventDefault();
      view.thread = target.dataset.openThread;
      await refresh(true);
      document.getElementById("thread-text").focus();
    } else if (target.dataset.closeThread !== undefined) {
      event.preventDefault();
      view.thread = "";
      await refresh(true);
    } else if (target.dataset.edit) {
      event.preventDefault();
      const text = window.prompt("Edit your message");
      if (text) await post("/sandbox/edit", { channel: view.channel, ts: target.dataset.edit, text });
    } else if (target.dataset.act !== undefined) {
      event.preventDefault();
      if (target.dataset.url) window.open(target.dataset.url, "_blank", "noopener");
      await post("/sandbox/click", Object.assign(container(target), {
        action_id: target.dataset.actionId,
        block_id: target.dataset.blockId,
        value: target.dataset.value === undefined ? null : target.dataset.value,
      }));
    } else if (target.dataset.travel) {
      event.preventDefault();
      status("Travelling in time…");
      for (const button of document.querySelectorAll("[data-travel]")) button.disabled = true;
      try {
        await post("/sandbox/travel", { to: target.dataset.travel });
      } finally {
        for (const button of document.querySelectorAll("[data-travel]")) button.disabled = false;
      }
    } else if (target.dataset.modalClose !== undefined) {
      event.preventDefault();
      await post("/sandbox/close", { view_id: target.closest("[data-modal]").dataset.viewId });
    }
  });

  document.addEventListener("change", async (event) => {
    const select = event.target.closest("select[data-choose]");
    if (!select || !select.value) return;
    await post("/sandbox/click", Object.assign(container(select), {
      action_id: select.dataset.actionId,
      block_id: select.dataset.blockId,
      choice: [select.value],
    }));
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-suggest]")) {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(() => suggest(event.target), 200);
    }
  });
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-suggest]")) suggest(event.target);
  });

  document.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    if (form.dataset.modal !== undefined) {
      await post("/sandbox/submit", { view_id: form.dataset.viewId, values: collect(form) });
      return;
    }
    const inThread = form.id === "thread-composer";
    const box = document.getElementById(inThread ? "thread-text" : "compose-text");
    const text = box.value.trim();
    if (!text) return;
    box.value = "";
    await post("/sandbox/compose", {
      channel: view.channel,
      thread_ts: inThread ? view.thread : null,
      text,
    });
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && event.target.matches(".composer textarea")) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  document.getElementById("person").addEventListener("change", async (event) => {
    view.person = event.target.value;
    view.thread = "";
    await refresh(true);
  });

  async function poll() {
    try {
      if (!busy) await refresh(false);
    } catch (error) {
      status("The sandbox is not answering.");
    }
    setTimeout(poll, 700);
  }
  document.getElementById("composer").hidden = view.channel === "home";
  setTimeout(poll, 700);
})();
