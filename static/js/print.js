// The Print button of printable pages (the mic check): the page's print stylesheet does the rest.
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
