"""Help ▸ Quick guide (issue 22): what the views, the slider, the heatmap and the frontier mean, and every
keyboard shortcut, read from the app's own actions so the list is always true; plus where the docs are."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

DOCS = Path(__file__).resolve().parents[2] / "docs"

TOPICS = (
    ("Datasets", "Import interactions (File ▸ Import data, or drop files on the window); the view shows the "
                 "counts, the rating histogram, the long tails and the categories."),
    ("Train", "Fit the fast baselines (seconds) or train the LSTM two-tower model (in a separate process, "
              "with live loss and validation curves; Cancel keeps nothing). Right-click a run to build or "
              "remove its ANN index, export its record, compare runs or delete one."),
    ("Explore", "Pick a run (top) and a user: their history, the ranked list with reasons, the similarity "
                "heatmap of the list, the list's metrics and the frontier. A run that finishes meanwhile is "
                "offered, never switched to."),
    ("The diversity slider", "0 is the model's own order; moving right re-ranks the top 100 candidates "
                             "(MMR, marginal ILD, DPP or calibrated) to trade score for variety. \"Re-rank in\" "
                             "says what counts as alike: the model's vectors, the categories, meaning, or the "
                             "text; auto is the space this run's frontier chose on half of its test users. ◆ "
                             "marks an item promoted for diversity."),
    ("The heatmap", "How similar each pair of listed items is in the chosen space (the model's vectors, the "
                    "items' text, their categories, or meaning by the language model). Click a cell for why."),
    ("The frontier", "Accuracy (NDCG@10 on held-out interactions) against category diversity (ILD@10) as "
                     "the slider goes from 0 to 1, over many users, one curve per re-ranking space; the bold "
                     "curve is the slider's space and the dot is where your slider is."),
    ("Search and plain words", "Search by title, words, attributes (\"full-bodied Portuguese red\") or "
                               "meaning. Tell the list what you want in a sentence (\"no horror, more like "
                               "Alien\"): it shows what it understood before applying, and one Undo takes "
                               "the whole sentence back."),
)


def guide_html(actions) -> str:
    """The guide as HTML: the topics, then the shortcuts of `actions` (an llmrec_gui.actions.Actions)."""
    parts = ["<h2>llmrec quick guide</h2>"]
    for title, text in TOPICS:
        parts.append(f"<p><b>{html.escape(title)}.</b> {html.escape(text)}</p>")
    rows = []
    for a in vars(actions).values():
        key = getattr(a, "shortcut", lambda: None)()
        if key is not None and not key.isEmpty():
            name = a.text().replace("&", "").rstrip("…")
            rows.append(f"<tr><td><code>{html.escape(key.toString())}</code></td><td>{html.escape(name)}</td></tr>")
    parts.append("<h3>Keys</h3><table cellspacing='4'>" + "".join(rows) + "</table>")
    where = DOCS if DOCS.is_dir() else None
    link = (f"<a href='{where.as_uri()}'>{html.escape(str(where))}</a>" if where is not None
            else "the docs/ folder of the llmrec repository")
    parts.append(f"<h3>More</h3><p>How it is built and evaluated: {link} (README.md there is the index; "
                 "evaluation.md defines every metric).</p>")
    return "".join(parts)


class GuideDialog(QDialog):
    def __init__(self, actions, parent=None):
        super().__init__(parent)
        self.setWindowTitle("llmrec quick guide")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(guide_html(actions))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(640, 620)
