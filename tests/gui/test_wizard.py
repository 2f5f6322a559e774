"""The import wizard end to end: files -> preview -> mapping -> validation -> import, and a bad file
whose error (file and line) shows on the validation page with nothing imported."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

DATA = Path(__file__).resolve().parents[1] / "data"


def _datasets(store):
    from engine.storage import repository as repo
    with store.session() as s:
        return repo.list_datasets(s)


@pytest.fixture
def wizard_for(qtbot, store):
    def make(paths):
        from llmrec_gui.wizard.import_wizard import ImportWizard
        wiz = ImportWizard(store, paths=[str(p) for p in paths])
        qtbot.addWidget(wiz)
        wiz.show()
        return wiz
    yield make
    from llmrec_gui import workers
    workers.wait_all(30000)


def _next(wiz, page_attr):
    wiz.next()
    assert wiz.currentPage() is getattr(wiz, page_attr)


def _validate(qtbot, wiz, timeout=30000):
    """Go on to the validation page and wait for its dry run to finish (passed or failed)."""
    _next(wiz, "validate_page")
    qtbot.waitUntil(lambda: bool(wiz.validate_page.ok or wiz.validate_page.error is not None), timeout=timeout)


@pytest.mark.parametrize("files, fmt, n_items_min", [
    (["ml-1m/ratings.dat", "ml-1m/movies.dat"], "movielens", 1),
    (["ml-100k/u.data", "ml-100k/u.item"], "movielens-100k", 1),
    (["generic/events.tsv", "generic/items.csv"], "csv", 1),
    (["tweetings/ratings.dat", "tweetings/movies.dat"], "movietweetings", 1),
    (["ml-latest/ratings.csv", "ml-latest/movies.csv", "ml-latest/tags.csv"], "movielens", 1),
])
def test_wizard_imports_known_formats(qtbot, store, wizard_for, files, fmt, n_items_min):
    wiz = wizard_for([DATA / f for f in files])
    assert wiz.files_page.isComplete()
    _next(wiz, "preview_page")
    assert wiz.detected.name == fmt
    table = wiz.preview_page.tabs.widget(0)
    assert table.rowCount() > 0 and table.columnCount() >= 2
    _next(wiz, "mapping_page")
    assert wiz.mapping_page.isComplete()
    assert wiz.mapping_page.combos["user"].currentData() is not None
    _validate(qtbot, wiz)
    assert wiz.validate_page.ok, wiz.validate_page.error
    assert _datasets(store) == []                     # the dry run wrote nothing
    with qtbot.waitSignal(wiz.imported, timeout=30000) as sig:
        _next(wiz, "import_page")
    summary = sig.args[0]
    assert summary.n_interactions > 0 and summary.n_items >= n_items_min
    assert "Skipped rows" in wiz.import_page.result.text()
    ds = _datasets(store)
    assert [d.name for d in ds] == [summary.name] and ds[0].n_interactions == summary.n_interactions
    assert wiz.button(QWizard.WizardButton.FinishButton).isEnabled()


def test_wizard_mapping_changes_what_is_imported(qtbot, store, wizard_for, tmp_path):
    csv = tmp_path / "plays.csv"
    csv.write_text("who,what,when\nu1,a,1\nu1,b,2\nu2,a,3\n", encoding="utf-8")
    wiz = wizard_for([csv])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    page = wiz.mapping_page
    page.combos["user"].setCurrentIndex(page.combos["user"].findData("who"))
    page.combos["item"].setCurrentIndex(page.combos["item"].findData("what"))
    page.combos["timestamp"].setCurrentIndex(page.combos["timestamp"].findData("when"))
    assert page.isComplete()
    page.implicit.setChecked(True)
    _validate(qtbot, wiz)
    assert wiz.validate_page.ok, wiz.validate_page.error
    with qtbot.waitSignal(wiz.imported, timeout=30000) as sig:
        _next(wiz, "import_page")
    s = sig.args[0]
    assert (s.n_users, s.n_items, s.n_interactions, s.rating_min) == (2, 2, 3, None)


def test_wizard_shows_bad_file_error_and_imports_nothing(qtbot, store, wizard_for, tmp_path):
    bad = tmp_path / "ratings.csv"
    bad.write_text("user,item,rating,timestamp\nu1,i1,5,100\nu2,i1,five,200\n", encoding="utf-8")
    wiz = wizard_for([bad])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    _validate(qtbot, wiz)
    assert not wiz.validate_page.ok
    text = wiz.validate_page.result.text()
    assert "ratings.csv" in text and "line 3" in text and "Nothing was imported" in text
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    assert _datasets(store) == []


def test_files_page_reports_missing_file(qtbot, wizard_for, tmp_path):
    wiz = wizard_for([tmp_path / "nope.csv"])
    wiz.next()
    assert wiz.currentPage() is wiz.files_page
    assert "no such file" in wiz.files_page.error.text()


def test_wizard_skip_rules_for_dirty_retail_data(qtbot, store, wizard_for):
    """Online-retail style data: rows without a customer and cancellations are skipped and counted."""
    wiz = wizard_for([DATA / "generic" / "retail.csv"])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    page = wiz.mapping_page
    page.rules.setPlainText("bad rule without operator")
    wiz.next()
    assert wiz.currentPage() is page and "cannot read the exclude rule" in page.rules_error.text()
    page.skip_user.setChecked(True)
    page.rules.setPlainText("cancellation:InvoiceNo^=C")
    _validate(qtbot, wiz)
    assert wiz.validate_page.ok, wiz.validate_page.error
    with qtbot.waitSignal(wiz.imported, timeout=30000) as sig:
        _next(wiz, "import_page")
    s = sig.args[0]
    assert s.rating_min is None and s.n_interactions > 0
    assert "cancellation" in s.skipped and sum(s.skipped.values()) >= 2
    assert "cancellation" in wiz.import_page.result.text()


def test_cancel_import_leaves_nothing(qtbot, store, wizard_for, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8") as f:
        f.write("user,item,rating,timestamp\n")
        for r in range(300_000):
            f.write(f"u{r % 5000},i{(r * 7) % 3000},{1 + r % 5},{1_600_000_000 + r}\n")
    wiz = wizard_for([big])
    for page in ("preview_page", "mapping_page"):
        _next(wiz, page)
    _validate(qtbot, wiz, timeout=60000)
    assert wiz.validate_page.ok, wiz.validate_page.error
    imp = wiz.import_page
    with qtbot.waitSignal(imp.finished, timeout=60000) as sig:
        _next(wiz, "import_page")
        qtbot.waitUntil(lambda: imp.bar.value() > 0 or imp.done, timeout=30000)
        imp.cancel_button.click()
    assert sig.args == [False], imp.result.text()
    assert "nothing was imported" in imp.result.text()
    assert _datasets(store) == []


def test_wizard_preview_names_roles_folder_and_last_folder_and_none_explained(qtbot, store, wizard_for, tmp_path):
    """The preview's headers say what was detected; a folder can be chosen and is remembered;
    "(none)" says what it means in the list itself."""
    from llmrec_gui.settings import make_settings
    from llmrec_gui.wizard.import_wizard import ImportWizard
    settings = make_settings(str(tmp_path / "w.ini"))
    wiz = ImportWizard(store, paths=[], settings=settings)
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.files_page
    asked = []
    page.ask_folder = lambda start: asked.append(start) or str(DATA / "ml-100k")
    page._add_folder()
    assert page.paths() == [str(DATA / "ml-100k")] and asked == [""]
    assert settings.value("import/last_folder") == str(DATA / "ml-100k")
    page.ask_files = lambda start: asked.append(start) or []
    page._add()
    assert asked[-1] == str(DATA / "ml-100k")                    # the last folder is where the dialog opens
    _next(wiz, "preview_page")
    table = wiz.preview_page.findChild(__import__("PySide6.QtWidgets", fromlist=["QTableWidget"]).QTableWidget,
                                       "preview-interactions")
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["user", "item", "rating", "timestamp"]
    items = wiz.preview_page.tabs.widget(1)
    item_headers = [items.horizontalHeaderItem(c).text() for c in range(items.columnCount())]
    assert item_headers[:2] == ["item id", "title"] and any(h.startswith("genre: ") for h in item_headers)
    _next(wiz, "mapping_page")
    genres = wiz.mapping_page.combos["genres"]
    assert genres.itemData(0) is None and "no genres" in genres.itemText(0)
    rating = wiz.mapping_page.combos["rating"]
    assert "implicit" in rating.itemText(0)
