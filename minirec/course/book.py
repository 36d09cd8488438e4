"""``python -m minirec.course.book``: the collection as a static website, and the checks on it.

The site is built by Sphinx with myst-nb and the book theme (``book/conf.py``) from the
*committed* notebooks: no cell is executed, because nbval already checks that the committed
outputs are what a fresh run produces. The sources are staged into a folder first:

- ``book/`` as it is: the landing page (which includes the README's opening), the data page,
  "Teaching with minirec", the configuration;
- the README (for those includes) and ``docs/architecture.md``;
- the notebooks, with two changes for the web: solution cells are tagged ``hide-input`` (they
  render collapsed), and links to package files, ``[...](../minirec/hashing/relax.py)``, become
  cross-references to that module's API entry;
- one API page per sub-package, one section per module, generated from the package itself so
  that a new module cannot be left out;
- MathJax, from the ``sphinx-mathjax-offline`` package, so that equations render offline.

``sphinx-build`` then runs with warnings as errors and every cross-reference into minirec
checked (``-W -n``), into the staging folder, and the site is moved to ``<out>`` only when the
build and :func:`check_site` pass. :func:`check_site` reads the HTML as a browser gets it:
every page has a title, every internal link and image resolves, and each notebook page carries
its notebook's title, its formulas, its figures, its collapsed solutions and its API links.

``--screenshots DIR`` (``make book-check``) opens pages in headless Chromium, writes screenshots
and checks in the rendered DOM that MathJax typeset the equations.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from minirec.course.runner import REPO_ROOT, notebook_paths

PACKAGE_DIR = REPO_ROOT / "minirec"
#: Sub-packages in import order; one API page each.
SUBPACKAGES = (
    "core",
    "data",
    "features",
    "hashing",
    "models",
    "train",
    "evaluation",
    "experiments",
    "course",
)
#: A Markdown link to a package file or folder, as notebooks write them: ``[text](../minirec/a/b.py)``.
PACKAGE_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\(\.\./minirec/(?P<path>[\w/]*?)(?:\.py|/)?\)")
HIDE_INPUT = "hide-input"
MATHJAX_FILE = "sphinx-mathjax-offline/static/mathjax/tex-svg-full.js"
# Sphinx renders math as <span class="math ...">\(...\)</span> and <div class="math ...">\[...\]</div>.
MATH_CLASS = "math"
# The screenshots of `make book-check`: (file name, page, window height; 0 = the whole page).
SCREENSHOTS = (
    ("landing.png", "index.html", 1400),
    ("06-top.png", "notebooks/06_attention_fusion.html", 1400),
    ("06-page.png", "notebooks/06_attention_fusion.html", 0),
)
WHOLE_PAGE_WINDOW = 24000  # pixels; the book theme stretches a short page to the window's height


class BookError(RuntimeError):
    """The book did not build, or the built site failed a check; the message lists every problem."""


# --------------------------------------------------------------------------- staging


def notebook_title(notebook: nbformat.NotebookNode, name: str = "the notebook") -> str:
    """The text of the notebook's level-1 Markdown heading (its page title in the book)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise BookError(f"{name}: no title; expected a Markdown cell with a '# ' heading")


def package_module(path: str) -> str:
    """``"hashing/relax"`` -> ``"minirec.hashing.relax"``; ``"data"`` -> ``"minirec.data"``."""
    return ".".join(["minirec", *[part for part in path.split("/") if part]])


def package_links(source: str) -> list[str]:
    """The modules that the Markdown ``source`` links to as package files, in order."""
    return [package_module(match["path"]) for match in PACKAGE_LINK.finditer(source)]


def link_to_api(source: str) -> str:
    """Turn every link to a package file into a cross-reference to that module's API entry."""

    def reference(match: re.Match[str]) -> str:
        text = match["text"].replace("`", "").strip() or package_module(match["path"])
        return f"{{py:mod}}`{text} <{package_module(match['path'])}>`"

    return PACKAGE_LINK.sub(reference, source)


def normalise_formula(tex: str) -> str:
    """A formula without white space and without the delimiters Sphinx wraps it in."""
    tex = re.sub(r"\s+", "", tex)
    for start, end in (("\\(", "\\)"), ("\\[", "\\]"), ("\\begin{split}", "\\end{split}")):
        if tex.startswith(start) and tex.endswith(end):
            tex = tex[len(start) : -len(end)]
    return tex


def markdown_formulas(source: str) -> list[str]:
    """The ``$...$`` and ``$$...$$`` formulas of Markdown ``source`` as Jupyter reads them."""
    source = re.sub(r"```.*?```", "", source, flags=re.S)
    source = re.sub(r"(`+)(?:(?!\1).)+?\1", "", source, flags=re.S)  # inline code
    source = source.replace("\\$", "")
    found = re.finditer(r"\$\$(.+?)\$\$|\$(.+?)\$", source, flags=re.S)
    return [normalise_formula(match[1] or match[2]) for match in found]


def is_solution_cell(cell: nbformat.NotebookNode) -> bool:
    """An nbgrader solution cell (the part a student writes)."""
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def prepare_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` for the web: solutions collapsed, package links pointing at the API."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = link_to_api(cell.source)
        elif is_solution_cell(cell):
            tags = cell.metadata.setdefault("tags", [])
            if HIDE_INPUT not in tags:
                tags.append(HIDE_INPUT)
    return notebook


def package_modules(subpackage: str) -> list[str]:
    """The public modules of ``minirec.<subpackage>``, in file-name order."""
    folder = PACKAGE_DIR / subpackage
    return [
        f"minirec.{subpackage}.{path.stem}"
        for path in sorted(folder.glob("*.py"))
        if not path.stem.startswith("_")
    ]


def api_page(subpackage: str) -> str:
    """The MyST source of the API page of one sub-package: its docstring, then each module."""
    parts = [
        f"# `minirec.{subpackage}`\n",
        f"```{{eval-rst}}\n.. automodule:: minirec.{subpackage}\n   :no-members:\n```\n",
    ]
    for module in package_modules(subpackage):
        parts.append(f"## `{module}`\n\n```{{eval-rst}}\n.. automodule:: {module}\n```\n")
    return "\n".join(parts)


def api_index() -> str:
    """The MyST source of the API reference's first page."""
    return (
        "# API reference\n\n"
        "Generated from the docstrings of the package. The sub-packages are listed in import "
        "order: each one imports only from those above it. A notebook's *Now in minirec* section "
        "links to the modules it builds.\n\n"
        "```{toctree}\n:maxdepth: 2\n\n" + "\n".join(SUBPACKAGES) + "\n```\n"
    )


def mathjax_script() -> Path:
    """MathJax 3 in one file (TeX input, SVG output), as shipped by ``sphinx-mathjax-offline``."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution("sphinx-mathjax-offline").locate_file(MATHJAX_FILE)))
    except PackageNotFoundError:
        raise BookError("sphinx-mathjax-offline is not installed; run make install") from None
    if not path.is_file():
        raise BookError(f"{path}: MathJax is missing; reinstall sphinx-mathjax-offline (make install)")
    return path


def stage_sources(stage: Path, root: Path = REPO_ROOT) -> None:
    """Write the Sphinx source folder ``stage`` (emptied first); see the module docstring."""
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(root / "book", stage, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(root / "README.md", stage / "README.md")
    shutil.copy2(root / "docs" / "architecture.md", stage / "architecture.md")
    (stage / "notebooks").mkdir()
    for path in notebook_paths(root):
        notebook = prepare_notebook(nbformat.read(path, as_version=4))
        nbformat.write(notebook, stage / "notebooks" / path.name)
    (stage / "api").mkdir()
    (stage / "api" / "index.md").write_text(api_index(), encoding="utf-8")
    for subpackage in SUBPACKAGES:
        (stage / "api" / f"{subpackage}.md").write_text(api_page(subpackage), encoding="utf-8")
    (stage / "_static" / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax_script(), stage / "_static" / "mathjax" / Path(MATHJAX_FILE).name)


# --------------------------------------------------------------------------- building


def run_sphinx(stage: Path, out: Path, jobs: int = 1) -> None:
    """``sphinx-build -b html -W --keep-going -n``; a :class:`BookError` with every warning if any."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q"]
    command += ["-j", str(jobs), "-d", str(stage / ".doctrees"), str(stage), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=stage)
    if result.returncode != 0:
        messages = (result.stderr + result.stdout).strip()
        raise BookError(f"sphinx-build failed (exit status {result.returncode}):\n{messages}")


def build_book(out: Path, stage: Path | None = None, root: Path = REPO_ROOT, jobs: int = 1) -> SiteReport:
    """Stage, build and check the site into ``out``; ``out`` is replaced only if all of it passes.

    Sphinx writes into ``<stage>/_build/html`` (myst-nb puts its image files beside that folder),
    which is renamed to ``out`` once :func:`check_site` has passed. The page's download button
    then serves the committed notebook, not its staged copy.
    """
    out = out.resolve()
    stage = (stage or out.with_name(out.name + "-src")).resolve()
    stage_sources(stage, root)
    html = stage / "_build" / "html"
    run_sphinx(stage, html, jobs)
    for path in notebook_paths(root):  # "download" hands out the notebook as committed
        shutil.copy2(path, html / "_sources" / "notebooks" / path.name)
    report = check_site(html, root)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(html, out)
    return report


# --------------------------------------------------------------------------- checking


class PageParser(HTMLParser):
    """What :func:`check_site` needs from one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []  # href of <a> and <link>
        self.images: list[str] = []  # src of <img>
        self.scripts: list[str] = []  # src of <script>
        self.title = ""
        self.h1: list[str] = []
        self.formulas: list[str] = []  # the TeX of every math element
        self.hidden_inputs = 0
        self._in: list[str] = []  # open elements whose text is collected: "title", "h1", "math"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        classes = values.get("class", "").split()
        if tag in ("a", "link") and values.get("href"):
            self.links.append(values["href"])
        elif tag == "img":
            self.images.append(values.get("src", ""))
        elif tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        if MATH_CLASS in classes and tag in ("span", "div"):
            self._in.append(f"math-{tag}")
            self.formulas.append("")
        if tag == "details" and "hide" in classes and "above-input" in classes:
            self.hidden_inputs += 1
        if tag == "title":
            self._in.append("title")
        elif tag == "h1":
            self._in.append("h1")
            self.h1.append("")
        elif tag == "a" and "headerlink" in classes and self._in and self._in[-1] == "h1":
            self._in.append("headerlink")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in and self._in[-1] == "headerlink":
            self._in.pop()
        elif self._in and self._in[-1] in (tag, f"math-{tag}"):
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            return
        if self._in[-1] == "title":
            self.title += data
        elif self._in[-1] == "h1":
            self.h1[-1] += data
        elif self._in[-1].startswith("math-"):
            self.formulas[-1] += data


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


@dataclass
class SiteReport:
    """What :func:`check_site` found: pages, and per notebook page what it carries."""

    pages: int = 0
    links_checked: int = 0
    images_checked: int = 0
    notebooks: dict[str, dict[str, int]] = field(default_factory=dict)


def check_links(site: Path, pages: dict[Path, PageParser]) -> tuple[list[str], int, int]:
    """Every internal link, stylesheet, script and image of every page resolves, fragments included."""
    problems: list[str] = []
    links = images = 0
    for path, page in pages.items():
        name = path.relative_to(site).as_posix()
        urls = [(url, "link") for url in page.links + page.scripts] + [(url, "image") for url in page.images]
        for url, kind in urls:
            if is_external(url) or url.startswith("data:"):
                continue
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if kind == "image":
                images += 1
            else:
                links += 1
            if not target.is_file() or target.stat().st_size == 0:
                problems.append(f"{name}: {kind} {url!r} points to a missing file")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse_page(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{name}: link {url!r}: no id {parts.fragment!r} in {target.name}")
    return problems, links, images


def check_notebook_page(
    site: Path, source: Path, page: PageParser | None
) -> tuple[list[str], dict[str, int]]:
    """A notebook's page has its title, math, figures, collapsed solutions and API links."""
    name = f"notebooks/{source.stem}.html"
    if page is None:
        return [f"{name}: missing (notebook {source.name})"], {}
    notebook = nbformat.read(source, as_version=4)
    title = notebook_title(notebook, source.name)
    problems = []
    if [h.strip() for h in page.h1[:1]] != [title]:
        problems.append(f"{name}: first heading {page.h1[:1]!r}, expected the notebook's title {title!r}")
    if not page.title.strip().startswith(title):
        problems.append(f"{name}: <title> {page.title.strip()!r} does not start with {title!r}")
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    markdown_outputs = [
        output["data"]["text/markdown"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    ]
    figures = sum(
        "image/png" in output.get("data", {}) or "image/svg+xml" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    solutions = sum(is_solution_cell(cell) for cell in notebook.cells)
    modules = package_links(markdown)
    expected = Counter(markdown_formulas("\n".join([markdown, *markdown_outputs])))
    rendered = Counter(normalise_formula(tex) for tex in page.formulas)
    found = {
        "math": len(page.formulas),
        "figures": len(page.images),
        "collapsed solutions": page.hidden_inputs,
        "API links": sum(1 for url in page.links if "api/" in url and "#module-minirec" in url),
    }
    for tex in (expected - rendered).elements():
        problems.append(f"{name}: the notebook's formula {tex!r} is not a formula of the page")
    for tex in (rendered - expected).elements():
        problems.append(f"{name}: the page's formula {tex[:120]!r} is not the notebook's (Markdown misread?)")
    if len(page.images) < figures:
        problems.append(f"{name}: {len(page.images)} images for the notebook's {figures} figures")
    if page.hidden_inputs < solutions:
        problems.append(f"{name}: {page.hidden_inputs} collapsed cells for {solutions} solution cells")
    if not modules:
        problems.append(f"{source.name}: its 'Now in minirec' section links to no package module")
    elif found["API links"] < len(modules):
        problems.append(f"{name}: {found['API links']} links into the API for {len(modules)} package links")
    return problems, found


def check_site(site: Path, root: Path = REPO_ROOT) -> SiteReport:
    """Check the built site ``site`` (see the module docstring); :class:`BookError` lists every problem."""
    pages = {
        path.resolve(): parse_page(path)
        for path in sorted(site.rglob("*.html"))
        if path.relative_to(site).parts[0] != "_static"  # the theme's template fragments, not pages
    }
    problems: list[str] = []
    report = SiteReport(pages=len(pages))
    if (site / "index.html").resolve() not in pages:
        problems.append(f"{site}: no index.html")
    for path, page in pages.items():
        name = path.relative_to(site.resolve()).as_posix()
        if not page.title.strip():
            problems.append(f"{name}: no <title>")
        if not any(h.strip() for h in page.h1):
            problems.append(f"{name}: no <h1> heading")
    link_problems, report.links_checked, report.images_checked = check_links(site.resolve(), pages)
    problems += link_problems
    for source in notebook_paths(root):
        notebook_page = pages.get((site / "notebooks" / f"{source.stem}.html").resolve())
        notebook_problems, report.notebooks[source.stem] = check_notebook_page(site, source, notebook_page)
        problems += notebook_problems
    if any(report.notebooks[n].get("math") for n in report.notebooks):
        if not (site / "_static" / "mathjax" / Path(MATHJAX_FILE).name).is_file():
            problems.append(f"{site}: _static/mathjax/ has no MathJax; equations would not render")
    if problems:
        raise BookError(f"{len(problems)} problem(s) in the built site {site}:\n" + "\n".join(problems))
    return report


# --------------------------------------------------------------------------- reading it in a browser


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    raise BookError("chromium is not installed: `make book-check` installs Debian's chromium package")


def browse(chromium: str, url: str, *args: str, height: int = 1400, timeout: float = 120) -> str:
    """Run headless Chromium on ``url`` (no network beyond the file) and return its stdout."""
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += ["--virtual-time-budget=20000", f"--window-size=1280,{height}", *args, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BookError(
            f"chromium failed on {url} (exit status {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return result.stdout


def trim_to_content(path: Path, footer: int = 200) -> None:
    """Cut a whole-page screenshot below the article's last line (the rest is empty window)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        gray = np.asarray(image.convert("L"))
        width = gray.shape[1]
        article = gray[:-footer, width // 5 : 4 * width // 5]  # the middle, away from the sidebars
        rows = np.flatnonzero((article < 200).any(axis=1))
        bottom = min(gray.shape[0], int(rows.max()) + 60) if rows.size else gray.shape[0]
        image.crop((0, 0, width, bottom)).save(path)


def take_screenshots(site: Path, shots: Path) -> list[Path]:
    """Screenshots of the landing page and notebook 06, after checking that MathJax typeset 06."""
    chromium = find_chromium()
    site = site.resolve()
    dom = browse(chromium, (site / "notebooks" / "06_attention_fusion.html").as_uri(), "--dump-dom")
    typeset = dom.count("<mjx-container")
    errors = len(re.findall(r'<g [^>]*data-mml-node="merror"', dom))  # TeX that MathJax could not read
    if typeset == 0 or errors:
        raise BookError(f"notebook 06 in Chromium: MathJax typeset {typeset} formulas, {errors} with errors")
    shots.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, page, height in SCREENSHOTS:
        target = shots / file_name
        browse(chromium, (site / page).as_uri(), f"--screenshot={target}", height=height or WHOLE_PAGE_WINDOW)
        if not target.is_file() or target.stat().st_size == 0:
            raise BookError(f"chromium wrote no screenshot {target} of {page}")
        if not height:
            trim_to_content(target)
        written.append(target)
    print(f"Chromium: MathJax typeset {typeset} formulas on notebook 06's page, none with errors")
    return written


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.course.book",
        description="Build the book (static HTML) from the committed notebooks, unexecuted; check it.",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "build" / "book", help="site folder (default build/book)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="parallel Sphinx processes (default 1: faster here)"
    )
    parser.add_argument("--check-only", action="store_true", help="only check an already built --out folder")
    parser.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="also open pages in headless Chromium and write screenshots to DIR",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.check_only:
            report = check_site(args.out)
        else:
            report = build_book(args.out, jobs=args.jobs)
        print(
            f"{args.out}: {report.pages} pages, {report.links_checked} internal links and "
            f"{report.images_checked} images resolve ({time.perf_counter() - start:.1f} s)"
        )
        for name, found in report.notebooks.items():
            print(f"  {name}: " + ", ".join(f"{value} {key}" for key, value in found.items()))
        if args.screenshots:
            for path in take_screenshots(args.out, args.screenshots):
                print(f"screenshot: {path}")
    except BookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
