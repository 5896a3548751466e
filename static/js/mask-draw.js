// The official's mask rectangles (issue 14), drawn by dragging over the
// rendered page. An enhancement only: the textarea of "x,y,w,h" percent
// lines is the form, and works without this script.
(function () {
  "use strict";
  var figure = document.querySelector(".page-figure[data-mask-target]");
  if (!figure) { return; }
  var field = document.getElementById(figure.getAttribute("data-mask-target"));
  var svg = figure.querySelector("svg");
  if (!field || !svg) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var start = null;
  var preview = null;

  function point(event) {
    var box = figure.getBoundingClientRect();
    var x = Math.min(Math.max((event.clientX - box.left) / box.width * 100, 0), 100);
    var y = Math.min(Math.max((event.clientY - box.top) / box.height * 100, 0), 100);
    return { x: x, y: y };
  }

  function rect(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  figure.classList.add("can-draw");
  figure.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    event.preventDefault();
    start = point(event);
    preview = document.createElementNS(NS, "rect");
    preview.setAttribute("class", "mask-box drawing");
    svg.appendChild(preview);
    figure.setPointerCapture(event.pointerId);
  });
  figure.addEventListener("pointermove", function (event) {
    if (!start) { return; }
    var r = rect(start, point(event));
    preview.setAttribute("x", r.x); preview.setAttribute("y", r.y);
    preview.setAttribute("width", r.w); preview.setAttribute("height", r.h);
  });
  figure.addEventListener("pointerup", function (event) {
    if (!start) { return; }
    var r = rect(start, point(event));
    start = null;
    if (r.w < 0.5 || r.h < 0.5) { svg.removeChild(preview); return; }
    var line = [r.x, r.y, r.w, r.h].map(function (v) { return v.toFixed(1); }).join(",");
    field.value = (field.value.replace(/\s+$/, "") + "\n" + line).replace(/^\n/, "");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
}());
