// Live wording check on the reject page. Optional: the page works fully without it
// (Preview runs the same check on the server). Sends the note to a JSON endpoint that
// changes nothing and updates the findings and the preview.
(function () {
  "use strict";
  const form = document.getElementById("reject-form");
  if (!form || !window.fetch) return;
  const subject = form.querySelector("[name=subject]");
  const body = form.querySelector("[name=body]");
  const token = form.querySelector("[name=csrf_token]");
  const live = document.getElementById("findings-live");
  let timer = null;
  let seq = 0;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showFindings(data) {
    live.replaceChildren();
    if (data.error) {
      live.append(el("p", "text-danger small mb-0", data.error));
      return;
    }
    if (!data.findings.length) {
      live.append(el("p", "text-success small mb-0", "No risky wording found."));
      return;
    }
    const list = el("ol", "findings list-unstyled mb-0");
    data.findings.forEach(function (f, i) {
      const item = el("li", "finding-item border-start border-4 ps-2 mb-2 " +
        (f.blocking ? "border-danger" : "border-warning"));
      item.append(el("sup", "", String(i + 1)), " ", el("strong", "", "\u201c" + f.phrase + "\u201d"), " ",
        el("span", "badge " + (f.blocking ? "text-bg-danger" : "text-bg-warning"),
          f.label + (f.blocking ? ": must fix" : ": confirm to send")),
        el("div", "small", f.why), el("div", "small text-success-emphasis", "Try: " + f.suggestion));
      list.append(item);
    });
    live.append(list);
  }

  function showPreview(data) {
    if (data.error) return;
    document.getElementById("preview-subject").textContent = data.subject;
    // Server-built HTML: every part of the note is escaped there; only <mark> is added.
    document.getElementById("preview-highlighted").innerHTML = data.highlighted;
    document.getElementById("preview-text").textContent = data.preview_text;
    document.getElementById("preview-html").srcdoc = data.preview_html;
  }

  function check() {
    const mine = ++seq;
    fetch(form.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ subject: subject.value, body: body.value }),
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && mine === seq) { showFindings(data); showPreview(data); }
      })
      .catch(function () { /* the Preview button still works */ });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }
  body.addEventListener("input", soon);
  subject.addEventListener("input", soon);
})();
