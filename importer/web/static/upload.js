// Drag and drop onto the upload form: a file dropped on the zone becomes the
// file input's file. Without JavaScript the plain file input works the same.
(function () {
  "use strict";
  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    var said = zone.querySelector("[data-dropped]");
    if (!input) { return; }
    function over(event) {
      event.preventDefault();
      zone.classList.add("dragging");
    }
    function leave() { zone.classList.remove("dragging"); }
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", leave);
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      leave();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length !== 1) { return; }
      input.files = files;
      if (said) { said.textContent = files[0].name; }
      input.focus();
    });
    input.addEventListener("change", function () {
      if (said) { said.textContent = input.files.length ? input.files[0].name : ""; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var zones = document.querySelectorAll("[data-dropzone]");
    for (var i = 0; i < zones.length; i += 1) { setUp(zones[i]); }
  });
}());
