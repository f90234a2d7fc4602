// MathJax configuration for pymdownx.arithmatex (generic mode). MathJax itself ships with the
// site (javascripts/vendor/mathjax-3.2.2/tex-svg.js, see mkdocs.yml), so maths renders offline.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// Material's instant navigation swaps the page body: typeset it again once MathJax is ready.
// (SVG output has no font cache to clear, unlike CHTML.)
document$.subscribe(() => {
  MathJax.startup.promise.then(() => {
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});
