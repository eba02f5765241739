// "Copy" buttons: put the value of the field named by data-copy on the clipboard.
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    const field = document.getElementById(button.dataset.copy);
    const done = () => {
      button.textContent = "Copied";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, () => field.select());
    } else {
      field.select(); // no clipboard API over plain HTTP: select it for Ctrl+C
    }
  });
})();
