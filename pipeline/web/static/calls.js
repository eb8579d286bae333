// The rep's page: drag-and-drop uploads with a progress bar per file, and the call list kept live.
// Everything the server sends is inserted with textContent (never innerHTML).
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var t = window.callcoachText;
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("files");
  var list = document.getElementById("progress-list");
  var body = document.getElementById("calls-body");
  var section = document.getElementById("upload");
  var maxBytes = section ? parseInt(section.getAttribute("data-max-bytes"), 10) : 0;
  var queue = [];
  var busy = false;
  var pollTimer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function addFiles(files) {
    for (var i = 0; i < files.length; i++) {
      var item = el("li", "upload-item");
      item.appendChild(el("span", "name", files[i].name));
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      item.appendChild(bar);
      var state = el("span", "state", t("js.waiting"));
      item.appendChild(state);
      list.appendChild(item);
      queue.push({ file: files[i], bar: bar, state: state, item: item });
    }
    next();
  }

  function finish(job, ok, text, href) {
    job.item.classList.add(ok ? "ok" : "failed");
    job.state.textContent = text;
    if (href) {
      var link = el("a", null, t("js.open"));
      link.href = href;
      job.state.appendChild(document.createTextNode(" · "));
      job.state.appendChild(link);
    }
    busy = false;
    refresh();
    next();
  }

  function next() {
    if (busy || !queue.length) return;
    var job = queue.shift();
    if (maxBytes && job.file.size > maxBytes) {
      finish(job, false, t("js.too_large", { mb: Math.round(maxBytes / 1048576) }));
      return;
    }
    busy = true;
    job.state.textContent = t("js.uploading");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/uploads");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(job.file.name));
    var customer = document.getElementById("upload-customer");
    if (customer && customer.value.trim()) xhr.setRequestHeader("X-Customer", encodeURIComponent(customer.value.trim()));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) job.bar.value = Math.round((100 * event.loaded) / event.total);
    };
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      if (xhr.status === 201) {
        job.bar.value = 100;
        finish(job, true, t(data.duplicate ? "js.already" : "js.uploaded", { status: t("status." + data.status) }), data.href);
      } else if (xhr.status === 401) {
        finish(job, false, t("js.signed_out"));
      } else {
        finish(job, false, t("js.refused", { code: xhr.status, error: data.error || t("js.server_error") }));
      }
    };
    xhr.onerror = function () { finish(job, false, t("js.network")); };
    xhr.send(job.file);
  }

  if (zone && input) {
    input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) { addFiles(event.dataTransfer.files); });
  }

  function cell(row, text, cls) {
    var td = el("td", cls, text);
    row.appendChild(td);
    return td;
  }

  function render(calls) {
    while (body.firstChild) body.removeChild(body.firstChild);
    if (!calls.length) {
      var empty = el("tr", "empty");
      var td = cell(empty, t("calls.empty"), "muted");
      td.colSpan = 7;
      body.appendChild(empty);
      return;
    }
    calls.forEach(function (call) {
      var row = el("tr");
      row.setAttribute("data-call", call.call_id);
      cell(row, call.date);
      var name = cell(row, "");
      var link = el("a", null, call.name);
      link.href = call.href;
      name.appendChild(link);
      cell(row, call.duration);
      var status = cell(row, "");
      status.appendChild(el("span", "status status-" + call.status, t("status." + call.status)));
      if (call.status === "failed" && call.error) {
        status.appendChild(document.createTextNode(" "));
        status.appendChild(el("span", "reason", call.error));
      }
      var done = call.status === "done" && !call.too_short;
      var push = done ? t(call.concrete ? "push.concrete" : call.pushed ? "push.vague" : "push.none") + (call.downgraded ? " · " + t("push.downgraded") : "") : "";
      cell(row, call.too_short ? t("too_short") : push);
      cell(row, done ? t(call.distracted ? "customer.distracted" : "customer.listening") : "");
      cell(row, call.score);
      body.appendChild(row);
    });
  }

  function refresh() {
    fetch("/api/calls", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        render(data.calls);
        var pending = data.calls.some(function (c) { return c.status === "queued" || c.status === "processing"; });
        clearTimeout(pollTimer);
        pollTimer = setTimeout(refresh, pending || busy ? 2000 : 15000);
      })
      .catch(function () { clearTimeout(pollTimer); pollTimer = setTimeout(refresh, 5000); });
  }

  if (body) refresh();
})();
