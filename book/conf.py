"""Sphinx configuration of the minirec book.

``make book`` (``python -m minirec.course.book``) copies this folder, the README, the
architecture notes and the committed notebooks into ``build/book-src/`` and builds from there;
see that module for what it adds on the way (API pages, collapsed solutions, API links).
"""

import minirec

project = "minirec"
author = "the minirec authors"
copyright = "the minirec authors, MIT licence"
release = version = minirec.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the package's docstrings use Args: / Attributes: sections
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
root_doc = "index"
exclude_patterns = ["README.md", "_build", ".doctrees", "**/.ipynb_checkpoints"]

# The notebooks are rendered with the outputs they were committed with: nbval already checks
# that those are what a fresh run produces, so the book never executes a cell.
nb_execution_mode = "off"
nb_merge_streams = True
# Markdown that a cell prints (text/markdown outputs) is read like the Markdown cells, math included.
nb_render_markdown_format = "myst"
# Two notebooks keep the widget state of their (finished) progress bars in their metadata, though
# no output shows a widget; the widget JavaScript would come from a CDN, so none is loaded.
nb_ipywidgets_js: dict = {}

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# Every cross-reference into minirec must resolve (nitpicky). References to other projects
# (torch.Tensor, numpy.ndarray, int, ...) are not resolved: that would need their inventories
# from the network.
nitpicky = True
# Type variables (``T``) and private helpers (``_ScanScratch``) have no entry to link to.
nitpick_ignore_regex = [
    (r"py:.*", r"(?!minirec(\.|$)).*"),
    (r"py:.*", r"minirec\..*\.([A-Z]|_\w+)"),
]

autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
add_module_names = False

# MathJax 3 (tex-svg-full.js, from the sphinx-mathjax-offline package) is copied next to the
# pages, so that the site renders its equations without the network. Its SVG output carries its
# own glyphs: browsers refuse web fonts to a page opened from disk (file://).
mathjax_path = "mathjax/tex-svg-full.js"

html_theme = "sphinx_book_theme"
html_title = "minirec"
html_static_path = ["_static"]
html_css_files = ["minirec.css"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
html_sourcelink_suffix = ""
html_last_updated_fmt = None
