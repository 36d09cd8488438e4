"""The book (`make book`): staging, the site checks, and one real build of the whole collection.

The real build (Sphinx with warnings as errors, about 35 s on 2 cores) runs once per session and
is marked slow. The checks of :func:`check_site` are tested on small hand-made sites, each with
one defect that a check must name.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import REPO_ROOT
from test_architecture import LAYERS
from test_environment_files import make_dry_run

from minirec.course import book
from minirec.course.runner import notebook_paths

NOTEBOOKS = notebook_paths()


# --------------------------------------------------------------------------- staging, fast


def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=list(cells))


def solution_cell(source: str = "x = 1") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "ex1"}
    return cell


def test_package_links_become_api_cross_references():
    source = "See [`minirec/hashing/relax.py`](../minirec/hashing/relax.py) and [the data](../minirec/data/)."
    assert book.package_links(source) == ["minirec.hashing.relax", "minirec.data"]
    assert book.link_to_api(source) == (
        "See {py:mod}`minirec/hashing/relax.py <minirec.hashing.relax>` and "
        "{py:mod}`the data <minirec.data>`."
    )
    untouched = "[faiss](https://github.com/facebookresearch/faiss) and [notebook 04](04_bpr_training.ipynb)"
    assert book.link_to_api(untouched) == untouched


def test_prepare_notebook_collapses_solutions_only_and_leaves_the_original_alone():
    original = notebook(
        nbformat.v4.new_markdown_cell("# T\n\n[`m`](../minirec/core/loop.py)"),
        nbformat.v4.new_code_cell("print(1)"),
        solution_cell(),
    )
    web = book.prepare_notebook(original)
    assert [c.metadata.get("tags") for c in web.cells] == [None, None, ["hide-input"]]
    assert web.cells[0].source == "# T\n\n{py:mod}`m <minirec.core.loop>`"
    assert "tags" not in original.cells[2].metadata and "../minirec" in original.cells[0].source
    assert book.prepare_notebook(web).cells[2].metadata["tags"] == ["hide-input"]  # not twice


def test_markdown_formulas_are_read_as_jupyter_reads_them():
    source = "Cost $O(N)$, and\n\n$$a =\n b$$\n\n`$not math$` and \\$5."
    assert book.markdown_formulas(source) == ["O(N)", "a=b"]
    assert book.normalise_formula("\\[\\begin{split}a \\\\ b\\end{split}\\]") == "a\\\\b"


def test_every_module_of_the_package_has_an_api_section():
    on_disk = {  # every module, and every sub-package (its __init__)
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO_ROOT / "minirec").glob("*/*.py")
        if not path.name.startswith("_") or path.name == "__init__.py"
    }
    in_pages = set()
    for subpackage in book.SUBPACKAGES:
        in_pages |= set(re.findall(r"automodule:: (minirec\.[\w.]+)\n", book.api_page(subpackage)))
    assert in_pages == on_disk
    assert book.SUBPACKAGES == LAYERS  # in import order


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_now_in_minirec_links_to_package_modules_that_exist(path):
    cells = nbformat.read(path, as_version=4).cells
    section = [c.source for c in cells if c.cell_type == "markdown" and "Now in minirec" in c.source]
    assert section, f"{path.name} has no 'Now in minirec' section"
    links = book.PACKAGE_LINK.findall("\n".join(section))
    assert links, f"{path.name}: its 'Now in minirec' section links to no package file"
    for _, target in links:
        file = REPO_ROOT / "minirec" / f"{target}.py"
        assert file.is_file() or (REPO_ROOT / "minirec" / target / "__init__.py").is_file(), target


# --------------------------------------------------------------------------- the site checks, fast

PAGE = """<html><head><title>{title} — minirec</title>
<link rel="stylesheet" href="{up}_static/style.css"></head><body>
<h1>{title}<a class="headerlink" href="#top">#</a></h1><div id="top"></div>{body}</body></html>"""


def write_page(site: Path, name: str, title: str, body: str = "") -> None:
    path = site / name
    path.parent.mkdir(parents=True, exist_ok=True)
    up = "../" * name.count("/")
    path.write_text(PAGE.format(title=title, up=up, body=body), encoding="utf-8")


@pytest.fixture
def small_site(tmp_path):
    """A repository with one notebook and a site that passes every check; tests break one thing."""
    root, site = tmp_path / "repo", tmp_path / "site"
    (root / "notebooks").mkdir(parents=True)
    source = notebook(
        nbformat.v4.new_markdown_cell(
            "# 00 · A test\n\nThe cost is $O(N)$.\n\n## Now in minirec\n\n[`loop`](../minirec/core/loop.py)"
        ),
        solution_cell(),
    )
    source.cells[1].outputs = [nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo="})]
    nbformat.write(source, root / "notebooks" / "00_test.ipynb")
    (site / "_static" / "mathjax").mkdir(parents=True)
    (site / "_static" / "style.css").write_text("body {}")
    (site / "_static" / "mathjax" / "tex-svg-full.js").write_text("/* MathJax */")
    (site / "_images").mkdir()
    (site / "_images" / "figure.png").write_bytes(b"\x89PNG")
    write_page(site, "index.html", "minirec", '<a href="notebooks/00_test.html#top">the notebook</a>')
    write_page(site, "api/core.html", "minirec.core", '<dl id="module-minirec.core.loop"></dl>')
    write_page(
        site,
        "notebooks/00_test.html",
        "00 · A test",
        '<p>The cost is <span class="math notranslate nohighlight">\\(O(N)\\)</span>.</p>'
        '<details class="hide above-input"><summary>Show code cell source</summary></details>'
        '<img src="../_images/figure.png"/>'
        '<a href="../api/core.html#module-minirec.core.loop">loop</a>',
    )
    return root, site


def problems(root: Path, site: Path) -> str:
    with pytest.raises(book.BookError) as error:
        book.check_site(site, root)
    return str(error.value)


def test_the_small_site_passes(small_site):
    root, site = small_site
    report = book.check_site(site, root)
    assert report.pages == 3 and report.images_checked == 1
    assert report.notebooks["00_test"] == {"math": 1, "figures": 1, "collapsed solutions": 1, "API links": 1}


def test_a_broken_link_a_missing_fragment_and_a_missing_image_are_named(small_site):
    root, site = small_site
    write_page(
        site,
        "index.html",
        "minirec",
        '<a href="notebooks/00_tset.html">typo</a><a href="api/core.html#nope">x</a>',
    )
    (site / "_images" / "figure.png").unlink()
    found = problems(root, site)
    assert "index.html: link 'notebooks/00_tset.html' points to a missing file" in found
    assert "index.html: link 'api/core.html#nope': no id 'nope' in core.html" in found
    assert "notebooks/00_test.html: image '../_images/figure.png' points to a missing file" in found


def test_a_page_without_title_or_heading_is_named(small_site):
    root, site = small_site
    (site / "genindex.html").write_text("<html><head></head><body><p>index</p></body></html>")
    found = problems(root, site)
    assert "genindex.html: no <title>" in found and "genindex.html: no <h1> heading" in found


def test_a_notebook_page_with_the_wrong_title_is_named(small_site):
    root, site = small_site
    page = site / "notebooks" / "00_test.html"
    page.write_text(page.read_text().replace("00 · A test", "Untitled"))
    found = problems(root, site)
    assert "first heading ['Untitled'], expected the notebook's title '00 · A test'" in found


def test_a_notebook_without_a_title_is_named(small_site):
    root, site = small_site
    path = root / "notebooks" / "00_test.ipynb"
    source = nbformat.read(path, as_version=4)
    source.cells[0].source = source.cells[0].source.replace("# 00 · A test", "00 · A test")
    nbformat.write(source, path)
    with pytest.raises(book.BookError, match="00_test.ipynb: no title; expected a Markdown cell"):
        book.check_site(site, root)


def test_a_missing_notebook_page_is_named(small_site):
    root, site = small_site
    (site / "notebooks" / "00_test.html").unlink()
    assert "notebooks/00_test.html: missing (notebook 00_test.ipynb)" in problems(root, site)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '<span class="math notranslate nohighlight">\\(O(N)\\)</span>',
            "$O(N)$",
            "formula 'O(N)' is not a formula",
        ),
        ("\\(O(N)\\)", "\\(O(N)\\), and `code` We fix", "is not the notebook's (Markdown misread?)"),
        ('<img src="../_images/figure.png"/>', "", "0 images for the notebook's 1 figures"),
        ('<details class="hide above-input">', "<details>", "0 collapsed cells for 1 solution cells"),
        (
            '<a href="../api/core.html#module-minirec.core.loop">',
            "<a>",
            "0 links into the API for 1 package links",
        ),
    ],
    ids=["math not rendered", "math misread", "figure lost", "solution shown", "API link lost"],
)
def test_a_notebook_page_that_lost_its_math_figures_solutions_or_api_links_is_named(
    small_site, old, new, message
):
    root, site = small_site
    page = site / "notebooks" / "00_test.html"
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new))
    assert message in problems(root, site)


def test_missing_mathjax_is_named(small_site):
    root, site = small_site
    shutil.rmtree(site / "_static" / "mathjax")
    assert "_static/mathjax/ has no MathJax" in problems(root, site)


# --------------------------------------------------------------------------- make targets, README, workflow


def test_make_book_builds_with_the_module_and_book_check_installs_debians_chromium():
    assert ".venv/bin/python -m minirec.course.book --out build/book" in make_dry_run("book")
    check = "\n".join(make_dry_run("book-check"))
    assert "apt-get install -y --no-install-recommends chromium" in check
    assert "--check-only --screenshots build/book-shots" in check
    assert "playwright" not in check and "pyppeteer" not in check


def test_readme_says_how_to_build_check_and_publish_the_book():
    readme = (REPO_ROOT / "README.md").read_text()
    for phrase in ("make book", "make book-check", "build/book/", "build/book-shots/", "GitHub Pages"):
        assert phrase in readme, phrase
    workflow = yaml.safe_load((REPO_ROOT / "docs" / "github-pages-book.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert any("make book" in step.get("run", "") for step in steps)
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "build/book"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    assert workflow["permissions"]["pages"] == "write"


# --------------------------------------------------------------------------- the real build, slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "site"
    report = book.build_book(out)
    return out, report


@pytest.mark.slow
def test_the_book_builds_without_warnings_and_passes_every_check(built):
    out, report = built
    assert (out / "index.html").is_file()
    for path in NOTEBOOKS:  # the download button hands out the committed notebook
        assert (out / "_sources" / "notebooks" / path.name).read_bytes() == path.read_bytes()
    assert set(report.notebooks) == {path.stem for path in NOTEBOOKS}
    for name, found in report.notebooks.items():
        assert found["math"] > 0 and found["figures"] > 0, (name, found)
        assert found["collapsed solutions"] >= 3 and found["API links"] > 0, (name, found)
    assert report.images_checked >= sum(found["figures"] for found in report.notebooks.values())


@pytest.mark.slow
def test_the_landing_page_is_the_readme_opening_with_every_notebook_in_order(built):
    out, _ = built
    index = (out / "index.html").read_text(encoding="utf-8")
    for phrase in ("Quick start", "binary codes", "The notebooks", "lands in", "Notebooks, in reading order"):
        assert phrase in index, phrase
    pages = re.findall(r'href="notebooks/(\d\d_\w+)\.html"', index)
    assert list(dict.fromkeys(pages)) == [path.stem for path in NOTEBOOKS]
    for page in ("results.html", "data.html", "teaching.html", "architecture.html", "api/index.html"):
        assert f'href="{page}"' in index, page


@pytest.mark.slow
def test_notebook_06_carries_its_equations_figures_and_mathjax(built):
    out, _ = built
    page = (out / "notebooks" / "06_attention_fusion.html").read_text(encoding="utf-8")
    assert '<script defer="defer" src="../_static/mathjax/tex-svg-full.js' in page
    assert "\\operatorname{softmax}" in page and page.count('<img alt="_images/') + page.count("<img ") >= 2
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page  # nothing fetched from the network


@pytest.mark.slow
def test_the_data_teaching_and_api_pages_carry_their_sources(built):
    out, _ = built
    data = (out / "data.html").read_text(encoding="utf-8")
    assert "data_samples/fashion" in data and "STYLE_PAIR_POINTS" in data and "PALETTE_BOOST" in data
    assert "Wrong answers score 0" in (out / "teaching.html").read_text(encoding="utf-8")
    results = (out / "results.html").read_text(encoding="utf-8")
    assert "Fashion Hash Net on the sample outfits" in results and "Amazon Beauty" in results
    hashing = (out / "api" / "hashing.html").read_text(encoding="utf-8")
    assert 'id="minirec.hashing.index.HammingIndex"' in hashing and "Multi-index hashing" in hashing


@pytest.mark.slow
def test_a_broken_cross_reference_fails_the_build(tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir()
    shutil.copy2(REPO_ROOT / "book" / "conf.py", stage / "conf.py")
    (stage / "_static").mkdir()
    (stage / "_static" / "minirec.css").write_text("")
    (stage / "index.md").write_text("# Broken\n\nSee {py:mod}`minirec.no_such_module`.\n")
    with pytest.raises(book.BookError, match=r"reference target not found: minirec\.no_such_module"):
        book.run_sphinx(stage, tmp_path / "html")
