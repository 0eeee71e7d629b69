"""The paper template: which sections the writer writes, and how ``paper.tex`` is made from a template.

The default template (``templates/paper.tex``: article, geometry, amsmath, booktabs, flafter,
graphicx, listings, natbib, hyperref) ``\\input``\\ s, in order:

* ``results.tex`` (the macros) in the preamble;
* the writer's ``sections/<name>.tex`` for each name of :data:`SECTIONS` — the *bodies*:
  the template writes the ``\\section`` headings and labels (``sec:introduction``,
  ``sec:method``, ``sec:results``, ``sec:limitations``);
* the generated ``setup.tex`` (after the method), ``floats.tex`` (after the results),
  the bibliography (when a ``.bib`` is given) and the generated ``appendix.tex``.

A custom template must ``\\input{results}`` and may place the line
``%CARAMBA-BIBLIOGRAPHY%``, which becomes ``\\bibliographystyle{plainnat}\\bibliography{refs}``
when the paper has a ``.bib`` (copied to ``refs.bib``) and nothing otherwise. The
template must not print a date (``\\date{}``): a date is a number no run produced.
"""

from __future__ import annotations

from pathlib import Path

#: The sections the writer writes, as ``sections/<name>.tex``, in reading order.
SECTIONS = ("title", "abstract", "introduction", "method", "results", "limitations")
#: The generated files the template inputs (written by ``write_results_tex``).
GENERATED = ("results.tex", "setup.tex", "floats.tex", "appendix.tex")
BIBLIOGRAPHY = "%CARAMBA-BIBLIOGRAPHY%"


def default_template() -> Path:
    """The path of caramba's default template (module docstring)."""
    return Path(__file__).parent / "templates" / "paper.tex"


def render(template: Path, has_bib: bool) -> str:
    """The text of ``paper.tex`` from ``template``; ``ValueError`` when the template cannot hold the results."""
    text = Path(template).read_text(encoding="utf-8")
    if r"\input{results}" not in text and r"\input{results.tex}" not in text:
        raise ValueError(f"{template}: the template does not \\input{{results}}, so \\res and \\cmp would be undefined; "
                         "add \\input{results} to its preamble")
    bibliography = "\\bibliographystyle{plainnat}\n\\bibliography{refs}" if has_bib else ""
    return text.replace(BIBLIOGRAPHY, bibliography)
