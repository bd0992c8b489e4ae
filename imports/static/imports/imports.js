// Upload and import run synchronously: while the request runs, show the progress bar and keep the
// button from being pressed twice (the server also locks the run, so a second press imports nothing).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-import-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var progress = form.querySelector("[data-import-progress]");
      if (progress) {
        progress.classList.remove("d-none");
      }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    });
  });
});
