"""Real-catalogue shapes on small generated files: id columns named *ID / *_id / sku / asin, the item
column as the id the item file shares, list-valued cells, several labelled text columns, categories
from several columns, ties that name the options settling them, saved mappings and .zip archives."""
from __future__ import annotations

import json
import zipfile

import pytest

from engine.cli.main import main
from engine.data.dataset import load_dataset
from engine.errors import InputError
from engine.ingest import detect_format, import_files
from engine.ingest.formats import with_mapping
from engine.ingest.mapping_file import load_mapping, mapping_to_dict, save_mapping
from engine.ingest.roles import humanize, id_stem, is_user_id, parse_bracket_list, profile_columns, split_list

WINES = [  # WineID, WineName, Type, Grapes, Harmonize, ABV, Body, Country, Website, Vintages
    ("100001", "Espumante Moscatel", "Sparkling", "['Muscat/Moscato']", "['Pork', 'Rich Fish', 'Shellfish']",
     "7.5", "Medium-bodied", "Brazil", "http://perini.example", "[2020, 2019, 'N.V.']"),
    ("100002", "Ancellotta", "Red", "['Ancellotta']", "['Beef', 'Barbecue']", "12.0", "Full-bodied", "Brazil",
     "http://perini.example", "[2016, 2015]"),
    ("100003", "Assemblage", "Red", "['Merlot', 'Cabernet Sauvignon']", "['Lamb']", "13.5", "Full-bodied",
     "Chile", "", "[2018]"),
]


def _csv_cell(v: str) -> str:
    return f'"{v}"' if "," in v else v


def write_wines(folder, n_users=5, rating_col="Rating", wine_header="WineID"):
    """A small X-Wines: ratings (RatingID, UserID, WineID, Vintage, Rating, Date) and the wines."""
    ratings = folder / "ratings.csv"
    lines = [f"RatingID,UserID,{wine_header},Vintage,{rating_col},Date"]
    rid = 1
    for u in range(n_users):
        for k, w in enumerate(WINES):
            if (u + k) % 3 != 2:
                lines.append(f"{rid},{1000 + u},{w[0]},2015,{1 + (u + k) % 5}.0,2021-11-0{1 + k} 20:52:59")
                rid += 1
    ratings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wines = folder / "wines.csv"
    head = "WineID,WineName,Type,Grapes,Harmonize,ABV,Body,Country,Website,Vintages"
    wines.write_text(head + "\n" + "\n".join(",".join(_csv_cell(c) for c in w) for w in WINES) + "\n",
                     encoding="utf-8")
    return ratings, wines, rid - 1


@pytest.mark.parametrize("name, stem", [
    ("UserID", "user"), ("user_id", "user"), ("customerId", "customer"), ("WineID", "wine"),
    ("product_id", "product"), ("sku", "sku"), ("asin", "asin"), ("movieId", "movie"), ("userid", "user"),
    ("RatingID", "rating"), ("StockCode", "stockcode"), ("Rating", None), ("Date", None), ("valid", None),
    ("Country", None), ("countryCode", None),
])
def test_id_columns_are_recognised_by_name(name, stem):
    assert id_stem(name) == stem


def test_user_id_names():
    assert all(is_user_id(n) for n in ("UserID", "user_id", "customerId", "CustomerID", "reviewerID", "user"))
    assert not any(is_user_id(n) for n in ("WineID", "product_id", "asin", "RatingID"))


@pytest.mark.parametrize("cell, sep, values", [
    ("['Pork', 'Rich Fish', 'Shellfish']", None, ["Pork", "Rich Fish", "Shellfish"]),   # Python-style
    ('["Pork", "Rich Fish"]', None, ["Pork", "Rich Fish"]),                              # JSON array
    ("[2020, 2019, 'N.V.']", None, ["2020", "2019", "N.V."]),
    ("Action|Comedy", "|", ["Action", "Comedy"]),
    ("pork; rich fish ;shellfish", ";", ["pork", "rich fish", "shellfish"]),
    ("[not a list", "|", ["[not a list"]),
    ("plain text, with a comma", None, ["plain text, with a comma"]),
])
def test_list_cells(cell, sep, values):
    assert split_list(cell, sep) == values


def test_bracket_list_rejects_non_lists():
    assert parse_bracket_list("[1 2") is None and parse_bracket_list("{'a': 1}") is None
    assert parse_bracket_list("[]") == []


def test_column_kinds_are_detected(tmp_path):
    _, wines, _ = write_wines(tmp_path)
    det = detect_format([tmp_path / "ratings.csv", wines])
    kinds = {p.name: p.description for p in profile_columns(det.items)}
    assert kinds["WineID"] == "id" and kinds["ABV"] == "number" and kinds["Website"] == "url"
    assert kinds["Grapes"] == "list (Python-style list)" and kinds["Body"] == "text"
    assert kinds["Vintages"] == "list (Python-style list, numbers)"


def test_humanize_labels():
    assert humanize("RegionName") == "region name" and humanize("pairs_with") == "pairs with"
    assert humanize("ABV") == "ABV" and humanize("Grapes") == "grapes"


def test_wine_catalogue_imports_with_no_options(store, tmp_path):
    ratings, wines, n_rows = write_wines(tmp_path)
    det = detect_format([ratings, wines])
    m = det.mapping
    assert (m.user, m.item, m.rating, m.timestamp, m.item_id, m.title) == (
        "UserID", "WineID", "Rating", "Date", "WineID", "WineName")
    assert m.genres == ("Type", "Grapes") and m.genres_label == "Categories"
    assert m.text == ("Type", "Grapes", "Harmonize", "Body", "Country")       # no ids, numbers, links
    s = import_files(store, [ratings, wines], name="wines")
    assert (s.n_users, s.n_items, s.n_interactions) == (5, 3, n_rows)
    ds = load_dataset(store, "wines")
    assert ds.info.genres_label == "Categories"
    k = list(ds.item_ids).index("100003")
    assert ds.titles[k] == "Assemblage"
    assert ds.genres[k] == ("Red", "Merlot", "Cabernet Sauvignon")
    assert ds.descriptions[k] == ("type: Red; grapes: Merlot, Cabernet Sauvignon; harmonize: Lamb; "
                                  "body: Full-bodied; country: Chile")
    assert "grapes: Muscat/Moscato; harmonize: Pork, Rich Fish, Shellfish" in ds.descriptions[
        list(ds.item_ids).index("100001")]
    assert "Merlot" in ds.item_text(k) and "Lamb" in ds.item_text(k)


def test_text_columns_chosen_by_hand(store, tmp_path):
    ratings, wines, _ = write_wines(tmp_path)
    s = import_files(store, [ratings, wines], name="w", mapping={"text": ("ABV", "Harmonize"), "genres": "Type"})
    ds = load_dataset(store, s.dataset_id)
    k = list(ds.item_ids).index("100002")
    assert ds.descriptions[k] == "ABV: 12.0; harmonize: Beef, Barbecue"
    assert ds.genres[k] == ("Red",)


def test_json_arrays_and_separated_lists(store, tmp_path):
    (tmp_path / "events.csv").write_text("user_id,product_id,ts\na,p1,1\nb,p2,2\na,p2,3\n", encoding="utf-8")
    (tmp_path / "products.csv").write_text(
        'product_id,product_name,genres,features,summary\n'
        'p1,Lamp,"[""Home"", ""Light""]",warm; dimmable; LED,A lamp\n'
        'p2,Chair,"[""Home""]",oak; folding,A chair\n', encoding="utf-8")
    det = detect_format([tmp_path / "events.csv", tmp_path / "products.csv"])
    assert (det.mapping.user, det.mapping.item, det.mapping.title) == ("user_id", "product_id", "product_name")
    assert det.mapping.genres == "genres" and det.mapping.genres_label == "Genres"
    assert det.mapping.description == "summary" and det.mapping.text == ("features",)
    s = import_files(store, [tmp_path / "events.csv", tmp_path / "products.csv"], name="shop")
    assert (s.n_users, s.n_items, s.n_interactions, s.rating_min) == (2, 2, 3, None)
    ds = load_dataset(store, "shop")
    assert ds.genres == [("Home", "Light"), ("Home",)]
    assert ds.descriptions == ["A lamp; features: warm, dimmable, LED", "A chair; features: oak, folding"]
    assert ds.info.genres_label == "Genres"


def test_item_columns_of_an_interactions_file_without_item_file(store, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("RatingID,reviewerID,asin,overall,category,feature\n"
                    "1,r1,B01,5,\"['Books', 'Poetry']\",short|signed\n2,r2,B01,4,\"['Books', 'Poetry']\",short|signed\n"
                    "3,r1,B02,3,['Music'],vinyl|boxed\n", encoding="utf-8")
    det = detect_format([path])
    assert (det.mapping.user, det.mapping.item) == ("reviewerID", "asin")    # RatingID is the row's id
    s = import_files(store, [path], name="rev", mapping={"genres": "category", "text": ("feature",)})
    ds = load_dataset(store, "rev")
    assert (s.n_users, s.n_items) == (2, 2)
    assert ds.genres == [("Books", "Poetry"), ("Music",)]
    assert ds.descriptions == ["feature: short, signed", "feature: vinyl, boxed"]


def test_tied_item_columns_say_which_option_settles_them(store, tmp_path):
    (tmp_path / "r.csv").write_text("UserID,WineID,GrapeID,Rating\n1,w1,g1,4\n2,w2,g1,5\n", encoding="utf-8")
    (tmp_path / "w.csv").write_text("WineID,GrapeID,WineName\nw1,g1,A\nw2,g1,B\n", encoding="utf-8")
    det = detect_format([tmp_path / "r.csv", tmp_path / "w.csv"])
    assert det.mapping.item is None and det.ambiguous == (("item", ("WineID", "GrapeID")),)
    with pytest.raises(InputError) as err:
        import_files(store, [tmp_path / "r.csv", tmp_path / "w.csv"])
    assert "WineID or GrapeID" in str(err.value) and "--item COLUMN" in str(err.value)
    assert "r.csv" in str(err.value)
    s = import_files(store, [tmp_path / "r.csv", tmp_path / "w.csv"], mapping={"item": "WineID"})
    assert (s.n_users, s.n_items, s.n_interactions) == (2, 2, 2)


def test_tied_user_columns(store, tmp_path):
    (tmp_path / "r.csv").write_text("UserID,customer_id,sku\n1,c1,s1\n2,c2,s2\n", encoding="utf-8")
    det = detect_format([tmp_path / "r.csv"])
    assert det.mapping.user is None and det.ambiguous == (("user", ("UserID", "customer_id")),)
    assert det.mapping.item == "sku"
    with pytest.raises(InputError, match="UserID or customer_id; choose one with --user COLUMN"):
        import_files(store, [tmp_path / "r.csv"])
    (tmp_path / "n.csv").write_text("user_id,username,sku\n1,ann,s1\n", encoding="utf-8")
    assert detect_format([tmp_path / "n.csv"]).mapping.user == "user_id"     # a name is no id: no tie


def test_saved_mapping_round_trips_json_and_toml(tmp_path):
    ratings, wines, _ = write_wines(tmp_path)
    det = detect_format([ratings, wines])
    m = with_mapping(det, {"text": ("Grapes",), "rating": None}).mapping
    save_mapping(tmp_path / "m.json", m)
    again = with_mapping(det, load_mapping(tmp_path / "m.json")).mapping
    assert again == m and again.rating is None           # a saved "no rating" is not re-detected
    (tmp_path / "m.toml").write_text('user = "UserID"\nitem = "WineID"\ntext = ["Body", "Country"]\n'
                                     'genres = ["Type"]\n[[exclude]]\ncolumn = "Rating"\nop = "lt"\n'
                                     'value = "2"\nreason = "low"\n', encoding="utf-8")
    toml = with_mapping(det, load_mapping(tmp_path / "m.toml")).mapping
    assert toml.text == ("Body", "Country") and toml.genres == ("Type",) and toml.exclude[0].reason == "low"
    assert mapping_to_dict(toml)["text"] == ["Body", "Country"]


def test_bad_mapping_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"user": "UserID",\n "colour": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="bad.json: unknown mapping key"):
        load_mapping(bad)
    bad.write_text('{"user": \n', encoding="utf-8")
    with pytest.raises(InputError, match="bad.json, line 2"):
        load_mapping(bad)


def test_cli_text_genres_and_mapping_files(tmp_path, capsys):
    ratings, wines, n_rows = write_wines(tmp_path)
    db = str(tmp_path / "cli.db")
    saved = tmp_path / "wine-mapping.json"
    code = main(["--db", db, "import", str(ratings), str(wines), "--name", "a", "--text", "Grapes", "--text", "ABV",
                 "--genres", "Type", "--genres-label", "Wine types", "--save-mapping", str(saved)])
    assert code == 0 and f"interactions {n_rows}" in capsys.readouterr().out
    assert json.loads(saved.read_text())["text"] == ["Grapes", "ABV"]
    assert main(["--db", db, "import", str(ratings), str(wines), "--name", "b", "--mapping", str(saved)]) == 0
    from engine.store import open_store
    st = open_store(db)
    try:
        a, b = load_dataset(st, "a"), load_dataset(st, "b")
    finally:
        st.close()
    assert a.descriptions == b.descriptions and a.descriptions[0] == "grapes: Muscat/Moscato; ABV: 7.5"
    assert a.genres[0] == ("Sparkling",) and b.info.genres_label == "Wine types"


def test_cli_error_names_the_settling_option(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("UserID,customer_id,sku\n1,c1,s1\n", encoding="utf-8")
    code = main(["--db", str(tmp_path / "x.db"), "import", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert code != 0 and "--user COLUMN" in err and "customer_id" in err


def test_zip_archive_stands_for_its_files(store, tmp_path):
    ratings, wines, n_rows = write_wines(tmp_path)
    archive = tmp_path / "wines.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(wines, "data/wines.csv")          # listed first but smaller: the ratings still come first
        zf.write(ratings, "data/ratings.csv")
        zf.writestr("__MACOSX/._ratings.csv", b"\x00\x01")
    det = detect_format([archive])
    assert [p.split("/")[-1] for p in det.paths] == ["ratings.csv", "wines.csv"]
    s = import_files(store, [archive], name="zipped")
    assert (s.n_users, s.n_items, s.n_interactions) == (5, 3, n_rows)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    with pytest.raises(InputError, match="bad.zip: is not a valid zip archive"):
        detect_format([bad])


def test_movielens_style_mapping_is_unchanged(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.0,100\n", encoding="utf-8")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n10,Heat (1995),Action|Crime\n", encoding="utf-8")
    m = detect_format([tmp_path / "ratings.csv", tmp_path / "movies.csv"]).mapping
    assert (m.item_id, m.title, m.genres, m.text, m.genres_label) == ("movieId", "title", "genres", (), "Genres")


def test_rating_and_time_from_names_and_content(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("reviewerID,asin,user_rating,reviewed_on,helpful_votes\n"
                    "r1,B01,5,2019-03-01,2\nr2,B02,3,2019-03-02 10:00,0\n", encoding="utf-8")
    m = detect_format([path]).mapping
    assert (m.user, m.item, m.rating, m.timestamp) == ("reviewerID", "asin", "user_rating", "reviewed_on")
