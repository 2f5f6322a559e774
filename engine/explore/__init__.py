"""One user's live list and what it shows: stored feedback (feedback.py), the live list (live_list.py),
re-ranking (rerank.py), similarity spaces (similarity.py), explanations (explain.py), the accuracy-diversity
frontier (frontier.py), the user picker's orders (user_search.py)."""
