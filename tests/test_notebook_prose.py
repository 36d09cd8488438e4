"""Numbers in a notebook's prose are settings, never measurements.

A measured number (an HR@10, an AUC, a speed-up, a share of users) belongs in the output of the
code that measures it: a printed summary, a table, or Markdown rendered from the variables. Typed
into a Markdown cell, it silently goes stale when the data, the seed or a library changes. This
test scans every Markdown cell for measured-looking numbers (decimals, percentages, "10×") and
fails on any that is not a constant of the lesson listed below with its reason, or the number of
an equation the notebook defines with ``\tag{...}`` (so "by (5.1)" is a reference).
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# decimals (0.279, .090), percentages (96 %, 12.5%) and multipliers (10×); sizes such as 3×3 are not
MEASURED_LOOKING = re.compile(r"(?<![\w.,])(\d*\.\d+\s?%?|\d+\s?%|\d+(?:\.\d+)?\s?×(?!\s?\d))")
# what precedes a number that is a reference, not a value: arXiv ids, section numbers
REFERENCE_PREFIXES = (
    "arXiv:",
    "arXiv ",
    "section ",
    "Section ",
    "§",
    "### ",
    "## ",
    "\\tag{",
    "Eq. (",
    "Eq. ",
)

# The constants each notebook's prose may state: settings of the generator, the model or the
# check, and exact arithmetic. Anything measured is printed by the code instead.
CONSTANTS: dict[str, dict[str, str]] = {
    "00_tour": {
        "1.5": "temperature T of the fashion generator",
        "0.25": "chance level of a 4-candidate fill-in-the-blank question",
        "0.5": "routine transition probability of the shopping generator",
        "0.2": "probability spread over the rest of the department (generator)",
        "0.3": "uniform transition probability (generator)",
        "0.05": "probability that a taste is redrawn per purchase (generator)",
        "0.8": "Zipf popularity exponent (generator)",
    },
    "01_feature_extraction": {
        "80%": "BERT masking: share of chosen tokens replaced by [MASK]",
        "10%": "BERT masking: share replaced by a random token / left unchanged",
        "0.02": "smallest accuracy difference the comparison counts",
    },
    "02_sign_relaxation": {},
    "03_matching_block": {"0.01": "standard deviation of the official initialisation"},
    "04_bpr_training": {
        "0.01": "standard deviation of the official initialisation; popularity tie-break weight",
        "0.1": "weight of the visual-semantic loss and its margin (official code)",
    },
    "05_sequential_attention": {},
    "06_attention_fusion": {
        "0.5": "weight of each auxiliary loss; content-expert weight alpha",
        "7.6": "ln 2000, the cross-entropy of a uniform guess over about 2,000 items",
        "0.1": "the auxiliary weight one might borrow from Fashion Hash Net",
        "0.25": "another content-expert weight alpha, in the README",
        "0.75": "another content-expert weight alpha, in the README",
    },
    "07_hamming_speed": {
        "2.5": "GB of 10^7 float32 vectors of 64 dimensions (exact arithmetic)",
        "0.05": "HR of a random ranking, 10/200 (exact arithmetic)",
        "32×": "bytes of a float32 vector over bytes of a packed code (exact arithmetic)",
        "90%": "the recall the two-stage exercise asks for",
    },
    "08_capstone": {
        "0.01": "a hypothetical difference in the advice on seeds",
    },
    "09_beyond_one_machine": {
        "0.05": "probability that clustered_codes flips a bit of a centre (generator setting)",
    },
}


def measured_looking_numbers(markdown: str) -> list[str]:
    """The decimals, percentages and multipliers of ``markdown`` that are not references."""
    found = []
    for match in MEASURED_LOOKING.finditer(markdown):
        before = markdown[max(0, match.start() - 10) : match.start()]
        if not before.endswith(REFERENCE_PREFIXES):
            found.append(re.sub(r"\s", "", match.group(0)))
    return found


def test_the_scan_finds_measurements_and_skips_references():
    text = (
        "HR@10 0.279 (96 % of it, .090), 12× faster; arXiv:2405.17959, section 6.1, 3×3 kernels, 64 bits, "
        "$x \\tag{2.1}$ and Eq. (3.2)"
    )
    assert measured_looking_numbers(text) == ["0.279", "96%", ".090", "12×"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_states_no_measured_numbers(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    equation_numbers = set(re.findall(r"\\tag\{([\d.]+)\}", markdown))  # "(5.1)" refers to \tag{5.1}
    allowed = CONSTANTS.get(path.stem, {}).keys() | equation_numbers
    typed = [
        f"markdown cell {index}: {number}"
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
        for number in measured_looking_numbers("".join(cell["source"]))
        if number not in allowed
    ]
    assert typed == [], (
        f"{path.name}: numbers typed into the prose (print them from the code, or list a constant "
        f"with its reason in CONSTANTS): {typed}"
    )


def test_every_notebook_has_a_constants_entry():
    assert sorted(CONSTANTS) == [p.stem for p in NOTEBOOKS]
