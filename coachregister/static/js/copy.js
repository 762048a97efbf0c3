// Copy buttons (issue 14): a button with data-copy-target="ID" copies the text of the element
// with that id. A static file, so the strict Content-Security-Policy needs no inline script;
// without JavaScript the button stays hidden and the text can be selected by hand.
(function () {
  "use strict";
  function copied(button) {
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (status) {
      status.textContent = button.getAttribute("data-copied-text") || "";
    }
  }
  function fallback(text, button) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try {
      if (document.execCommand("copy")) { copied(button); }
    } finally {
      document.body.removeChild(area);
    }
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button); },
          function () { fallback(text, button); });
      } else {
        fallback(text, button);
      }
    });
  });
})();
