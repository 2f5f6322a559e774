"""Language on top of the encoder: semantic and title search (search.py, titles.py), feedback said in plain
words (plain_words.py)."""
