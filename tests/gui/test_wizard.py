"""The import wizard end to end: files -> preview -> mapping -> validation -> import, and a bad file
whose error (file and line) shows on the validation page with nothing imported."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

DATA = Path(__file__).resolve().parents[1] / "data"


def _datasets(store):
    from engine.store import repository as repo
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
    rating = wiz.mapping_page.combos["rating"]
    assert rating.itemData(0) is None and "implicit" in rating.itemText(0)
    assert "file order" in wiz.mapping_page.combos["timestamp"].itemText(0)


def _wine_files(tmp_path):
    from tests.engine.test_ingest_catalogue import write_wines
    ratings, wines, n_rows = write_wines(tmp_path)
    return ratings, wines, n_rows


def test_wizard_catalogue_text_columns_with_live_preview(qtbot, store, wizard_for, tmp_path):
    """Id columns named *ID, list cells, several text columns: only the text ticks are touched."""
    from engine.data.dataset import load_dataset
    ratings, wines, n_rows = _wine_files(tmp_path)
    wiz = wizard_for([ratings, wines])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    page = wiz.mapping_page
    assert page.isComplete() and page.combos["item"].currentData() == "WineID"
    assert page.genre_checks["Type"].isChecked() and page.genre_checks["Grapes"].isChecked()
    assert page.genres_label.text() == "Categories"
    none = page.combos["description"].currentText()     # no description column, but ticked text columns
    assert none.startswith("(none)") and "only the title" not in none and "ticked text columns" in none
    table = page.columns_table
    kinds = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert kinds["Grapes"] == "list (Python-style list)" and kinds["ABV"] == "number"
    preview = page.preview.toPlainText()
    assert "Espumante Moscatel" in preview and "harmonize: Pork, Rich Fish, Shellfish" in preview
    assert "ABV: 7.5" not in preview
    page.text_checks["ABV"].setChecked(True)          # the live preview follows the ticks
    page.text_checks["Harmonize"].setChecked(False)
    preview = page.preview.toPlainText()
    assert "ABV: 7.5" in preview and "harmonize" not in preview
    _validate(qtbot, wiz)
    assert wiz.validate_page.ok, wiz.validate_page.error
    with qtbot.waitSignal(wiz.imported, timeout=30000) as sig:
        _next(wiz, "import_page")
    s = sig.args[0]
    assert (s.n_users, s.n_items, s.n_interactions) == (5, 3, n_rows)
    ds = load_dataset(store, s.dataset_id)
    k = list(ds.item_ids).index("100001")
    assert ds.descriptions[k] == ("type: Sparkling; grapes: Muscat/Moscato; ABV: 7.5; body: Medium-bodied; "
                                  "country: Brazil")
    assert ds.genres[k] == ("Sparkling", "Muscat/Moscato") and ds.info.genres_label == "Categories"


def test_wizard_saves_and_loads_a_mapping(qtbot, wizard_for, tmp_path):
    import json
    ratings, wines, _ = _wine_files(tmp_path)
    wiz = wizard_for([ratings, wines])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    page = wiz.mapping_page
    page.text_checks["Country"].setChecked(False)
    page.genre_checks["Grapes"].setChecked(False)
    assert page.save_mapping_to(str(tmp_path / "m.json"))
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["text"] == ["Type", "Grapes", "Harmonize", "Body"] and saved["genres"] == "Type"
    page.text_checks["Body"].setChecked(False)
    assert page.load_mapping_from(str(tmp_path / "m.json"))
    assert page.text_checks["Body"].isChecked() and not page.text_checks["Country"].isChecked()
    assert not page.genre_checks["Grapes"].isChecked()
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert not page.load_mapping_from(str(tmp_path / "bad.json"))
    assert "bad.json" in page.mapping_error.text()


def test_wizard_asks_when_two_columns_could_be_the_item(qtbot, store, wizard_for, tmp_path):
    (tmp_path / "r.csv").write_text("UserID,WineID,GrapeID,Rating\n1,w1,g1,4\n2,w2,g1,5\n", encoding="utf-8")
    (tmp_path / "w.csv").write_text("WineID,GrapeID,WineName\nw1,g1,A\nw2,g1,B\n", encoding="utf-8")
    wiz = wizard_for([tmp_path / "r.csv", tmp_path / "w.csv"])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    page = wiz.mapping_page
    ask = page.findChild(type(page.mapping_error), "ask-item")
    assert ask is not None and "WineID or GrapeID" in ask.text()
    assert not page.isComplete()
    page.combos["item"].setCurrentIndex(page.combos["item"].findData("WineID"))
    assert page.isComplete()
    _validate(qtbot, wiz)
    assert wiz.validate_page.ok, wiz.validate_page.error


def test_wizard_imports_xwines_untouched(qtbot, store, wizard_for, tmp_path):
    """The real X-Wines files through the wizard with nothing touched (skipped without ../shared/data)."""
    import zipfile

    from engine.data.dataset import load_dataset
    from tests.conftest import shared_data_or_skip
    archive = shared_data_or_skip("x-wines-slim", "XWines_Slim_1K_wines_150K_ratings.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path)
    wiz = wizard_for([tmp_path / "XWines_Slim_150K_ratings.csv", tmp_path / "XWines_Slim_1K_wines.csv"])
    _next(wiz, "preview_page")
    _next(wiz, "mapping_page")
    _validate(qtbot, wiz, timeout=120000)
    assert wiz.validate_page.ok, wiz.validate_page.error
    with qtbot.waitSignal(wiz.imported, timeout=120000) as sig:
        _next(wiz, "import_page")
    s = sig.args[0]
    assert (s.n_users, s.n_items, s.n_interactions) == (10_561, 1_007, 150_000)
    ds = load_dataset(store, s.dataset_id)
    assert all("grapes: " in d and "harmonize: " in d for d in ds.descriptions)
